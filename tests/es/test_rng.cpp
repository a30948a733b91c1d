// Philox known answers, deterministic math against libm, distribution sanity.
#include <gtest/gtest.h>

#include <cmath>

#include "es_test_util.hpp"
#include "qes/es/det_math.hpp"
#include "qes/es/distributions.hpp"
#include "qes/es/philox.hpp"

namespace qes::es {
namespace {

TEST(Philox, KnownAnswersFromRandom123) {
  const PhiloxBlock a = philox4x32_10(0, 0, 0, 0, {0, 0});
  EXPECT_EQ(a.w[0], 0x6627e8d5u);
  EXPECT_EQ(a.w[1], 0xe169c58du);
  EXPECT_EQ(a.w[2], 0xbc57ac4cu);
  EXPECT_EQ(a.w[3], 0x9b00dbd8u);
  const PhiloxBlock b = philox4x32_10(~0u, ~0u, ~0u, ~0u, {~0u, ~0u});
  EXPECT_EQ(b.w[0], 0x408f276du);
  EXPECT_EQ(b.w[1], 0x41c83b0eu);
  EXPECT_EQ(b.w[2], 0xa20bc7c6u);
  EXPECT_EQ(b.w[3], 0x6d5451fdu);
  const PhiloxBlock c = philox4x32_10(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, {0xa4093822, 0x299f31d0});
  EXPECT_EQ(c.w[0], 0xd16cfe09u);
  EXPECT_EQ(c.w[1], 0x94fdccebu);
  EXPECT_EQ(c.w[2], 0x5001e420u);
  EXPECT_EQ(c.w[3], 0x24126ea1u);
}

TEST(Philox, StreamKeysDifferInEveryField) {
  const StreamId base{42, StreamPurpose::kPerturbation, 3, 5, 7, 11};
  const PhiloxKey k = derive_stream_key(base);
  auto differs = [&](StreamId id) {
    const PhiloxKey o = derive_stream_key(id);
    return o.k0 != k.k0 || o.k1 != k.k1;
  };
  StreamId s = base;
  s.run_seed = 43;
  EXPECT_TRUE(differs(s));
  s = base;
  s.run_seed = 42 + (uint64_t(1) << 32);
  EXPECT_TRUE(differs(s));
  s = base;
  s.purpose = StreamPurpose::kDither;
  EXPECT_TRUE(differs(s));
  s = base;
  s.iteration = 4;
  EXPECT_TRUE(differs(s));
  s = base;
  s.member = 6;
  EXPECT_TRUE(differs(s));
  s = base;
  s.tensor = 8;
  EXPECT_TRUE(differs(s));
  s = base;
  s.tile = 12;
  EXPECT_TRUE(differs(s));
  EXPECT_FALSE(differs(base));
}

TEST(DetMath, MatchesLibm) {
  for (double x = -700; x < 700; x += 0.37) EXPECT_NEAR(det_exp(x) / std::exp(x), 1.0, 4e-15) << x;
  for (double x = 1e-300; x < 1e300; x *= 1.7) EXPECT_NEAR(det_log(x), std::log(x), 4e-15 * std::fabs(std::log(x)) + 1e-300) << x;
  for (double x = 0.5; x < 2; x += 0.001) EXPECT_NEAR(det_log(x), std::log(x), 3e-16) << x;
  for (double x = -0.9; x < 3; x += 0.0013) EXPECT_NEAR(det_log1p(x), std::log1p(x), 4e-16 * std::fmax(1.0, std::fabs(std::log1p(x)))) << x;
  EXPECT_NEAR(det_log1p(-1e-12) / std::log1p(-1e-12), 1.0, 1e-15);
  for (uint64_t t = 0; t < (uint64_t(1) << 32); t += 9999991) {
    const double angle = 2.0 * M_PI * double(t) * 0x1p-32;
    EXPECT_NEAR(det_cos_turns(uint32_t(t)), std::cos(angle), 2e-15) << t;
  }
  for (double x = -5; x < 27; x += 0.0173) {
    const double ref = std::erfc(x);
    EXPECT_NEAR(det_erfc(x) / ref, 1.0, 1e-13) << x;
  }
}

TEST(Distributions, NormalMomentsAndBinomialGeometricMeans) {
  const PhiloxKey key = derive_stream_key({7, StreamPurpose::kTest, 0, 0, 0, 0});
  const int n = 200000;
  double s1 = 0, s2 = 0, s4 = 0;
  for (int i = 0; i < n; ++i) {
    const double e = standard_normal(stream_block(key, kRegionDense, uint64_t(i)));
    s1 += e;
    s2 += e * e;
    s4 += e * e * e * e;
  }
  EXPECT_NEAR(s1 / n, 0.0, 0.01);
  EXPECT_NEAR(s2 / n, 1.0, 0.015);
  EXPECT_NEAR(s4 / n, 3.0, 0.08);

  CounterStream s(key);
  double bsum = 0, gsum = 0, bern = 0;
  const int m = 20000;
  for (int i = 0; i < m; ++i) {
    bsum += binomial(s, 100, 0.3);
    gsum += double(geometric(s, 0.2));
    bern += bernoulli(s, 0.25) ? 1 : 0;
  }
  EXPECT_NEAR(bsum / m, 30.0, 0.15);           // sd of the mean 0.032
  EXPECT_NEAR(gsum / m, 4.0, 0.12);            // mean (1-p)/p, sd of the mean 0.031
  EXPECT_NEAR(bern / m, 0.25, 0.012);
  EXPECT_THROW(BinomialInverse(100000, 0.5), std::invalid_argument);
  EXPECT_THROW(geometric(s, 0.0), std::invalid_argument);
}

TEST(Distributions, BinomialPmfIsExactUnderChiSquare) {
  // Binomial(40, 0.2) against its pmf: a wrong table fails.
  const BinomialInverse b(40, 0.2);
  CounterStream s(derive_stream_key({9, StreamPurpose::kTest, 0, 0, 0, 0}));
  const int n = 100000;
  std::vector<double> count(41, 0);
  for (int i = 0; i < n; ++i) count[b.sample(s.uniform())] += 1;
  std::vector<double> expected(41);
  double pk = std::pow(0.8, 40);
  for (int k = 0; k <= 40; ++k) {
    expected[k] = n * pk;
    pk *= 0.25 * (40 - k) / (k + 1);
  }
  const testing::ChiSquare fit = testing::chi_square_fit(count, expected);
  EXPECT_TRUE(fit.passes()) << fit.stat << " df " << fit.df;
  EXPECT_GE(fit.df, 8);
}

}  // namespace
}  // namespace qes::es
