// The public float ops (include/qes/float_ops.hpp): argument checks and the
// RoPE angles, then the chosen ISA's table.
#include <cmath>
#include <stdexcept>
#include <string>

#include "float_ops_table.hpp"

namespace qes::ops {
namespace {

void check_rope_shape(int head_dim, int rot_dim) {
  if (rot_dim <= 0 || rot_dim % 2 != 0 || rot_dim > head_dim || rot_dim > kMaxRopeDim) {
    throw std::invalid_argument("rope: rotated dimensions " + std::to_string(rot_dim) +
                                " must be even, positive and at most head_dim " +
                                std::to_string(head_dim) + " and " +
                                std::to_string(kMaxRopeDim));
  }
}

}  // namespace

void rmsnorm(float* out, const float* x, const float* weight, size_t n, float eps) {
  simd::float_ops().rmsnorm(out, x, weight, n, eps);
}

void rope_angles(float* cos_out, float* sin_out, int rot_dim, int64_t pos, float theta_base) {
  for (int i = 0; i < rot_dim / 2; i++) {
    const double frequency = std::pow(static_cast<double>(theta_base), -2.0 * i / rot_dim);
    const double angle = static_cast<double>(pos) * frequency;
    cos_out[i] = static_cast<float>(std::cos(angle));
    sin_out[i] = static_cast<float>(std::sin(angle));
  }
}

void rope_apply(float* x, int n_heads, int head_dim, int rot_dim, const float* cos,
                const float* sin, RopeStyle style) {
  check_rope_shape(head_dim, rot_dim);
  simd::float_ops().rope_apply(x, n_heads, head_dim, rot_dim, cos, sin, style);
}

void rope(float* x, int n_heads, int head_dim, int rot_dim, int64_t pos, float theta_base,
          RopeStyle style) {
  check_rope_shape(head_dim, rot_dim);
  float cos[kMaxRopeDim / 2];
  float sin[kMaxRopeDim / 2];
  rope_angles(cos, sin, rot_dim, pos, theta_base);
  simd::float_ops().rope_apply(x, n_heads, head_dim, rot_dim, cos, sin, style);
}

void softmax(float* x, size_t n) {
  if (n == 0) throw std::invalid_argument("softmax: empty input");
  simd::float_ops().softmax(x, n);
}

void silu_mul(float* out, const float* a, const float* b, size_t n) {
  simd::float_ops().silu_mul(out, a, b, n);
}

void attn_scores(float* scores, const float* q, const float* k, size_t stride, size_t n_keys,
                 size_t head_dim, float scale) {
  simd::float_ops().attn_scores_f32(scores, n_keys, q, 1, k, stride, n_keys, head_dim, scale);
}

void attn_scores(float* scores, const float* q, const uint16_t* k_f16, size_t stride,
                 size_t n_keys, size_t head_dim, float scale) {
  simd::float_ops().attn_scores_f16(scores, n_keys, q, 1, k_f16, stride, n_keys, head_dim, scale);
}

void attn_weighted_sum(float* out, const float* weights, const float* v, size_t stride,
                       size_t n_keys, size_t head_dim) {
  simd::float_ops().attn_weighted_sum_f32(out, weights, n_keys, 1, v, stride, n_keys, head_dim);
}

void attn_weighted_sum(float* out, const float* weights, const uint16_t* v_f16, size_t stride,
                       size_t n_keys, size_t head_dim) {
  simd::float_ops().attn_weighted_sum_f16(out, weights, n_keys, 1, v_f16, stride, n_keys, head_dim);
}

void attn_scores_heads(float* scores, size_t ld_scores, const float* q, size_t n_heads,
                       const float* k, size_t stride, size_t n_keys, size_t head_dim,
                       float scale) {
  simd::float_ops().attn_scores_f32(scores, ld_scores, q, n_heads, k, stride, n_keys, head_dim, scale);
}

void attn_scores_heads(float* scores, size_t ld_scores, const float* q, size_t n_heads,
                       const uint16_t* k_f16, size_t stride, size_t n_keys, size_t head_dim,
                       float scale) {
  simd::float_ops().attn_scores_f16(scores, ld_scores, q, n_heads, k_f16, stride, n_keys, head_dim, scale);
}

void attn_weighted_sum_heads(float* out, const float* weights, size_t ld_weights,
                             size_t n_heads, const float* v, size_t stride, size_t n_keys,
                             size_t head_dim) {
  simd::float_ops().attn_weighted_sum_f32(out, weights, ld_weights, n_heads, v, stride, n_keys, head_dim);
}

void attn_weighted_sum_heads(float* out, const float* weights, size_t ld_weights,
                             size_t n_heads, const uint16_t* v_f16, size_t stride,
                             size_t n_keys, size_t head_dim) {
  simd::float_ops().attn_weighted_sum_f16(out, weights, ld_weights, n_heads, v_f16, stride, n_keys, head_dim);
}

void f16_to_f32(float* out, const uint16_t* in, size_t n) { simd::float_ops().f16_to_f32(out, in, n); }

void f32_to_f16(uint16_t* out, const float* in, size_t n) { simd::float_ops().f32_to_f16(out, in, n); }

const char* float_ops_isa() { return simd::float_ops().isa; }

}  // namespace qes::ops
