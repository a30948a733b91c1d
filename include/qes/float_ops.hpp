#pragma once
// The float operations of a transformer decode step, vectorized per ISA
// (xsimd; simd/float_ops_*.cpp) and chosen once at run time, like the kernels.
// The scalar reference they are tested against is simd/float_ops_ref.cpp.
//
// Lengths are element counts. Outputs may alias inputs only where a comment
// says so. KV-cache entries come in f32 or f16 (IEEE half bits, as GGUF
// stores them).
#include <cstddef>
#include <cstdint>

namespace qes::ops {

// out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i]. out may alias x.
void rmsnorm(float* out, const float* x, const float* weight, size_t n, float eps);

// Which elements RoPE rotates together (rot_dim = the rotated dimensions of a
// head, the first rot_dim of head_dim; pair i turns by pos * base^(-2i/rot_dim)):
enum class RopeStyle {
  Interleaved,  // pairs (2i, 2i+1): llama / GGUF rope type NORM
  HalfSplit,    // pairs (i, i + rot_dim/2): GPT-NeoX, Qwen2 / GGUF rope type NEOX
};
inline constexpr int kMaxRopeDim = 1024;

// cos_out[i], sin_out[i] of the angle pos * theta_base^(-2i/rot_dim), i < rot_dim/2.
// The angle is computed in double, so every ISA rotates by the same float cos/sin.
// (llama.cpp and transformers compute it in float: at position p their angles
// differ from these by up to about p * 6e-8 rad.) For frequency-scaled RoPE
// variants, compute the angles yourself and call rope_apply.
void rope_angles(float* cos_out, float* sin_out, int rot_dim, int64_t pos, float theta_base);

// Rotates, in place, the first rot_dim elements of each of the n_heads heads of
// x (head h starts at x + h*head_dim) by the angles of rope_angles().
// rot_dim is even, <= head_dim and <= kMaxRopeDim (else std::invalid_argument).
void rope_apply(float* x, int n_heads, int head_dim, int rot_dim, const float* cos,
                const float* sin, RopeStyle style);

// rope_angles + rope_apply for one position.
void rope(float* x, int n_heads, int head_dim, int rot_dim, int64_t pos, float theta_base,
          RopeStyle style);

// In place: x[i] = exp(x[i] - max) / sum_j exp(x[j] - max). n >= 1.
void softmax(float* x, size_t n);

// out[i] = silu(a[i]) * b[i], silu(a) = a / (1 + exp(-a)). out may alias a or b.
void silu_mul(float* out, const float* a, const float* b, size_t n);

// Attention over cached keys and values of one head. Key/value t of the range
// starts at k + t*stride (v + t*stride); stride >= head_dim, in elements.
//   scores[t] = scale * dot(q, key t),            t < n_keys
//   out[d]    = sum_t weights[t] * value_t[d],     d < head_dim (out is overwritten)
void attn_scores(float* scores, const float* q, const float* k, size_t stride, size_t n_keys,
                 size_t head_dim, float scale);
void attn_scores(float* scores, const float* q, const uint16_t* k_f16, size_t stride,
                 size_t n_keys, size_t head_dim, float scale);
void attn_weighted_sum(float* out, const float* weights, const float* v, size_t stride,
                       size_t n_keys, size_t head_dim);
void attn_weighted_sum(float* out, const float* weights, const uint16_t* v_f16, size_t stride,
                       size_t n_keys, size_t head_dim);

// Grouped-query attention: n_heads query heads that share one KV head, so each
// key and value is loaded (and converted from f16) once for all of them.
// Query head j starts at q + j*head_dim, its scores at scores + j*ld_scores
// (ld_scores >= n_keys), its weights at weights + j*ld_weights and its output
// at out + j*head_dim. Each head gets, bit for bit, what the one-head
// functions above give it: a score depends on its query head and its key only
// (not on the other keys, n_keys or n_heads), so a row's attention is the same
// whatever else is computed with it.
void attn_scores_heads(float* scores, size_t ld_scores, const float* q, size_t n_heads,
                       const float* k, size_t stride, size_t n_keys, size_t head_dim,
                       float scale);
void attn_scores_heads(float* scores, size_t ld_scores, const float* q, size_t n_heads,
                       const uint16_t* k_f16, size_t stride, size_t n_keys, size_t head_dim,
                       float scale);
void attn_weighted_sum_heads(float* out, const float* weights, size_t ld_weights,
                             size_t n_heads, const float* v, size_t stride, size_t n_keys,
                             size_t head_dim);
void attn_weighted_sum_heads(float* out, const float* weights, size_t ld_weights,
                             size_t n_heads, const uint16_t* v_f16, size_t stride,
                             size_t n_keys, size_t head_dim);

// out[i] = the f16 value in[i] as f32 (exact, subnormals included).
void f16_to_f32(float* out, const uint16_t* in, size_t n);

// out[i] = in[i] rounded to f16 exactly as qes::fp32_to_fp16 rounds it (to
// nearest, ties to even; overflow to infinity; NaN stays a quiet NaN): the
// KV-cache store.
void f32_to_f16(uint16_t* out, const float* in, size_t n);

// Name of the float-op path in use ("scalar", "avx2", "avx512", "neon"). It
// follows the active kernel path (qes::active_isa(): QES_ISA, --isa or the
// best the CPU runs); avx512vnni uses avx512's float ops, neondot neon's.
const char* float_ops_isa();

// --- Prefill attention through OpenBLAS sgemm (full builds only: these are
// defined in the library qes_float_ops_blas, which QES_KERNELS_ONLY builds
// leave out). Row-major matrices with leading dimensions in elements.
// OpenBLAS runs its own threads: call these from outside OpenMP parallel regions.
//   scores[i][t] = scale * dot(q[i], k[t])     i < n_q, t < n_k
void attn_scores_batch(float* scores, size_t ld_scores, const float* q, size_t ld_q,
                       const float* k, size_t ld_k, size_t n_q, size_t n_k, size_t head_dim,
                       float scale);
//   out[i][d] = sum_t p[i][t] * v[t][d]        i < n_q, d < head_dim
void attn_weighted_sum_batch(float* out, size_t ld_out, const float* p, size_t ld_p,
                             const float* v, size_t ld_v, size_t n_q, size_t n_k,
                             size_t head_dim);

}  // namespace qes::ops
