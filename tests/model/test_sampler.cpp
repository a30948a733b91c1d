#include "sampler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace qes {
namespace {

TEST(Sampler, ArgmaxTakesTheLowestIdOnTies) {
  std::vector<float> l{0.5f, 2.0f, 1.0f, 2.0f};
  EXPECT_EQ(argmax(l.data(), 4), 1);
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
