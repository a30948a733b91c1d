// Prefill attention through OpenBLAS sgemm against plain loops (full builds only).
// Tolerance: |d| <= 1e-5 * sum of |terms| (sgemm reorders and blocks the sums).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "qes/float_ops.hpp"

namespace qes::ops {
namespace {

TEST(AttentionBlas, ScoresAndWeightedSumMatchLoops) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  struct Shape {
    size_t n_q, n_k, head_dim, ld_extra;
  };
  for (const Shape& s : {Shape{1, 1, 1, 0}, Shape{3, 5, 7, 2}, Shape{16, 16, 64, 0}, Shape{17, 40, 80, 3},
                         Shape{64, 64, 128, 0}}) {
    const size_t ld_q = s.head_dim + s.ld_extra, ld_k = s.head_dim + s.ld_extra, ld_s = s.n_k + s.ld_extra;
    std::vector<float> q(s.n_q * ld_q), k(s.n_k * ld_k), v(s.n_k * ld_k);
    for (float* m : {q.data(), k.data(), v.data()}) {
      const size_t n = m == q.data() ? q.size() : k.size();
      for (size_t i = 0; i < n; i++) m[i] = normal(rng);
    }
    const float scale = 0.125f;
    std::vector<float> scores(s.n_q * ld_s, -7.0f);
    attn_scores_batch(scores.data(), ld_s, q.data(), ld_q, k.data(), ld_k, s.n_q, s.n_k, s.head_dim, scale);
    for (size_t i = 0; i < s.n_q; i++) {
      for (size_t t = 0; t < s.n_k; t++) {
        float want = 0.0f, abs_terms = 0.0f;
        for (size_t d = 0; d < s.head_dim; d++) {
          want += q[i * ld_q + d] * k[t * ld_k + d];
          abs_terms += std::fabs(q[i * ld_q + d] * k[t * ld_k + d]);
        }
        ASSERT_NEAR(scores[i * ld_s + t], want * scale, 1e-5f * abs_terms * scale) << i << "," << t;
      }
      for (size_t t = s.n_k; t < ld_s; t++) ASSERT_EQ(scores[i * ld_s + t], -7.0f) << "wrote past n_k";
    }

    const size_t ld_o = s.head_dim + s.ld_extra;
    std::vector<float> out(s.n_q * ld_o, -7.0f);
    attn_weighted_sum_batch(out.data(), ld_o, scores.data(), ld_s, v.data(), ld_k, s.n_q, s.n_k, s.head_dim);
    for (size_t i = 0; i < s.n_q; i++) {
      for (size_t d = 0; d < s.head_dim; d++) {
        float want = 0.0f, abs_terms = 0.0f;
        for (size_t t = 0; t < s.n_k; t++) {
          want += scores[i * ld_s + t] * v[t * ld_k + d];
          abs_terms += std::fabs(scores[i * ld_s + t] * v[t * ld_k + d]);
        }
        ASSERT_NEAR(out[i * ld_o + d], want, 1e-5f * abs_terms + 1e-30f) << i << "," << d;
      }
    }
  }
}

}  // namespace
}  // namespace qes::ops
