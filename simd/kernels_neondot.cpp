// AArch64 kernels with the ARMv8.2 dot product (SDOT: four int8 products
// summed into each int32 lane). This unit alone is built with
// -march=armv8.2-a+dotprod; dispatch calls it only when HWCAP reports asimddp.
// The bodies are included inside namespace qes::simd::neondot so that nothing
// collides with kernels_neon.cpp's copies.
#include <arm_neon.h>

#include <cstring>

#include "kernels.hpp"

#if !defined(__ARM_FEATURE_DOTPROD)
#error "kernels_neondot.cpp needs -march=armv8.2-a+dotprod"
#endif

namespace qes::simd::neondot {

#include "neon_common.inl"

inline int32x4_t block_dot(int32x4_t acc, int8x16_t w_lo, int8x16_t w_hi, int8x16_t x_lo, int8x16_t x_hi) {
  return vdotq_s32(vdotq_s32(acc, w_lo, x_lo), w_hi, x_hi);
}

#include "neon_kernels_body.inl"

}  // namespace qes::simd::neondot

namespace qes::simd {
namespace {
constinit const KernelTable kNeonDotTable = neondot::make_table(Isa::NeonDot);
}  // namespace
const KernelTable& kernels_neondot() { return kNeonDotTable; }
}  // namespace qes::simd
