// Scalar reference of the float ops: the oracle every vectorized variant is
// tested against (tests/floatops), and the fallback on CPUs without SIMD.
// Plain loops in the order the math is written.
#include <cmath>

#include "float_ops_table.hpp"
#include "qes/quant.hpp"

namespace qes::simd {
namespace {

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

// Each query head on its own: the keys (values) are simply read again per head.
void attn_scores_f32(float* scores, size_t ld_scores, const float* q, size_t n_heads,
                     const float* k, size_t stride, size_t n_keys, size_t head_dim, float scale) {
  for (size_t h = 0; h < n_heads; h++) {
    const float* qh = q + h * head_dim;
    for (size_t t = 0; t < n_keys; t++) {
      const float* key = k + t * stride;
      float dot = 0.0f;
      for (size_t d = 0; d < head_dim; d++) dot += qh[d] * key[d];
      scores[h * ld_scores + t] = dot * scale;
    }
  }
}

void attn_scores_f16(float* scores, size_t ld_scores, const float* q, size_t n_heads,
                     const uint16_t* k, size_t stride, size_t n_keys, size_t head_dim,
                     float scale) {
  for (size_t h = 0; h < n_heads; h++) {
    const float* qh = q + h * head_dim;
    for (size_t t = 0; t < n_keys; t++) {
      const uint16_t* key = k + t * stride;
      float dot = 0.0f;
      for (size_t d = 0; d < head_dim; d++) dot += qh[d] * fp16_to_fp32(key[d]);
      scores[h * ld_scores + t] = dot * scale;
    }
  }
}

void attn_weighted_sum_f32(float* out, const float* w, size_t ld_w, size_t n_heads,
                           const float* v, size_t stride, size_t n_keys, size_t head_dim) {
  for (size_t h = 0; h < n_heads; h++) {
    float* oh = out + h * head_dim;
    const float* wh = w + h * ld_w;
    for (size_t d = 0; d < head_dim; d++) oh[d] = 0.0f;
    for (size_t t = 0; t < n_keys; t++) {
      const float* value = v + t * stride;
      for (size_t d = 0; d < head_dim; d++) oh[d] += wh[t] * value[d];
    }
  }
}

void attn_weighted_sum_f16(float* out, const float* w, size_t ld_w, size_t n_heads,
                           const uint16_t* v, size_t stride, size_t n_keys, size_t head_dim) {
  for (size_t h = 0; h < n_heads; h++) {
    float* oh = out + h * head_dim;
    const float* wh = w + h * ld_w;
    for (size_t d = 0; d < head_dim; d++) oh[d] = 0.0f;
    for (size_t t = 0; t < n_keys; t++) {
      const uint16_t* value = v + t * stride;
      for (size_t d = 0; d < head_dim; d++) oh[d] += wh[t] * fp16_to_fp32(value[d]);
    }
  }
}

void f16_to_f32(float* out, const uint16_t* in, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = fp16_to_fp32(in[i]);
}

void f32_to_f16(uint16_t* out, const float* in, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = fp32_to_fp16(in[i]);
}

}  // namespace

const FloatOps kFloatOpsScalar = {
    "scalar",        rmsnorm,         rope_apply,
    softmax,         silu_mul,        attn_scores_f32,
    attn_scores_f16, attn_weighted_sum_f32, attn_weighted_sum_f16,
    f16_to_f32,      f32_to_f16,
};

}  // namespace qes::simd
