// Fitness shaping: values, clipping, ranks, and rejection of invalid rewards.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "qes/es/fitness.hpp"

namespace qes::es {
namespace {

TEST(Fitness, PairZScoreIsAntisymmetricZeroMeanUnitVariance) {
  const std::vector<float> r = {1.0f, 0.0f, 0.2f, 0.5f, 0.7f, 0.7f, 0.1f, 0.9f};
  const auto f = shape_fitness(r, {});
  ASSERT_EQ(f.size(), 8u);
  double m = 0, v = 0;
  for (size_t j = 0; j < 4; ++j) {
    EXPECT_EQ(f[2 * j], -f[2 * j + 1]);
    m += f[2 * j];
    v += f[2 * j] * f[2 * j];
  }
  EXPECT_NEAR(m / 4, 0.0, 1e-6);
  EXPECT_NEAR(v / 4, 1.0, 1e-6);
  // diffs 1, -0.3, 0, -0.8: the largest difference ranks first.
  EXPECT_GT(f[0], f[4]);
  EXPECT_GT(f[4], f[2]);
  EXPECT_GT(f[2], f[6]);
}

TEST(Fitness, ClipBoundsOutliers) {
  std::vector<float> r(40, 0.0f);
  r[0] = 100.0f;  // one pair far out: z = sqrt(19) before clipping
  ShapingConfig c;
  const auto f = shape_fitness(r, c);
  EXPECT_FLOAT_EQ(f[0], 3.0f);
  EXPECT_FLOAT_EQ(f[1], -3.0f);
  c.clip = 0;
  EXPECT_NEAR(shape_fitness(r, c)[0], std::sqrt(19.0), 1e-5);
}

TEST(Fitness, EqualRewardsGiveZero) {
  const std::vector<float> r(6, 0.5f);
  for (Shaping s : {Shaping::kPairZScore, Shaping::kZScore})
    for (float x : shape_fitness(r, {s, 3.0, 1.0})) EXPECT_EQ(x, 0.0f);
}

TEST(Fitness, CenteredRankWithTiesAndElite) {
  const std::vector<float> r = {0.3f, 0.1f, 0.9f, 0.3f, 0.5f};
  ShapingConfig c{Shaping::kCenteredRank, 3.0, 1.0};
  const auto f = shape_fitness(r, c);
  // ranks: 0.1 -> 0, 0.3 -> 1.5 (tie of 1 and 2), 0.5 -> 3, 0.9 -> 4; value rank/4 - 0.5.
  EXPECT_FLOAT_EQ(f[1], -0.5f);
  EXPECT_FLOAT_EQ(f[0], -0.125f);
  EXPECT_FLOAT_EQ(f[3], -0.125f);
  EXPECT_FLOAT_EQ(f[4], 0.25f);
  EXPECT_FLOAT_EQ(f[2], 0.5f);
  c.elite_fraction = 0.2;  // keep the best and the worst
  const auto e = shape_fitness(r, c);
  EXPECT_FLOAT_EQ(e[2], 0.5f);
  EXPECT_FLOAT_EQ(e[1], -0.5f);
  EXPECT_EQ(e[0], 0.0f);
  EXPECT_EQ(e[3], 0.0f);
  EXPECT_EQ(e[4], 0.0f);
  c.elite_fraction = 0;
  EXPECT_THROW(shape_fitness(r, c), std::invalid_argument);
}

TEST(Fitness, PlainZScore) {
  const std::vector<float> r = {1, 2, 3, 4};
  const auto f = shape_fitness(r, {Shaping::kZScore, 3.0, 1.0});
  const double sd = std::sqrt(1.25);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(f[size_t(i)], (i + 1 - 2.5) / sd, 1e-6);
}

TEST(Fitness, RejectsNanAndInfWithAClearError) {
  std::vector<float> r = {0.1f, 0.2f, std::numeric_limits<float>::quiet_NaN(), 0.4f};
  try {
    shape_fitness(r, {});
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("member 2 is NaN"), std::string::npos) << e.what();
  }
  r[2] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(shape_fitness(r, {Shaping::kZScore, 3.0, 1.0}), std::invalid_argument);
  EXPECT_THROW(shape_fitness(std::vector<float>{1, 2, 3}, {}), std::invalid_argument);  // odd, mirrored
  std::vector<float> name_check = {0, 0};
  Shaping s;
  EXPECT_TRUE(shaping_from_name("centered_rank", &s));
  EXPECT_EQ(s, Shaping::kCenteredRank);
  EXPECT_FALSE(shaping_from_name("bogus", &s));
}

}  // namespace
}  // namespace qes::es

// The umbrella header compiles on its own and its usage sketch holds together.
#include "qes/es.hpp"
#include "es_test_util.hpp"

namespace qes::es {
namespace {
TEST(Umbrella, TheUsageSketchRuns) {
  testing::OwnedMatrix w = testing::random_matrix(DType::Q4_0, 8, 128, 1, 0, 15);
  TrainableSet set = TrainableSet::select({{"blk.0.attn_q.weight", w.m}});
  Updater upd(set, UpdateConfig{.run_seed = 5, .population = 4, .mode = ResidualMode::kReplay, .window = 2});
  for (uint32_t t = 0; t < 3; ++t) {
    const NoiseParams np = upd.noise_params(t, 0.3);
    const TileNoiseSampler& smp = upd.noise_sampler(0.3);
    std::vector<float> rewards(4);
    for (uint32_t i = 0; i < 4; ++i) {
      const PerturbationRecord rec = apply_member(set, np, smp, i);
      rewards[i] = float(rec.applied) + float(i);
      restore(set, rec);
    }
    const UpdateStats st = upd.step(t, 0.3, 1.0f, shape_fitness(rewards, ShapingConfig{}));
    EXPECT_EQ(st.codes, 8 * 128);
  }
  EXPECT_EQ(upd.history().steps.size(), 3u);
}
}  // namespace
}  // namespace qes::es
