// NEON dot product (armv8.2 sdot): 16 int8 multiply-accumulates into 4 i32 lanes.
#include <arm_neon.h>

#include "int8_peak.hpp"

namespace qes::simd {

int64_t int8_peak_loop_neondot(int64_t iterations, int32_t* sink) {
  int8x16_t a = vdupq_n_s8(3), b = vdupq_n_s8(5);
  int32x4_t c[8];
  for (auto& v : c) v = vdupq_n_s32(0);
  for (int64_t i = 0; i < iterations; ++i) {
    for (int j = 0; j < 8; ++j) c[j] = vdotq_s32(c[j], a, b);
    __asm__ volatile("" : "+w"(a));
  }
  int32x4_t s = c[0];
  for (int j = 1; j < 8; ++j) s = vaddq_s32(s, c[j]);
  *sink += vgetq_lane_s32(s, 0) + vgetq_lane_s32(s, 1) + vgetq_lane_s32(s, 2) + vgetq_lane_s32(s, 3);
  return iterations * 8 * 16;
}

}  // namespace qes::simd
