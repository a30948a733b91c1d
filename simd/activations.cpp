// Quantizing the activations x per 32-value block, once per matmul. The same
// code (simd/quantize_blocks.inl, built at up to three vector widths that give
// the same bits) runs for every path, so all paths see identical int8
// activations and their integer dot products can be compared exactly.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "qes/matmul.hpp"
#include "quantize_blocks.hpp"

namespace qes::simd::acts_baseline {
#include "quantize_blocks.inl"
}  // namespace qes::simd::acts_baseline

namespace qes {

namespace {
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

void QuantizedActivations::quantize_vectors(const float* x, int64_t ldx, int b0, int b1) {
  auto with = [&](auto quantize_blocks) {
    quantize_blocks(x, ldx, b0, b1, cols_, q_.data(), d_.data(), sum_.data(), dsum_.data());
  };
  // The widest build the active path allows; every build gives the same bits
  // (simd/quantize_blocks.inl says why).
  switch (active_isa()) {
#ifdef QES_HAVE_ACTS_X86
    case Isa::Avx512:
    case Isa::Avx512Vnni: with(simd::acts_avx512::quantize_blocks); break;
    case Isa::Avx2: with(simd::acts_avx2::quantize_blocks); break;
#endif
    default: with(simd::acts_baseline::quantize_blocks); break;
  }
  restamp();  // after the writes: threads filling other vectors restamp too
}

}  // namespace qes
