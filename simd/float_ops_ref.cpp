// Scalar reference of the float ops: the oracle every vectorized variant is
// tested against (tests/floatops), and the fallback on CPUs without SIMD.
// Plain loops in the order the math is written.
#include <cmath>
#include <cstring>

#include "float_ops_table.hpp"

namespace qes::simd {
namespace {

// IEEE half bits -> float, written out case by case.
float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1f;
  const uint32_t mantissa = h & 0x3ff;
  float magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);  // zero or subnormal
  } else if (exponent == 31) {
    magnitude = mantissa == 0 ? INFINITY : NAN;
  } else {
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400), static_cast<int>(exponent) - 25);
  }
  uint32_t bits;
  std::memcpy(&bits, &magnitude, sizeof bits);
  bits |= sign;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

void rmsnorm(float* out, const float* x, const float* weight, size_t n, float eps) {
  float sum_squares = 0.0f;
  for (size_t i = 0; i < n; i++) sum_squares += x[i] * x[i];
  const float scale = 1.0f / std::sqrt(sum_squares / static_cast<float>(n) + eps);
  for (size_t i = 0; i < n; i++) out[i] = x[i] * scale * weight[i];
}

void rope_apply(float* x, int n_heads, int head_dim, int rot_dim, const float* cos,
                const float* sin, ops::RopeStyle style) {
  const int half = rot_dim / 2;
  for (int h = 0; h < n_heads; h++) {
    float* head = x + static_cast<size_t>(h) * head_dim;
    for (int i = 0; i < half; i++) {
      // The two elements of pair i.
      const int a = style == ops::RopeStyle::Interleaved ? 2 * i : i;
      const int b = style == ops::RopeStyle::Interleaved ? 2 * i + 1 : i + half;
      const float x0 = head[a];
      const float x1 = head[b];
      head[a] = x0 * cos[i] - x1 * sin[i];
      head[b] = x0 * sin[i] + x1 * cos[i];
    }
  }
}

void softmax(float* x, size_t n) {
  float max = x[0];
  for (size_t i = 1; i < n; i++) max = std::fmax(max, x[i]);
  float sum = 0.0f;
  for (size_t i = 0; i < n; i++) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  for (size_t i = 0; i < n; i++) x[i] /= sum;
}

void silu_mul(float* out, const float* a, const float* b, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = a[i] / (1.0f + std::exp(-a[i])) * b[i];
}

void attn_scores_f32(float* scores, const float* q, const float* k, size_t stride,
                     size_t n_keys, size_t head_dim, float scale) {
  for (size_t t = 0; t < n_keys; t++) {
    const float* key = k + t * stride;
    float dot = 0.0f;
    for (size_t d = 0; d < head_dim; d++) dot += q[d] * key[d];
    scores[t] = dot * scale;
  }
}

void attn_scores_f16(float* scores, const float* q, const uint16_t* k, size_t stride,
                     size_t n_keys, size_t head_dim, float scale) {
  for (size_t t = 0; t < n_keys; t++) {
    const uint16_t* key = k + t * stride;
    float dot = 0.0f;
    for (size_t d = 0; d < head_dim; d++) dot += q[d] * half_to_float(key[d]);
    scores[t] = dot * scale;
  }
}

void attn_weighted_sum_f32(float* out, const float* w, const float* v, size_t stride,
                           size_t n_keys, size_t head_dim) {
  for (size_t d = 0; d < head_dim; d++) out[d] = 0.0f;
  for (size_t t = 0; t < n_keys; t++) {
    const float* value = v + t * stride;
    for (size_t d = 0; d < head_dim; d++) out[d] += w[t] * value[d];
  }
}

void attn_weighted_sum_f16(float* out, const float* w, const uint16_t* v, size_t stride,
                           size_t n_keys, size_t head_dim) {
  for (size_t d = 0; d < head_dim; d++) out[d] = 0.0f;
  for (size_t t = 0; t < n_keys; t++) {
    const uint16_t* value = v + t * stride;
    for (size_t d = 0; d < head_dim; d++) out[d] += w[t] * half_to_float(value[d]);
  }
}

void f16_to_f32(float* out, const uint16_t* in, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = half_to_float(in[i]);
}

}  // namespace

const FloatOps kFloatOpsScalar = {
    "scalar",        rmsnorm,         rope_apply,
    softmax,         silu_mul,        attn_scores_f32,
    attn_scores_f16, attn_weighted_sum_f32, attn_weighted_sum_f16,
    f16_to_f32,
};

}  // namespace qes::simd
