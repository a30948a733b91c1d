// NEON kernels for AArch64 (where NEON is baseline) and armv7 (this unit alone
// is built with -mfpu=neon; dispatch calls it only when HWCAP reports NEON).
// The block dot product widens int8 x int8 to int16 (vmull/vmlal: two
// products of at most 128*127 per lane, no overflow) and pairwise-adds into
// int32 lanes. The bodies are included inside namespace qes::simd::neon so
// that nothing collides with kernels_neondot.cpp's copies.
#include <arm_neon.h>

#include <cstring>

#include "kernels.hpp"

#if !defined(__ARM_NEON)
#error "kernels_neon.cpp needs NEON (armv7: -mfpu=neon -mfloat-abi=hard)"
#endif

namespace qes::simd::neon {

#include "neon_common.inl"

inline int32x4_t block_dot(int32x4_t acc, int8x16_t w_lo, int8x16_t w_hi, int8x16_t x_lo, int8x16_t x_hi) {
  int16x8_t lo = vmull_s8(vget_low_s8(w_lo), vget_low_s8(x_lo));
  lo = vmlal_s8(lo, vget_high_s8(w_lo), vget_high_s8(x_lo));
  int16x8_t hi = vmull_s8(vget_low_s8(w_hi), vget_low_s8(x_hi));
  hi = vmlal_s8(hi, vget_high_s8(w_hi), vget_high_s8(x_hi));
  return pairwise_add_s16(pairwise_add_s16(acc, lo), hi);
}

#include "neon_kernels_body.inl"

}  // namespace qes::simd::neon

namespace qes::simd {
namespace {
constinit const KernelTable kNeonTable = neon::make_table(Isa::Neon);
}  // namespace
const KernelTable& kernels_neon() { return kNeonTable; }
}  // namespace qes::simd
