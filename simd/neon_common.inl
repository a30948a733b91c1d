// NEON helpers that differ between AArch64 and armv7 (which lacks vaddvq,
// vfmaq without VFPv4, vcvt_f32_f16 without the fp16 extension, ...).
// Included *inside* the ISA namespace of kernels_neon.cpp / kernels_neondot.cpp,
// so each translation unit has its own copy of every helper (no inline function
// is shared between units built with different flags). Plain functions only:
// no std:: templates in these units, for the same reason.

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int min_int(int a, int b) { return a < b ? a : b; }

// acc + a * b (fused on AArch64; armv7 NEON has only the unfused vmla).
inline float32x4_t mul_add(float32x4_t acc, float32x4_t a, float32x4_t b) {
#if defined(__aarch64__)
  return vfmaq_f32(acc, a, b);
#else
  return vmlaq_f32(acc, a, b);
#endif
}
inline float32x4_t mul_add_n(float32x4_t acc, float32x4_t a, float b) {
#if defined(__aarch64__)
  return vfmaq_n_f32(acc, a, b);
#else
  return vmlaq_n_f32(acc, a, b);
#endif
}

inline float horizontal_sum(float32x4_t v) {
#if defined(__aarch64__)
  return vaddvq_f32(v);
#else
  const float32x2_t pair = vadd_f32(vget_low_f32(v), vget_high_f32(v));
  return vget_lane_f32(vpadd_f32(pair, pair), 0);
#endif
}

inline int32x4_t pairwise_add_s16(int32x4_t acc, int16x8_t v) { return vpadalq_s16(acc, v); }

// Four IEEE halves -> floats, exact for every input.
inline float32x4_t half4_to_float(uint16x4_t h) {
#if defined(__aarch64__)
  return vcvt_f32_f16(vreinterpret_f16_u16(h));
#else
  // No half conversion in plain armv7 NEON: rebuild the float bits. Subnormal
  // halves use an exact int->float conversion and land on normal floats, so
  // NEON's flush-to-zero does not touch them.
  const uint32x4_t wide = vmovl_u16(h);
  const uint32x4_t sign = vshlq_n_u32(vandq_u32(wide, vdupq_n_u32(0x8000)), 16);
  const uint32x4_t magnitude = vandq_u32(wide, vdupq_n_u32(0x7fff));
  const uint32x4_t rebias = vdupq_n_u32(112u << 23);  // (127 - 15) << 23
  uint32x4_t normal = vaddq_u32(vshlq_n_u32(magnitude, 13), rebias);
  const uint32x4_t inf_or_nan = vcgeq_u32(magnitude, vdupq_n_u32(0x7c00));
  normal = vaddq_u32(normal, vandq_u32(inf_or_nan, rebias));
  const uint32x4_t subnormal = vcltq_u32(magnitude, vdupq_n_u32(0x400));
  const float32x4_t subnormal_value = vmulq_n_f32(vcvtq_f32_u32(magnitude), 0x1p-24f);
  const uint32x4_t bits = vbslq_u32(subnormal, vreinterpretq_u32_f32(subnormal_value), normal);
  return vreinterpretq_f32_u32(vorrq_u32(bits, sign));
#endif
}

// bf16 is the upper half of a float.
inline float32x4_t bf16x4_to_float(uint16x4_t h) { return vreinterpretq_f32_u32(vshll_n_u16(h, 16)); }

// One half (a block scale) -> float.
inline float half_to_float(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof h);
#if defined(__aarch64__)
  return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
#else
  return fp16_to_fp32(h);
#endif
}

// The 32 weights of a 4-bit block as bytes 0..15: low nibbles are weights
// 0..15, high nibbles 16..31 (GGUF order).
inline void unpack_nibbles(const uint8_t* qs, uint8x16_t* lo, uint8x16_t* hi) {
  const uint8x16_t packed = vld1q_u8(qs);
  *lo = vandq_u8(packed, vdupq_n_u8(0x0f));
  *hi = vshrq_n_u8(packed, 4);
}
