// Golden hashes of fixed runs: the perturbation and the update (given rewards)
// must be bit-identical on every compiler, ISA and machine (DESIGN.md §5). The
// hashes were recorded on x86-64; the same test run on aarch64 and armhf (cross
// build under qemu-user) must print and match the same values. A change to the
// samplers or the update arithmetic changes what a seed means: it fails here on
// purpose, and the constants (and any saved histories) must be renewed.
#include <gtest/gtest.h>

#include <cstdio>

#include "es_test_util.hpp"
#include "qes/es/fitness.hpp"
#include "qes/es/updater.hpp"

namespace qes::es {
namespace {
using testing::OwnedMatrix;
using testing::random_matrix;

uint64_t fnv1a64(const std::vector<uint8_t>& bytes, uint64_t h = 1469598103934665603ull) {
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t golden_run(ResidualMode mode, double sigma, bool mirrored) {
  OwnedMatrix a = random_matrix(DType::Q4_0, 12, 512, 41, 0, 15);
  OwnedMatrix b = random_matrix(DType::Q8_0, 5, 96, 42, -128, 127);
  OwnedMatrix c = random_matrix(DType::Q4_1, 3, 64, 43, 0, 15);
  TrainableSet set;
  set.add("blk.0.attn_q.weight", a.m);
  set.add("blk.0.ffn_up.weight", b.m);
  set.add("blk.1.ffn_gate.weight", c.m);
  UpdateConfig cfg;
  cfg.run_seed = 0x0123456789ABCDEFull;
  cfg.population = 6;
  cfg.mirrored = mirrored;
  cfg.mode = mode;
  cfg.window = 3;
  Updater u(set, cfg);
  uint64_t h = 1469598103934665603ull;
  for (uint32_t it = 0; it < 5; ++it) {
    const NoiseParams p = u.noise_params(it, sigma);
    std::vector<float> rewards(cfg.population);
    for (uint32_t m = 0; m < cfg.population; ++m) {
      const PerturbationRecord rec = apply_member(set, p, m);
      h = fnv1a64(a.bytes, h);  // the perturbed codes themselves
      h = fnv1a64(b.bytes, h);
      rewards[m] = float(rec.applied % 7) + 0.25f * float(m);
      restore(set, rec);
    }
    u.step(it, sigma, 1.2f, shape_fitness(rewards, {mirrored ? Shaping::kPairZScore : Shaping::kZScore, 3.0, 1.0}));
    h = fnv1a64(a.bytes, h);
    h = fnv1a64(b.bytes, h);
    h = fnv1a64(c.bytes, h);
  }
  return h;
}

TEST(Golden, RunsHashTheSameOnEveryPlatform) {
  struct Case {
    ResidualMode mode;
    double sigma;
    bool mirrored;
    uint64_t expected;
  };
  const Case cases[] = {
      {ResidualMode::kReplay, 0.02, true, 0x9096d35ffecadd16ull},
      {ResidualMode::kReplay, 0.7, true, 0xabc41fc4970b76f1ull},
      {ResidualMode::kFull, 0.02, true, 0x48340e6bbd419594ull},
      {ResidualMode::kNone, 0.02, true, 0xfdfafd9923d7334full},
      {ResidualMode::kReplay, 0.3, false, 0x7c5778df84fa35eeull},
  };
  for (const Case& c : cases) {
    const uint64_t h = golden_run(c.mode, c.sigma, c.mirrored);
    std::printf("golden %s sigma %.2f %s: 0x%016llxull\n", residual_mode_name(c.mode), c.sigma,
                c.mirrored ? "mirrored" : "plain", (unsigned long long)h);
    EXPECT_EQ(h, c.expected) << residual_mode_name(c.mode) << " sigma " << c.sigma;
  }
}

}  // namespace
}  // namespace qes::es
