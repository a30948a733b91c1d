// The tile-by-tile update: replay = full when the window covers the run and no
// code hits a boundary, bit-identity across thread counts, boundary statistics,
// and a synthetic optimisation that must improve in every mode.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>

#include "es_test_util.hpp"
#include "qes/es/fitness.hpp"
#include "qes/es/updater.hpp"

namespace qes::es {
namespace {
using testing::OwnedMatrix;
using testing::random_matrix;

std::vector<float> random_fitness(uint32_t n, uint64_t seed, uint32_t iteration) {
  CounterStream s(derive_stream_key({seed, StreamPurpose::kTest, iteration, 0, 0, 0}));
  std::vector<float> r(n);
  for (float& x : r) x = float(s.uniform());
  return shape_fitness(r, {});
}

TEST(RoundToFp16, MatchesTheHalfConversion) {
  CounterStream s(derive_stream_key({1, StreamPurpose::kTest, 0, 0, 0, 0}));
  for (int i = 0; i < 200000; ++i) {
    const float mag = std::ldexp(float(s.uniform()), int(s.next_u32() % 40) - 30);
    const float x = (s.next_u32() & 1) ? -mag : mag;
    const float ref = fp16_to_fp32(fp32_to_fp16(x));
    ASSERT_EQ(round_to_fp16(x), ref) << x;
  }
  EXPECT_EQ(round_to_fp16(1.5f), 1.5f);
  EXPECT_EQ(round_to_fp16(0.0f), 0.0f);
}

struct RunResult {
  std::vector<uint8_t> a, b;
  std::vector<UpdateStats> stats;
};

RunResult run(ResidualMode mode, uint32_t window, const OwnedMatrix& a0, const OwnedMatrix& b0, int iterations,
              double sigma, float alpha, uint32_t population = 8, bool mirrored = true) {
  OwnedMatrix a = a0, b = b0;
  TrainableSet set;
  set.add("blk.0.attn_v.weight", a.m);
  set.add("blk.0.ffn_down.weight", b.m);
  UpdateConfig c;
  c.run_seed = 2024;
  c.population = population;
  c.mirrored = mirrored;
  c.mode = mode;
  c.window = window;
  Updater u(set, c);
  RunResult r;
  for (int it = 0; it < iterations; ++it) {
    std::vector<float> f = mirrored ? random_fitness(population, 9, uint32_t(it))
                                    : shape_fitness(std::vector<float>(population, 0.0f), {Shaping::kZScore, 3, 1});
    if (!mirrored) {
      CounterStream s(derive_stream_key({9, StreamPurpose::kTest, uint32_t(it), 1, 0, 0}));
      std::vector<float> rr(population);
      for (float& x : rr) x = float(s.uniform());
      f = shape_fitness(rr, {Shaping::kZScore, 3, 1});
    }
    r.stats.push_back(u.step(uint32_t(it), sigma, alpha, f));
  }
  r.a = a.bytes;
  r.b = b.bytes;
  return r;
}

TEST(Update, ReplayWithWindowCoveringTheRunEqualsFull) {
  // Q8_0 codes in [-40, 40]: far from the ends of [-128, 127], so neither a
  // perturbation nor an update can reach a boundary in 12 steps.
  const OwnedMatrix a0 = random_matrix(DType::Q8_0, 40, 256, 10, -40, 40);  // 10240 codes: 3 tiles
  const OwnedMatrix b0 = random_matrix(DType::Q8_0, 3, 96, 11, -40, 40);    // a short tile
  for (double sigma : {0.03, 0.6}) {  // sparse and dense samplers
    for (bool mirrored : {true, false}) {
      const RunResult full = run(ResidualMode::kFull, 0 + 1, a0, b0, 12, sigma, 0.4f, 8, mirrored);
      const RunResult replay = run(ResidualMode::kReplay, 12, a0, b0, 12, sigma, 0.4f, 8, mirrored);
      int64_t changed = 0;
      for (size_t i = 0; i < full.stats.size(); ++i) {
        EXPECT_EQ(full.stats[i].boundary_hits, 0);
        EXPECT_EQ(replay.stats[i].changed, full.stats[i].changed) << "step " << i;
        changed += full.stats[i].changed;
      }
      EXPECT_GT(changed, 100) << "the test must move codes to mean anything";
      EXPECT_EQ(replay.a, full.a) << "sigma " << sigma;
      EXPECT_EQ(replay.b, full.b);
      // A short window forgets: it must end elsewhere (shows the comparison has teeth).
      const RunResult short_window = run(ResidualMode::kReplay, 2, a0, b0, 12, sigma, 0.4f, 8, mirrored);
      EXPECT_NE(short_window.a, full.a);
    }
  }
}

TEST(Update, ResidualsOfReplayAndFullAgreeAfterTheRun) {
  const OwnedMatrix base = random_matrix(DType::Q8_0, 4, 1024, 12, -30, 30);
  OwnedMatrix mf = base, mr = base;
  TrainableSet sf, sr;
  sf.add("w", mf.m);
  sr.add("w", mr.m);
  UpdateConfig c;
  c.run_seed = 3;
  c.population = 6;
  c.mode = ResidualMode::kFull;
  Updater uf(sf, c);
  c.mode = ResidualMode::kReplay;
  c.window = 10;
  Updater ur(sr, c);
  EXPECT_EQ(uf.residual_bytes(), 4096u * 2);
  EXPECT_EQ(ur.residual_bytes(), 0u);
  for (uint32_t it = 0; it < 7; ++it) {
    const auto f = random_fitness(6, 4, it);
    uf.step(it, 0.5, 0.3f, f);
    ur.step(it, 0.5, 0.3f, f);
  }
  const std::vector<float> ef = uf.residuals(0), er = ur.residuals(0);
  EXPECT_EQ(ef, er);
  OwnedMatrix untouched = base;
  TrainableSet s0;
  s0.add("w", untouched.m);
  c.mode = ResidualMode::kFull;
  const std::vector<float> dither = Updater(s0, c).residuals(0);
  int moved = 0;  // residuals that are no longer the initial dither
  for (size_t i = 0; i < ef.size(); ++i) moved += ef[i] != dither[i];
  EXPECT_GT(moved, 1000);
}

TEST(Update, BitIdenticalForOneAndTwoThreads) {
  // Full Q4_0 range: boundary hits and gating happen, which must not matter either.
  const OwnedMatrix a0 = random_matrix(DType::Q4_0, 40, 512, 20, 0, 15);
  const OwnedMatrix b0 = random_matrix(DType::Q4_1, 7, 64, 21, 0, 15);
  const int saved_threads = omp_get_max_threads();
  for (ResidualMode mode : {ResidualMode::kReplay, ResidualMode::kFull, ResidualMode::kNone}) {
    omp_set_num_threads(1);
    const RunResult one = run(mode, 4, a0, b0, 8, 0.05, 1.5f);
    omp_set_num_threads(2);
    const RunResult two = run(mode, 4, a0, b0, 8, 0.05, 1.5f);
    omp_set_num_threads(saved_threads);
    EXPECT_EQ(one.a, two.a) << residual_mode_name(mode);
    EXPECT_EQ(one.b, two.b) << residual_mode_name(mode);
    int64_t hits = 0, changed = 0;
    for (size_t i = 0; i < one.stats.size(); ++i) {
      EXPECT_EQ(one.stats[i].changed, two.stats[i].changed);
      EXPECT_EQ(one.stats[i].boundary_hits, two.stats[i].boundary_hits);
      hits += one.stats[i].boundary_hits;
      changed += one.stats[i].changed;
      EXPECT_GT(one.stats[i].update_ratio(), 0.0);
      EXPECT_LT(one.stats[i].update_ratio(), 0.5);
      EXPECT_GE(one.stats[i].boundary_hit_ratio(), 0.0);
    }
    EXPECT_GT(changed, 0) << residual_mode_name(mode);
    EXPECT_GT(hits, 0) << residual_mode_name(mode);
  }
}

TEST(Update, BitIdenticalWithAndWithoutTheSimdReplayLoop) {
  const OwnedMatrix a0 = random_matrix(DType::Q4_0, 40, 512, 22, 0, 15);
  const OwnedMatrix b0 = random_matrix(DType::Q8_0, 7, 64, 23, -128, 127);
  const bool simd = set_update_simd(true);
  const RunResult fast = run(ResidualMode::kReplay, 6, a0, b0, 8, 0.05, 1.5f);
  set_update_simd(false);
  const RunResult portable = run(ResidualMode::kReplay, 6, a0, b0, 8, 0.05, 1.5f);
  set_update_simd(true);
  std::printf("replay loop: %s vs portable\n", simd ? "SIMD copy (avx2)" : "no SIMD copy on this CPU: portable");
  EXPECT_EQ(fast.a, portable.a);
  EXPECT_EQ(fast.b, portable.b);
  if (!simd) GTEST_SKIP() << "this CPU has no SIMD copy of the replay loop; only the portable path ran";
}

TEST(Update, RejectsBadInput) {
  OwnedMatrix m = random_matrix(DType::Q4_0, 2, 64, 1, 0, 15);
  TrainableSet set;
  set.add("w", m.m);
  UpdateConfig c;
  c.population = 4;
  Updater u(set, c);
  EXPECT_THROW(u.step(0, 0.01, 1.0f, std::vector<float>(3, 0.0f)), std::invalid_argument);
  EXPECT_THROW(u.step(0, 0.01, 1.0f, std::vector<float>{0, 0, std::nanf(""), 0}), std::invalid_argument);
  EXPECT_THROW(u.step(0, -1.0, 1.0f, std::vector<float>(4, 0.0f)), std::invalid_argument);
  EXPECT_TRUE(u.history().steps.empty());
  u.step(3, 0.01, 1.0f, std::vector<float>(4, 0.0f));
  EXPECT_THROW(u.step(3, 0.01, 1.0f, std::vector<float>(4, 0.0f)), std::invalid_argument);
  c.population = 5;
  EXPECT_THROW(Updater(set, c), std::invalid_argument);  // odd mirrored population
}

// reward = -|| dequant(W) - target ||^2 over all trainable tensors.
double distance(const TrainableSet& set, const std::vector<std::vector<float>>& target) {
  double d = 0;
  std::vector<float> row;
  for (size_t t = 0; t < set.size(); ++t) {
    const QuantMatrix& m = set.tensors()[t].matrix;
    row.resize(size_t(m.cols));
    for (int64_t r = 0; r < m.rows; ++r) {
      dequantize_row(m.type, m.row_ptr(r), row.data(), m.cols);
      for (int64_t c = 0; c < m.cols; ++c) {
        const double x = row[size_t(c)] - target[t][size_t(r * m.cols + c)];
        d += x * x;
      }
    }
  }
  return d;
}

double optimise(ResidualMode mode, int iterations, double sigma = 0.5, float alpha = 0.5f, bool near = false) {
  OwnedMatrix a = random_matrix(DType::Q4_0, 4, 64, 30, 0, 15);
  OwnedMatrix b = random_matrix(DType::Q8_0, 2, 64, 31, -20, 20);
  // Targets: the same matrices with other codes (reachable exactly).
  OwnedMatrix ta = random_matrix(DType::Q4_0, 4, 64, 30, 0, 15), tb = random_matrix(DType::Q8_0, 2, 64, 31, -20, 20);
  CounterStream s(derive_stream_key({32, StreamPurpose::kTest, 0, 0, 0, 0}));
  if (near) {  // a quarter of the codes one step away
    for (int64_t i = 0; i < 256; ++i) {
      const uint32_t w = s.next_u32();
      if (w % 4 == 0) set_code(ta.m, i / 64, i % 64, std::clamp(get_code(ta.m, i / 64, i % 64) + ((w >> 8) & 1 ? 1 : -1), 0, 15));
    }
    for (int64_t i = 0; i < 128; ++i) {
      const uint32_t w = s.next_u32();
      if (w % 4 == 0) set_code(tb.m, i / 64, i % 64, get_code(tb.m, i / 64, i % 64) + ((w >> 8) & 1 ? 1 : -1));
    }
  } else {
    for (int64_t i = 0; i < 256; ++i) set_code(ta.m, i / 64, i % 64, int(s.next_u32() % 16));
    for (int64_t i = 0; i < 128; ++i) set_code(tb.m, i / 64, i % 64, int(s.next_u32() % 41) - 20);
  }
  std::vector<std::vector<float>> target(2);
  target[0].resize(256);
  target[1].resize(128);
  for (int r = 0; r < 4; ++r) dequantize_row(ta.m.type, ta.m.row_ptr(r), target[0].data() + r * 64, 64);
  for (int r = 0; r < 2; ++r) dequantize_row(tb.m.type, tb.m.row_ptr(r), target[1].data() + r * 64, 64);

  TrainableSet set;
  set.add("a", a.m);
  set.add("b", b.m);
  UpdateConfig c;
  c.run_seed = 77;
  c.population = 16;
  c.mode = mode;
  c.window = 20;
  c.gamma = 0.9f;
  Updater u(set, c);
  const double initial = distance(set, target);
  std::vector<float> rewards(c.population);
  for (int it = 0; it < iterations; ++it) {
    const NoiseParams p = u.noise_params(uint32_t(it), sigma);
    for (uint32_t m = 0; m < c.population; ++m) {
      const PerturbationRecord rec = apply_member(set, p, m);
      rewards[m] = float(-distance(set, target));
      restore(set, rec);
    }
    u.step(uint32_t(it), sigma, alpha, shape_fitness(rewards, {}));
  }
  return distance(set, target) / initial;
}

TEST(Update, SyntheticOptimisationImprovesInEveryMode) {
  // reward = -distance of the dequantized weights to a random target; final
  // over initial distance (0 is reachable).
  const double full = optimise(ResidualMode::kFull, 60);
  const double replay = optimise(ResidualMode::kReplay, 60);
  const double none = optimise(ResidualMode::kNone, 60);
  std::printf("far target, final/initial distance: full %.3f replay %.3f none %.3f\n", full, replay, none);
  EXPECT_LT(full, 0.8);
  EXPECT_LT(replay, 0.8);
  EXPECT_LT(none, 0.8);
}

TEST(Update, ResidualKeepsSmallStepsWhereNoResidualDrifts) {
  // Near the optimum (a quarter of the codes one step away) with small sigma
  // and alpha: error feedback accumulates the consistent part of g and
  // converges; stochastic rounding without residual (QuZO-style) turns the
  // noise of g into random code moves and drifts away (the paper's point).
  const double full = optimise(ResidualMode::kFull, 100, 0.05, 0.05f, true);
  const double replay = optimise(ResidualMode::kReplay, 100, 0.05, 0.05f, true);
  const double none = optimise(ResidualMode::kNone, 100, 0.05, 0.05f, true);
  std::printf("near target, final/initial distance: full %.3f replay %.3f none %.3f\n", full, replay, none);
  EXPECT_LT(full, 0.6);
  EXPECT_LT(replay, 0.8);
  EXPECT_GT(none, 2.0 * std::max(full, replay));
}

}  // namespace
}  // namespace qes::es
