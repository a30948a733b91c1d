#include "sampler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <vector>

namespace qes {
namespace {

TEST(Sampler, ArgmaxTakesTheLowestIdOnTies) {
  std::vector<float> l{0.5f, 2.0f, 1.0f, 2.0f};
  EXPECT_EQ(argmax(l.data(), 4), 1);
}

// argmax's two vectorized passes give the plain loop's index: the first of
// the largest value, NaNs never winning except at index 0, -0 and +0 equal,
// on lengths around its 16-value steps and 256-value spans (shorter rows take
// the plain loop).
TEST(Sampler, ArgmaxMatchesThePlainLoop) {
  auto plain = [](const std::vector<float>& l) {
    int best = 0;
    for (int i = 1; i < static_cast<int>(l.size()); i++)
      if (l[i] > l[best]) best = i;
    return best;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  SequenceRng rng(5);
  int checked = 0;
  for (int n : {1, 2, 15, 16, 31, 32, 33, 100, 255, 256, 257, 271, 272, 527, 151936}) {
    for (int trial = 0; trial < 40; trial++) {
      std::vector<float> l(n);
      // Few distinct values, so ties are common.
      for (auto& v : l) v = std::floor(rng.uniform() * 8) - 4;
      const int kind = trial % 8;
      if (kind == 1) l[rng.next() % n] = nan;
      if (kind == 2) l[0] = nan;
      if (kind == 3) for (auto& v : l) v = (rng.next() & 1) ? 0.0f : -0.0f;
      if (kind == 4) for (auto& v : l) v = (rng.next() % 3 == 0) ? nan : -inf;
      if (kind == 5) for (int i = 0; i < n; i += 2) l[i] = nan;
      if (kind == 6) l[n - 1] = 100;
      if (kind == 7) for (auto& v : l) v = nan;
      ASSERT_EQ(argmax(l.data(), n), plain(l)) << "n " << n << " trial " << trial;
      checked++;
    }
  }
  EXPECT_EQ(checked, 15 * 40);
}

TEST(Sampler, TopKOneAndTinyTopPAreGreedy) {
  SequenceRng rng(3);
  SamplerScratch scratch;
  for (int trial = 0; trial < 20; trial++) {
    std::vector<float> l(50);
    for (auto& v : l) v = rng.uniform() * 4;
    const int best = argmax(l.data(), 50);
    SamplingParams k1{1.0f, 1, 1.0f, 0};
    auto a = l;
    EXPECT_EQ(sample_token(a.data(), 50, k1, rng, scratch), best);
    SamplingParams p0{1.0f, 0, 1e-6f, 0};
    auto b = l;
    EXPECT_EQ(sample_token(b.data(), 50, p0, rng, scratch), best);
  }
}

TEST(Sampler, FrequenciesFollowTheTemperedDistribution) {
  // logits log(1), log(2), log(3), log(4) at temperature 1: p = 0.1 .. 0.4; top-k 3 drops token 0.
  SequenceRng rng(11);
  SamplerScratch scratch;
  std::map<int, int> counts, counts_k3;
  const int draws = 20000;
  for (int i = 0; i < draws; i++) {
    std::vector<float> l{0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};
    auto l2 = l;
    counts[sample_token(l.data(), 4, {1.0f, 0, 1.0f, 0}, rng, scratch)]++;
    counts_k3[sample_token(l2.data(), 4, {1.0f, 3, 1.0f, 0}, rng, scratch)]++;
  }
  for (int t = 0; t < 4; t++) EXPECT_NEAR(counts[t] / double(draws), (t + 1) / 10.0, 0.015) << t;
  EXPECT_EQ(counts_k3[0], 0);
  for (int t = 1; t < 4; t++) EXPECT_NEAR(counts_k3[t] / double(draws), (t + 1) / 9.0, 0.015) << t;
}

}  // namespace
}  // namespace qes
