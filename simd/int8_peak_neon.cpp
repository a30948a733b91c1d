// NEON without dot product: vmull_s8 (8 products into i16) then vpadalq_s16
// (pairwise add into i32), as the NEON kernels do; 16 MACs per pair of vmull.
#include <arm_neon.h>

#include "int8_peak.hpp"

namespace qes::simd {

int64_t int8_peak_loop_neon(int64_t iterations, int32_t* sink) {
  int8x16_t a = vdupq_n_s8(3), b = vdupq_n_s8(5);
  int32x4_t c[8];
  for (auto& v : c) v = vdupq_n_s32(0);
  for (int64_t i = 0; i < iterations; ++i) {
    for (int j = 0; j < 8; ++j) {
      int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
      int16x8_t hi = vmull_s8(vget_high_s8(a), vget_high_s8(b));
      c[j] = vpadalq_s16(vpadalq_s16(c[j], lo), hi);
    }
    __asm__ volatile("" : "+w"(a));
  }
  int32x4_t s = c[0];
  for (int j = 1; j < 8; ++j) s = vaddq_s32(s, c[j]);
  *sink += vgetq_lane_s32(s, 0) + vgetq_lane_s32(s, 1) + vgetq_lane_s32(s, 2) + vgetq_lane_s32(s, 3);
  return iterations * 8 * 16;
}

}  // namespace qes::simd
