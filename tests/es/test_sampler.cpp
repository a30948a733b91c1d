// The perturbation's exact pmf, and the sparse and dense samplers against it
// and against each other (chi-square with fixed seeds: deterministic, yet a
// wrong distribution fails).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "es_test_util.hpp"
#include "qes/es/perturbation.hpp"

namespace qes::es {
namespace {

constexpr int kSpan = 40;  // histogram of d over [-kSpan, kSpan]

std::vector<double> histogram(const TileNoiseSampler& s, uint64_t seed, int tiles, uint32_t len = kTileCodes) {
  std::vector<double> h(2 * kSpan + 1, 0.0);
  TileNoise noise;
  for (int t = 0; t < tiles; ++t) {
    s.sample(derive_stream_key({seed, StreamPurpose::kTest, 0, 0, 0, uint32_t(t)}), len, noise);
    for (int16_t v : noise.val) h[size_t(std::clamp<int>(v, -kSpan, kSpan) + kSpan)] += 1;
    h[kSpan] += double(len - noise.size());
  }
  return h;
}

std::vector<double> expected(const PerturbationPmf& pmf, double draws) {
  std::vector<double> e(2 * kSpan + 1);
  for (int k = -kSpan; k <= kSpan; ++k) e[size_t(k + kSpan)] = draws * pmf.prob(k);
  return e;
}

TEST(PerturbationPmf, SumsToOneAndMatchesSmallSigmaLimit) {
  for (double sigma : {0.001, 0.01, 0.1, 0.5, 1.0, 3.0, 17.0}) {
    const PerturbationPmf pmf(sigma);
    double total = 0, second = 0;
    for (int k = -400; k <= 400; ++k) {
      total += pmf.prob(k);
      second += double(k) * k * pmf.prob(k);
      EXPECT_GE(pmf.prob(k), 0.0);
      EXPECT_EQ(pmf.prob(k), pmf.prob(-k));
    }
    EXPECT_NEAR(total, 1.0, 1e-12) << sigma;
    // E[d^2] = E[X^2] + E[frac(X)(1 - frac(X))]: at least sigma^2, at most sigma^2 + 1/4.
    EXPECT_GE(second, sigma * sigma - 1e-9);
    EXPECT_LE(second, sigma * sigma + 0.25 + 1e-9);
  }
  // P(d != 0) = sigma sqrt(2/pi) while sigma << 1 (DESIGN.md §4).
  EXPECT_NEAR(PerturbationPmf(0.01).p_nonzero() / (0.01 * std::sqrt(2.0 / M_PI)), 1.0, 1e-12);
  // E[d] = 0 and, for sigma < 1/8 or so, no |d| >= 2 worth mentioning.
  EXPECT_LT(PerturbationPmf(0.01).prob(2), 1e-300);
  EXPECT_THROW(PerturbationPmf(0.0), std::invalid_argument);
  EXPECT_THROW(PerturbationPmf(std::nan("")), std::invalid_argument);
}

TEST(PerturbationPmf, MatchesMonteCarloOfTheDenseDefinition) {
  // The dense sampler is the definition: e ~ N(0,1), d = floor(sigma e) + Bernoulli(frac).
  for (double sigma : {0.01, 0.3, 1.7, 4.0}) {
    const TileNoiseSampler dense(sigma, SamplerKind::kDense);
    const int tiles = sigma < 0.1 ? 300 : 40;
    const std::vector<double> h = histogram(dense, 101, tiles);
    const auto fit = testing::chi_square_fit(h, expected(dense.pmf(), double(tiles) * kTileCodes));
    EXPECT_TRUE(fit.passes()) << "sigma " << sigma << " chi2 " << fit.stat << " df " << fit.df;
    EXPECT_GE(fit.df, sigma < 1 ? 2 : 4);
    // Power: the same sample against a slightly wider sigma must fail.
    const double wider = sigma < 0.1 ? 1.1 : 1.03;
    const auto wrong = testing::chi_square_fit(h, expected(PerturbationPmf(sigma * wider), double(tiles) * kTileCodes));
    EXPECT_FALSE(wrong.passes()) << "sigma " << sigma << " chi2 " << wrong.stat << " df " << wrong.df;
  }
}

TEST(TileNoiseSampler, SparseAndDenseAgreeInDistribution) {
  for (double sigma : {0.01, 0.05, 0.18}) {
    const TileNoiseSampler sparse(sigma, SamplerKind::kSparse);
    const TileNoiseSampler dense(sigma, SamplerKind::kDense);
    ASSERT_TRUE(sparse.is_sparse());
    ASSERT_FALSE(dense.is_sparse());
    const int tiles = sigma < 0.03 ? 300 : 60;
    const std::vector<double> a = histogram(sparse, 202, tiles);
    const std::vector<double> b = histogram(dense, 303, tiles);
    const auto two = testing::chi_square_two_sample(a, b);
    EXPECT_TRUE(two.passes()) << "sigma " << sigma << " chi2 " << two.stat << " df " << two.df;
    const auto fit = testing::chi_square_fit(a, expected(sparse.pmf(), double(tiles) * kTileCodes));
    EXPECT_TRUE(fit.passes()) << "sparse vs exact pmf, sigma " << sigma << " chi2 " << fit.stat;
  }
  // sigma 0.18 exercises the magnitude table (|d| = 2 has a 31-bit chance).
  const TileNoiseSampler s18(0.18, SamplerKind::kSparse);
  EXPECT_GT(s18.pmf().tail_beyond(1) / s18.pmf().p_nonzero() * 0x1p31, 0.5);
  // A sampler that would need more than ~600 nonzeros per tile refuses to be sparse.
  EXPECT_THROW(TileNoiseSampler(0.5, SamplerKind::kSparse), std::invalid_argument);
  EXPECT_TRUE(TileNoiseSampler(0.01).is_sparse());
  EXPECT_FALSE(TileNoiseSampler(0.5).is_sparse());
}

TEST(TileNoiseSampler, SparsePositionsAreUniformAndPerTileCountsBinomial) {
  const TileNoiseSampler sparse(0.05, SamplerKind::kSparse);
  const double p = sparse.pmf().p_nonzero();
  std::vector<double> pos(64, 0.0);
  std::map<size_t, double> counts;
  TileNoise noise;
  const int tiles = 2000;
  for (int t = 0; t < tiles; ++t) {
    sparse.sample(derive_stream_key({5, StreamPurpose::kTest, 0, 0, 0, uint32_t(t)}), kTileCodes, noise);
    counts[noise.size()] += 1;
    std::vector<bool> seen(kTileCodes, false);
    for (size_t k = 0; k < noise.size(); ++k) {
      ASSERT_FALSE(seen[noise.pos[k]]) << "positions must be distinct";
      seen[noise.pos[k]] = true;
      pos[noise.pos[k] / 64] += 1;
    }
  }
  double total = 0;
  for (double c : pos) total += c;
  const auto fit = testing::chi_square_fit(pos, std::vector<double>(64, total / 64));
  EXPECT_TRUE(fit.passes()) << fit.stat;
  // Mean and variance of the per-tile count: n p and n p (1 - p).
  double m1 = 0, m2 = 0;
  for (auto [c, n] : counts) m1 += double(c) * n, m2 += double(c) * c * n;
  m1 /= tiles;
  m2 = m2 / tiles - m1 * m1;
  EXPECT_NEAR(m1 / (kTileCodes * p), 1.0, 0.01);
  EXPECT_NEAR(m2 / (kTileCodes * p * (1 - p)), 1.0, 0.1);
}

TEST(TileNoiseSampler, ShortTileIsThePrefixOfTheFullTile) {
  for (SamplerKind kind : {SamplerKind::kSparse, SamplerKind::kDense}) {
    const TileNoiseSampler s(0.05, kind);
    const PhiloxKey key = derive_stream_key({11, StreamPurpose::kTest, 0, 0, 0, 0});
    TileNoise full, part;
    s.sample(key, kTileCodes, full);
    s.sample(key, 1000, part);
    TileNoise prefix;  // the full tile's entries below 1000, in their order
    for (size_t i = 0; i < full.size(); ++i)
      if (full.pos[i] < 1000) {
        prefix.pos.push_back(full.pos[i]);
        prefix.val.push_back(full.val[i]);
      }
    EXPECT_GT(prefix.size(), 10u);
    EXPECT_EQ(part.pos, prefix.pos);
    EXPECT_EQ(part.val, prefix.val);
  }
}

TEST(TileNoiseSampler, ScratchReuseAndStampWrapDoNotChangeDraws) {
  const TileNoiseSampler s(0.03, SamplerKind::kSparse);
  TileNoise reused, wrapped;
  wrapped.taken_stamp.assign(kTileCodes, 0);
  wrapped.stamp = 65535;  // the next draw wraps the stamp
  for (uint32_t t = 0; t < 50; ++t) {
    const PhiloxKey key = derive_stream_key({21, StreamPurpose::kTest, 0, 0, 0, t});
    TileNoise fresh;
    s.sample(key, kTileCodes, fresh);
    s.sample(key, kTileCodes, reused);
    s.sample(key, kTileCodes, wrapped);
    ASSERT_EQ(fresh.pos, reused.pos);
    ASSERT_EQ(fresh.val, reused.val);
    ASSERT_EQ(fresh.pos, wrapped.pos);
    ASSERT_EQ(fresh.val, wrapped.val);
  }
}

}  // namespace
}  // namespace qes::es
