#pragma once
// The activation quantizer (QuantizedActivations::quantize_vectors) built for
// each x86 vector width: simd/quantize_blocks.inl compiled at the baseline ISA
// (activations.cpp) and with AVX2 / AVX-512 flags (activations_avx2.cpp,
// activations_avx512.cpp). Same bits from each; the wider ones are faster
// (epyc2, 896 values: 0.60 us baseline, 0.18 us AVX-512).
#include <cstdint>

namespace qes::simd {

// Vectors [b0, b1) of x (vector b at x + b*ldx, `cols` floats, a multiple of
// 32) quantized per 32-value block into QuantizedActivations' arrays: int8
// codes at codes + b*cols, and per block (index b*cols/32 + i) its scale, the
// sum of its codes, and scale * sum.
using QuantizeBlocks = void(const float* x, int64_t ldx, int b0, int b1, int64_t cols, int8_t* codes, float* scales,
                            int32_t* sums, float* scaled_sums);
namespace acts_baseline {
QuantizeBlocks quantize_blocks;
}
namespace acts_avx2 {
QuantizeBlocks quantize_blocks;
}
namespace acts_avx512 {
QuantizeBlocks quantize_blocks;
}

}  // namespace qes::simd
