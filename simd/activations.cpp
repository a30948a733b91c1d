// Quantizing the activations x per 32-value block, once per matmul. The same
// code runs for every path, so all paths see identical int8 activations and
// their integer dot products can be compared exactly.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "qes/matmul.hpp"

namespace qes {

namespace {
// Round to nearest, ties to even, for |v| < 2^22: adding 1.5 * 2^23 pushes the
// fraction out of the float's mantissa. Exact, branch-free, vectorizes (unlike
// a nearbyintf call), and gives the same answer as the SIMD round instructions.
int32_t round_even(float v) {
  const float t = v + 12582912.0f;
  uint32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  return static_cast<int32_t>(bits & 0x7fffff) - 0x400000;
}
std::atomic<uint64_t> g_next_stamp{1};
}  // namespace

QuantizedActivations::QuantizedActivations(const QuantizedActivations& o)
    : cols_(o.cols_), nb_(o.nb_), q_(o.q_), d_(o.d_), sum_(o.sum_), dsum_(o.dsum_) {
  restamp();
}

QuantizedActivations& QuantizedActivations::operator=(const QuantizedActivations& o) {
  cols_ = o.cols_;
  nb_ = o.nb_;
  q_ = o.q_;
  d_ = o.d_;
  sum_ = o.sum_;
  dsum_ = o.dsum_;
  restamp();
  return *this;
}

void QuantizedActivations::restamp() {
  stamp_.store(g_next_stamp.fetch_add(1, std::memory_order_relaxed), std::memory_order_relaxed);
}

void QuantizedActivations::quantize(const float* x, int64_t ldx, int nb, int64_t cols) {
  resize(nb, cols);
  quantize_vectors(x, ldx, 0, nb);
}

void QuantizedActivations::resize(int nb, int64_t cols) {
  if (cols <= 0 || cols % 32 != 0)
    throw std::invalid_argument("activations of " + std::to_string(cols) +
                                " values cannot be quantized per 32-value block");
  if (nb < 1 || nb > kMaxBatch)
    throw std::invalid_argument("batch of " + std::to_string(nb) + " vectors (1.." + std::to_string(kMaxBatch) + ")");
  cols_ = cols;
  nb_ = nb;
  const int64_t nblocks = cols / 32;
  q_.resize(static_cast<size_t>(nb) * cols);
  d_.resize(static_cast<size_t>(nb) * nblocks);
  sum_.resize(d_.size());
  dsum_.resize(d_.size());
  restamp();
}

// Written so that GCC vectorizes it at the baseline ISA (SSE2 on x86-64, NEON
// on AArch64), in three passes over a group of blocks of one vector:
//  1. each block's absolute maximum, taken on the float bits, where it is an
//     integer max (for non-NaN floats, ordering |v| is ordering the bits
//     without the sign); a float max reduction is vectorized only under
//     -ffast-math. NaN bits count as 0, as std::max(amax, NaN) keeps amax.
//  2. the scales d = amax / 127 and their inverses, several blocks per
//     vector division (one block at a time, the two dependent divisions'
//     latency was most of the time);
//  3. the int8 codes and their sums.
// The result is bit for bit that of the plain per-block loop
// (tests/floatops/activations_test.cpp).
void QuantizedActivations::quantize_vectors(const float* x, int64_t ldx, int b0, int b1) {
  constexpr int64_t kGroup = 64;  // blocks per pass
  const int64_t cols = cols_;
  const int64_t nblocks = cols / 32;
  int8_t* const codes = q_.data();
  float* const scales = d_.data();
  int32_t* const sums = sum_.data();
  float* const scaled_sums = dsum_.data();
  for (int b = b0; b < b1; b++) {
    for (int64_t first = 0; first < nblocks; first += kGroup) {
      const int64_t count = std::min(kGroup, nblocks - first);
      const float* __restrict v = x + b * ldx + first * 32;
      int8_t* __restrict q = codes + b * cols + first * 32;
      int32_t amax_bits[kGroup];
      for (int64_t i = 0; i < count; i++) {
        int32_t m = 0;
        for (int j = 0; j < 32; j++) {
          uint32_t bits;
          std::memcpy(&bits, &v[i * 32 + j], sizeof bits);
          const int32_t magnitude = static_cast<int32_t>(bits & 0x7fffffff);
          m = std::max(m, magnitude > 0x7f800000 ? 0 : magnitude);
        }
        amax_bits[i] = m;
      }
      float d[kGroup], id[kGroup];
      for (int64_t i = 0; i < count; i++) {
        float amax;
        std::memcpy(&amax, &amax_bits[i], sizeof amax);
        d[i] = amax / 127;
        const float inverse = 1.0f / (d[i] != 0.0f ? d[i] : 1.0f);  // no division by zero to mask
        id[i] = d[i] != 0.0f ? inverse : 0.0f;
      }
      int32_t sum[kGroup];
      for (int64_t i = 0; i < count; i++) {
        int32_t s = 0;
        for (int j = 0; j < 32; j++) {
          int32_t c = round_even(v[i * 32 + j] * id[i]);
          c = c > 127 ? 127 : (c < -127 ? -127 : c);  // only non-finite input gets here
          q[i * 32 + j] = static_cast<int8_t>(c);
          s += c;
        }
        sum[i] = s;
      }
      const int64_t k0 = b * nblocks + first;
      for (int64_t i = 0; i < count; i++) {
        scales[k0 + i] = d[i];
        sums[k0 + i] = sum[i];
        scaled_sums[k0 + i] = d[i] * static_cast<float>(sum[i]);
      }
    }
  }
  restamp();  // after the writes: threads filling other vectors restamp too
}

}  // namespace qes
