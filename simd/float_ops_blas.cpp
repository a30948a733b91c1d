// Prefill attention as two sgemm calls (OpenBLAS): with many query positions
// the score and value products are matrix products, where a tuned GEMM beats
// one dot product per (query, key) pair.
#include <cblas.h>

#include <climits>
#include <stdexcept>
#include <string>

#include "qes/float_ops.hpp"

namespace qes::ops {
namespace {

int checked(size_t v, const char* what) {
  if (v > static_cast<size_t>(INT_MAX)) {
    throw std::invalid_argument(std::string("attention sgemm: ") + what + " exceeds the BLAS int range");
  }
  return static_cast<int>(v);
}

}  // namespace

void attn_scores_batch(float* scores, size_t ld_scores, const float* q, size_t ld_q,
                       const float* k, size_t ld_k, size_t n_q, size_t n_k, size_t head_dim,
                       float scale) {
  if (n_q == 0 || n_k == 0) return;
  // scores (n_q x n_k) = scale * Q (n_q x head_dim) * K^T (head_dim x n_k)
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, checked(n_q, "n_q"), checked(n_k, "n_k"),
              checked(head_dim, "head_dim"), scale, q, checked(ld_q, "ld_q"), k,
              checked(ld_k, "ld_k"), 0.0f, scores, checked(ld_scores, "ld_scores"));
}

void attn_weighted_sum_batch(float* out, size_t ld_out, const float* p, size_t ld_p,
                             const float* v, size_t ld_v, size_t n_q, size_t n_k,
                             size_t head_dim) {
  if (n_q == 0 || head_dim == 0) return;
  // out (n_q x head_dim) = P (n_q x n_k) * V (n_k x head_dim); n_k = 0 gives zeros.
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, checked(n_q, "n_q"),
              checked(head_dim, "head_dim"), checked(n_k, "n_k"), 1.0f, p, checked(ld_p, "ld_p"),
              v, checked(ld_v, "ld_v"), 0.0f, out, checked(ld_out, "ld_out"));
}

}  // namespace qes::ops
