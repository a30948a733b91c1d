// Trainable selection, in-place perturbation, exact restore, gating, mirroring,
// and independence from the thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include "es_test_util.hpp"
#include "qes/es/perturb.hpp"

namespace qes::es {
namespace {
using testing::OwnedMatrix;
using testing::random_matrix;

TEST(TrainableSet, DefaultSelectionIsTheBlocksQuantizedLinearWeights) {
  OwnedMatrix q(DType::Q4_0, 4, 64), f(DType::F32, 4, 64);
  std::vector<NamedMatrix> all = {
      {"token_embd.weight", q.m},      {"blk.0.attn_q.weight", q.m},  {"blk.0.attn_norm.weight", f.m},
      {"blk.0.ffn_down.weight", q.m},  {"blk.12.ffn_gate.weight", q.m}, {"blk.0.attn_q.bias", q.m},
      {"output.weight", q.m},          {"blk.3.attn_output.weight", q.m}};
  const TrainableSet set = TrainableSet::select(all);
  std::vector<std::string> names;
  for (const auto& t : set.tensors()) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.12.ffn_gate.weight",
                                             "blk.3.attn_output.weight"}));
  TensorSelector glob;
  glob.patterns = {"blk.*.ffn_*", "output.weight"};
  EXPECT_EQ(TrainableSet::select(all, glob).size(), 3u);
  TensorSelector re;
  re.patterns = {"re:blk\\.0\\..*"};
  EXPECT_EQ(TrainableSet::select(all, re).size(), 3u);  // attn_q.weight, ffn_down, attn_q.bias (norm is F32)
  TensorSelector none;
  none.patterns = {"nothing*"};
  EXPECT_THROW(TrainableSet::select(all, none), std::invalid_argument);
  TensorSelector bad;
  bad.patterns = {"re:(("};
  EXPECT_THROW(TrainableSet::select(all, bad), std::invalid_argument);
  TrainableSet s;
  EXPECT_THROW(s.add("x", f.m), std::invalid_argument);
}

TEST(TrainableSet, TilesCoverEveryCodeOnce) {
  OwnedMatrix a(DType::Q8_0, 37, 96), b(DType::Q4_0, 3, 4096 + 64);
  TrainableSet set;
  set.add("a", a.m);
  set.add("b", b.m);
  EXPECT_EQ(set.total_codes(), 37 * 96 + 3 * (4096 + 64));
  int64_t covered = 0;
  for (int64_t g = 0; g < set.total_tiles(); ++g) {
    const TileRef r = set.tile(g);
    EXPECT_EQ(r.first, int64_t(r.tile) * kTileCodes);
    covered += r.len;
  }
  EXPECT_EQ(covered, set.total_codes());
  EXPECT_EQ(set.tile(0).len, 37u * 96);  // a short single tile
  EXPECT_EQ(set.tile(1).tensor, 1u);
}

struct Case {
  DType type;
  int lo, hi;
};

TEST(Perturb, RestoreIsBitIdenticalOverManyMembers) {
  for (Case c : {Case{DType::Q4_0, 0, 15}, Case{DType::Q4_1, 0, 15}, Case{DType::Q8_0, -128, 127}}) {
    for (double sigma : {0.01, 0.3, 2.5}) {
      OwnedMatrix m1 = random_matrix(c.type, 24, 512, 1, c.lo, c.hi);
      OwnedMatrix m2 = random_matrix(c.type, 5, 96, 2, c.lo, c.hi);
      const std::vector<uint8_t> b1 = m1.bytes, b2 = m2.bytes;
      TrainableSet set;
      set.add("blk.0.attn_q.weight", m1.m);
      set.add("blk.0.ffn_up.weight", m2.m);
      NoiseParams p;
      p.run_seed = 77;
      p.sigma = sigma;
      int64_t applied = 0, gated = 0;
      for (uint32_t it = 0; it < 3; ++it) {
        p.iteration = it;
        for (uint32_t member = 0; member < 20; ++member) {
          const PerturbationRecord rec = apply_member(set, p, member);
          applied += rec.applied;
          gated += rec.gated;
          if (rec.applied) {
            EXPECT_FALSE(m1.bytes == b1 && m2.bytes == b2);
          }
          restore(set, rec);
          ASSERT_EQ(m1.bytes, b1) << dtype_name(c.type) << " sigma " << sigma << " member " << member;
          ASSERT_EQ(m2.bytes, b2);
        }
      }
      EXPECT_GT(applied, 0);
      if (sigma > 1) {
        EXPECT_GT(gated, 0);  // codes near the range ends get gated
      }
    }
  }
}

