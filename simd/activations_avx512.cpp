// The activation quantizer compiled with AVX-512 F/BW/VL flags (simd/CMakeLists.txt):
// the same loops as activations.cpp's, vectorized wider.
#include <cstdint>
#include <cstring>

#include "quantize_blocks.hpp"

namespace qes::simd::acts_avx512 {
#include "quantize_blocks.inl"
}  // namespace qes::simd::acts_avx512
