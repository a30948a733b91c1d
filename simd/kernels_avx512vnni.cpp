// AVX-512 F/BW/VL + VNNI (vpdpbusd) kernels. This file alone is compiled with
// -mavx512vnni -mavx512f -mavx512bw -mavx512vl (simd/CMakeLists.txt); the shared bodies are
// included inside namespace qes::simd::avx512vnni so nothing collides with the
// other paths' copies.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>
#include <utility>
#include <vector>

#include "kernels.hpp"

namespace qes::simd::avx512vnni {
using simd::FType;
using simd::QType;
#define QES_X86_VNNI 1
#include "x86_avx512_helpers.inl"
#include "x86_quant_body.inl"
#include "x86_float_body.inl"
#include "x86_row_lanes.inl"
#undef QES_X86_VNNI
}  // namespace qes::simd::avx512vnni

namespace qes::simd {
const KernelTable& kernels_avx512vnni() {
  static const KernelTable table = [] {
    KernelTable t = avx512vnni::make_table(Isa::Avx512Vnni);
    // Q4_0, Q8_0 and Q4_1 use the row-lane kernels (x86_row_lanes.inl) for
    // every batch size; I4 keeps the block-lane body.
    const int q4 = static_cast<int>(QType::Q4_0), q8 = static_cast<int>(QType::Q8_0);
    const int q41 = static_cast<int>(QType::Q4_1);
    t.gemv[q4] = t.gemm[q4] = avx512vnni::rowlanes::gemm<QType::Q4_0>;
    t.gemv[q8] = t.gemm[q8] = avx512vnni::rowlanes::gemm<QType::Q8_0>;
    t.gemv[q41] = t.gemm[q41] = avx512vnni::rowlanes::gemm<QType::Q4_1>;
    return t;
  }();
  return table;
}
}  // namespace qes::simd
