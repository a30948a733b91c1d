#pragma once
// The float-op table one ISA fills (simd/float_ops_<isa>.cpp), the scalar
// reference's table (simd/float_ops_ref.cpp) and the list of compiled variants
// that the dispatch (simd/float_ops_dispatch.cpp) and the tests walk.
#include <cstddef>
#include <cstdint>
#include <span>

#include "qes/float_ops.hpp"
#include "qes/matmul.hpp"

namespace qes::simd {

struct FloatOps {
  const char* isa;  // "scalar", "avx2", "avx512", "neon"
  void (*rmsnorm)(float* out, const float* x, const float* weight, size_t n, float eps);
  void (*rope_apply)(float* x, int n_heads, int head_dim, int rot_dim, const float* cos,
                     const float* sin, ops::RopeStyle style);
  void (*softmax)(float* x, size_t n);
  void (*silu_mul)(float* out, const float* a, const float* b, size_t n);
  // Grouped-query attention (ops::attn_scores_heads, ops::attn_weighted_sum_heads).
  void (*attn_scores_f32)(float* scores, size_t ld_scores, const float* q, size_t n_heads,
                          const float* k, size_t stride, size_t n_keys, size_t head_dim,
                          float scale);
  void (*attn_scores_f16)(float* scores, size_t ld_scores, const float* q, size_t n_heads,
                          const uint16_t* k, size_t stride, size_t n_keys, size_t head_dim,
                          float scale);
  void (*attn_weighted_sum_f32)(float* out, const float* w, size_t ld_w, size_t n_heads,
                                const float* v, size_t stride, size_t n_keys, size_t head_dim);
  void (*attn_weighted_sum_f16)(float* out, const float* w, size_t ld_w, size_t n_heads,
                                const uint16_t* v, size_t stride, size_t n_keys,
                                size_t head_dim);
  void (*f16_to_f32)(float* out, const uint16_t* in, size_t n);
  void (*f32_to_f16)(uint16_t* out, const float* in, size_t n);
};

// The scalar reference; the oracle of tests/floatops.
extern const FloatOps kFloatOpsScalar;

struct FloatOpsVariant {
  const FloatOps* ops;
  Isa isa;  // the kernel path whose CPU check it shares (cpu_supports(isa))
};
// Every variant compiled into this binary, scalar first, best last.
std::span<const FloatOpsVariant> float_ops_variants();

// The table for a kernel path: its own ISA's variant (avx512vnni uses avx512,
// neondot uses neon), or scalar where this binary has none.
const FloatOps& float_ops_for(Isa isa);
// The table of the active kernel path (active_isa(): QES_ISA, --isa or the best).
const FloatOps& float_ops();

}  // namespace qes::simd
