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
namespace {
// This body's 4x4 tile with Q4_1's float corrections runs at half the AVX2
// tile's speed (epyc2, 1 thread, Q4_1 896x896 batch 64: 2968 us against 1773;
// 4096x4096: 63361 against 30331). Both equal the scalar reference bit for
// bit, so batches beyond this body's GEMV rows take the AVX2 kernel.
void gemm_q4_1(const QuantMatrix& w, int64_t r0, int64_t r1, const ActView& x, float* y, int64_t ldy) {
  static const QuantKernel avx2_gemm = kernels_avx2().gemm[static_cast<int>(QType::Q4_1)];
  if (x.nb <= avx512::kBT)
    avx512::gemm_quant<QType::Q4_1>(w, r0, r1, x, y, ldy);
  else
    avx2_gemm(w, r0, r1, x, y, ldy);
}
}  // namespace

const KernelTable& kernels_avx512() {
  static const KernelTable table = [] {
    KernelTable t = avx512::make_table(Isa::Avx512);
    t.gemm[static_cast<int>(QType::Q4_1)] = gemm_q4_1;
    return t;
  }();
  return table;
}
}  // namespace qes::simd
