// fp16 and bf16 conversions, bit-exact with ggml's reference conversions
// (IEEE round to nearest, ties to even; NaN stays a quiet NaN).
#include <cstring>

#include "qes/quant.hpp"

namespace qes {

namespace {
uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
// value >> shift, rounded to nearest with ties to even.
uint32_t shift_round_even(uint32_t value, int shift) {
  if (shift == 0) return value;
  if (shift > 31) return 0;
  const uint32_t kept = value >> shift;
  const uint32_t rest = value & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  return kept + ((rest > half || (rest == half && (kept & 1))) ? 1 : 0);
}
}  // namespace

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) return bits_float(sign | 0x7f800000 | (mant << 13));  // inf / NaN
  if (exp != 0) return bits_float(sign | ((exp + 112) << 23) | (mant << 13));
  // Zero or subnormal: mant * 2^-24 is exact in float.
  const float v = static_cast<float>(mant) * (1.0f / 16777216.0f);
  return sign ? -v : v;
}

uint16_t fp32_to_fp16(float f) {
  const uint32_t x = float_bits(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7fffffff;
  const uint32_t exp = ax >> 23;
  const uint32_t mant = ax & 0x7fffff;
  if (exp == 0xff) return sign | 0x7c00 | (mant ? (0x200 | (mant >> 13)) : 0);
  if (exp > 142) return sign | 0x7c00;  // >= 2^16: beyond the largest half
  if (exp >= 113) {
    // Normal half. A carry out of the mantissa correctly bumps the exponent
    // (up to infinity for values that round past 65504).
    const uint32_t base = ((exp - 112) << 10) | (mant >> 13);
    const uint32_t rest = mant & 0x1fff;
    return sign | static_cast<uint16_t>(base + ((rest > 0x1000 || (rest == 0x1000 && (base & 1))) ? 1 : 0));
  }
  if (exp == 0) return sign;  // float subnormals are far below the half range
  // Half subnormal: count units of 2^-24. value = (mant|implicit) * 2^(exp-150).
  return sign | static_cast<uint16_t>(shift_round_even(mant | 0x800000, static_cast<int>(126 - exp)));
}

float bf16_to_fp32(uint16_t h) { return bits_float(static_cast<uint32_t>(h) << 16); }

uint16_t fp32_to_bf16(float f) {
  const uint32_t x = float_bits(f);
  if ((x & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((x >> 16) | 0x40);  // quiet NaN
  return static_cast<uint16_t>((x + 0x7fff + ((x >> 16) & 1)) >> 16);
}

}  // namespace qes