TEST(Perturb, MirroredMemberIsNegatedAndGatingSkipsOutOfRange) {
  OwnedMatrix m = random_matrix(DType::Q4_0, 16, 256, 3, 0, 15);
  const OwnedMatrix base = m;
  TrainableSet set;
  set.add("w", m.m);
  NoiseParams p;
  p.run_seed = 5;
  p.iteration = 9;
  p.sigma = 0.8;
  const PerturbationRecord plus = apply_member(set, p, 6);
  std::vector<int> dplus(16 * 256);
  for (int64_t i = 0; i < 16 * 256; ++i)
    dplus[size_t(i)] = get_code(m.m, i / 256, i % 256) - get_code(base.m, i / 256, i % 256);
  restore(set, plus);
  const PerturbationRecord minus = apply_member(set, p, 7);
  int both = 0, gated_seen = 0;
  TileNoise noise;
  const TileNoiseSampler sampler(p.sigma);
  member_tile_noise(set, p, sampler, 6, set.tile(0), noise);
  std::vector<int> raw(16 * 256, 0);
  for (size_t k = 0; k < noise.size(); ++k) raw[noise.pos[k]] = noise.val[k];
  for (int64_t i = 0; i < 16 * 256; ++i) {
    const int q0 = get_code(base.m, i / 256, i % 256);
    const int dminus = get_code(m.m, i / 256, i % 256) - q0;
    const int d = raw[size_t(i)];
    // + member: d where q0 + d stays in [0, 15], else 0; - member: -d likewise.
    EXPECT_EQ(dplus[size_t(i)], (q0 + d >= 0 && q0 + d <= 15) ? d : 0);
    EXPECT_EQ(dminus, (q0 - d >= 0 && q0 - d <= 15) ? -d : 0);
    if (d != 0 && dplus[size_t(i)] != 0 && dminus != 0) ++both;
    if (d != 0 && dplus[size_t(i)] == 0) ++gated_seen;
  }
  EXPECT_GT(both, 100);
  EXPECT_GT(gated_seen, 0);
  EXPECT_EQ(plus.gated + minus.gated > 0, true);
  restore(set, minus);
  EXPECT_EQ(m.bytes, base.bytes);
}

TEST(Perturb, GatedDeltaMatchesWhatApplyMemberDoes) {
  OwnedMatrix m = random_matrix(DType::Q4_1, 9, 1024, 8, 0, 15);  // 3 tiles, the last one short
  const OwnedMatrix base = m;
  TrainableSet set;
  set.add("w", m.m);
  NoiseParams p;
  p.run_seed = 8;
  p.sigma = 0.7;
  const TileNoiseSampler sampler(p.sigma);
  for (uint32_t member : {0u, 1u, 5u}) {
    const SparseDelta sd = gated_member_delta(set, p, sampler, member, 0);
    const PerturbationRecord rec = apply_member(set, p, sampler, member);
    EXPECT_EQ(int64_t(sd.flat.size()), rec.applied);
    std::vector<int> expect(9 * 1024, 0);
    for (size_t k = 0; k < sd.flat.size(); ++k) {
      if (k) {
        EXPECT_LT(sd.flat[k - 1], sd.flat[k]);
      }
      expect[size_t(sd.flat[k])] = sd.delta[k];
    }
    for (int64_t i = 0; i < 9 * 1024; ++i)
      ASSERT_EQ(get_code(m.m, i / 1024, i % 1024) - get_code(base.m, i / 1024, i % 1024), expect[size_t(i)]);
    restore(set, rec);
  }
}

TEST(Perturb, SameCodesForAnyThreadCount) {
  const OwnedMatrix base = random_matrix(DType::Q8_0, 64, 1024, 4, -100, 100);  // 16 tiles
  std::vector<std::vector<uint8_t>> results;
  const int saved_threads = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    for (double sigma : {0.02, 0.4}) {
      OwnedMatrix m = base;
      TrainableSet set;
      set.add("w", m.m);
      NoiseParams p;
      p.run_seed = 123;
      p.iteration = 2;
      p.sigma = sigma;
      omp_set_num_threads(threads);
      const PerturbationRecord r = apply_member(set, p, 11);
      results.push_back(m.bytes);
      restore(set, r);
      EXPECT_EQ(m.bytes, base.bytes);
    }
  }
  omp_set_num_threads(saved_threads);
  EXPECT_EQ(results[0], results[2]);
  EXPECT_EQ(results[0], results[4]);
  EXPECT_EQ(results[1], results[3]);
  EXPECT_EQ(results[1], results[5]);
  EXPECT_NE(results[0], results[1]);
  EXPECT_NE(results[0], base.bytes);
}

TEST(Perturb, NoiseDependsOnTensorIdNotOnOtherTensors) {
  // Same-shaped tensors get different noise; a tensor's noise does not change
  // when another tensor joins the set (noise is keyed by its own id).
  const OwnedMatrix base = random_matrix(DType::Q8_0, 8, 512, 6, -50, 50);
  OwnedMatrix a = base, b = base, c = base;
  TrainableSet two, one;
  two.add("blk.0.attn_k.weight", a.m);
  two.add("blk.1.attn_k.weight", b.m);
  one.add("blk.1.attn_k.weight", c.m);
  NoiseParams p;
  p.sigma = 0.3;
  apply_member(two, p, 0);
  apply_member(one, p, 0);
  EXPECT_NE(a.bytes, b.bytes);
  EXPECT_EQ(b.bytes, c.bytes);
}

}  // namespace
}  // namespace qes::es
