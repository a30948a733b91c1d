// Quantizing the activations x per 32-value block, once per matmul. The same
// code runs for every path, so all paths see identical int8 activations and
// their integer dot products can be compared exactly.
#include <algorithm>
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
}  // namespace

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
}

void QuantizedActivations::quantize_vectors(const float* x, int64_t ldx, int b0, int b1) {
  const int64_t cols = cols_;
  const int64_t nblocks = cols / 32;
  for (int b = b0; b < b1; b++) {
    for (int64_t i = 0; i < nblocks; i++) {
      const float* v = x + b * ldx + i * 32;
      int8_t* q = q_.data() + b * cols + i * 32;
      float amax = 0.0f;
      // std::max, not std::fmax (a libm call per value): the same result, since amax is never NaN.
      for (int j = 0; j < 32; j++) amax = std::max(amax, std::fabs(v[j]));
      const float d = amax / 127;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      int32_t sum = 0;
      for (int j = 0; j < 32; j++) {
        int32_t c = round_even(v[j] * id);
        c = c > 127 ? 127 : (c < -127 ? -127 : c);  // only non-finite input gets here
        q[j] = static_cast<int8_t>(c);
        sum += c;
      }
      const int64_t k = b * nblocks + i;
      d_[k] = d;
      sum_[k] = sum;
      dsum_[k] = d * static_cast<float>(sum);
    }
  }
}

}  // namespace qes
