// AVX-512 F/BW/VL kernels. This file alone is compiled with
// -mavx512f -mavx512bw -mavx512vl (simd/CMakeLists.txt); the shared bodies are
// included inside namespace qes::simd::avx512 so nothing collides with the
// other paths' copies.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels.hpp"

namespace qes::simd::avx512 {
using simd::FType;
using simd::QType;
#define QES_X86_VNNI 0
#include "x86_avx512_helpers.inl"
#include "x86_quant_body.inl"
#include "x86_float_body.inl"
#undef QES_X86_VNNI
}  // namespace qes::simd::avx512

namespace qes::simd {
const KernelTable& kernels_avx512() {
  static const KernelTable table = avx512::make_table(Isa::Avx512);
  return table;
}
}  // namespace qes::simd
