// `qes bench update`: what QES's optimizer costs on a real model, apart from
// generation. Runs the real integer update (es::Updater::step) on the model's
// trainable codes for K + R steps with synthetic mirrored fitness, so the
// replay window fills, and reports the time of a step at a full window; also
// the time to apply and restore one member's perturbation. Comparing these with
// an iteration's evaluation time (N members x prompts x tokens / generated
// tokens/s from `qes bench generate`) gives the update's share of an iteration
// (bench/README.md). The model file is never written.
#include "cli_options.hpp"
#include "command_registry.hpp"
#include "qes/es/perturb.hpp"
#include "qes/es/updater.hpp"
#include "qes/memory.hpp"
#include "qes/model_file.hpp"
#include "qes/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct UpdateBenchArgs {
  std::string model, mode = "replay";
  std::vector<std::string> trainable;
  int population = 50, window = 50, measure = 3, members = 4;
  double sigma = 0.005, alpha = 0.015, gamma = 0.9;
  uint64_t seed = 1;
  qes::cli::ComputeOptions compute;
};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Shaped fitness as pair-difference z-scores look: N(0,1) per pair, clipped to
// +-3, the mirrored member negated. Seeded, so runs are comparable.
std::vector<float> synthetic_fitness(std::mt19937_64& rng, int population) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<float> f(static_cast<size_t>(population));
  for (int j = 0; j + 1 < population; j += 2) {
    const float z = static_cast<float>(std::clamp(normal(rng), -3.0, 3.0));
    f[static_cast<size_t>(j)] = z;
    f[static_cast<size_t>(j) + 1] = -z;
  }
  return f;
}

void run_bench(const UpdateBenchArgs& a) {
  const int threads = qes::cli::apply_compute_options(a.compute);
  qes::LoadOptions lo;
  lo.map_mode = qes::gguf::MapMode::CopyOnWrite;  // codes change in memory only
  const qes::ModelFile file = qes::load_model_file(a.model, lo);
  qes::es::TrainableSet set = qes::train::select_trainable(file, a.trainable);

  qes::es::UpdateConfig cfg;
  cfg.run_seed = a.seed;
  cfg.population = static_cast<uint32_t>(a.population);
  cfg.window = static_cast<uint32_t>(a.window);
  cfg.gamma = static_cast<float>(a.gamma);
  if (!qes::es::residual_mode_from_name(a.mode, &cfg.mode))
    throw std::runtime_error("--mode: expected replay, full or none, got '" + a.mode + "'");
  cfg.validate();
  qes::es::Updater updater(set, cfg);
  const qes::es::TileNoiseSampler& sampler = updater.noise_sampler(a.sigma);

  std::printf("model %s: %lld trainable codes in %zu tensors; mode %s, N=%d, K=%d, gamma %.3g, sigma %.4g, alpha %.4g, %d threads\n",
              a.model.c_str(), static_cast<long long>(set.total_codes()), set.tensors().size(), a.mode.c_str(),
              a.population, a.window, a.gamma, a.sigma, a.alpha, threads);

  // One member's perturbation applied and restored, as the trainer does per member.
  std::vector<double> perturb, restore;
  int64_t applied = 0;
  for (int m = 0; m < a.members; ++m) {
    auto t0 = Clock::now();
    const qes::es::PerturbationRecord rec =
        qes::es::apply_member(set, updater.noise_params(0, a.sigma), sampler, static_cast<uint32_t>(m));
    perturb.push_back(seconds_since(t0));
    applied += rec.applied;
    t0 = Clock::now();
    qes::es::restore(set, rec);
    restore.push_back(seconds_since(t0));
  }
  std::fflush(stdout);
  std::printf("per member: perturb %.4f s, restore %.4f s (median of %d), %.0f codes changed on average\n",
              median(perturb), median(restore), a.members, static_cast<double>(applied) / a.members);

  // A window's worth of earlier steps is adopted as history (as a resumed run
  // does) rather than run, so a full window costs R steps, not K + R.
  std::mt19937_64 rng(a.seed);
  const bool replay = cfg.mode == qes::es::ResidualMode::kReplay;
  const int fill = replay ? a.window : 0;
  if (fill) {
    qes::es::History h;
    h.config = cfg;
    for (int t = 0; t < fill; ++t)
      h.steps.push_back({static_cast<uint32_t>(t), a.sigma, static_cast<float>(a.alpha), synthetic_fitness(rng, a.population)});
    updater.resume(h);
  }
  std::fflush(stdout);
  std::vector<double> full_window;
  qes::es::UpdateStats last;
  for (int t = fill; t < fill + a.measure; ++t) {
    const std::vector<float> f = synthetic_fitness(rng, a.population);
    last = updater.step(static_cast<uint32_t>(t), a.sigma, static_cast<float>(a.alpha), f);
    full_window.push_back(last.seconds);
    std::fprintf(stderr, "  step %d: %.3f s\n", t - fill + 1, last.seconds);
  }
  const double step = median(full_window);
  std::printf("update: %.4f s per step%s (median of %d); update ratio %.5f, boundary-hit ratio %.6f\n", step,
              fill ? " with the window full" : "", a.measure, last.update_ratio(), last.boundary_hit_ratio());
  if (cfg.mode == qes::es::ResidualMode::kFull)
    std::printf("full residual: %.1f MiB\n", static_cast<double>(updater.residual_bytes()) / (1 << 20));
  // share = update / (update + rest) <= 5%  <=>  rest >= 19 x update
  std::printf("for an update share <= 5%%, an iteration's perturb + evaluate + restore must take >= %.2f s\n",
              19.0 * step);
  std::printf("peak RSS %.1f MiB\n", static_cast<double>(qes::peak_rss_bytes()) / (1 << 20));
}

qes::cli::RegisterCommand reg([](CLI::App& app) {
  CLI::App* bench = qes::cli::subcommand_group(app, "bench", "Benchmarks");
  auto a = std::make_shared<UpdateBenchArgs>();
  auto* cmd = bench->add_subcommand(
      "update", "Time of QES's integer update (at a full replay window) and of one member's perturb/restore on a model");
  cmd->add_option("--model,-m", a->model, "GGUF model with Q4_0 / Q4_1 / Q8_0 tensors")->required();
  cmd->add_option("--mode", a->mode, "residual: replay | full | none")->capture_default_str();
  cmd->add_option("-N,--population", a->population, "members per iteration (mirrored pairs)")
      ->capture_default_str()->check(CLI::Range(2, 1 << 20));
  cmd->add_option("-K,--window", a->window, "replay window")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--gamma", a->gamma, "residual decay")->capture_default_str();
  cmd->add_option("--sigma", a->sigma, "perturbation scale (code units)")->capture_default_str();
  cmd->add_option("--alpha", a->alpha, "step size")->capture_default_str();
  cmd->add_option("--seed", a->seed, "run seed")->capture_default_str();
  cmd->add_option("--measure", a->measure, "steps timed after the window is full")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--members", a->members, "members whose perturb/restore is timed")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--trainable", a->trainable, "tensor name patterns (default: blocks' attention and FFN)");
  qes::cli::add_compute_options(cmd, a->compute);
  cmd->callback([a] {
    if (a->population % 2 != 0) throw std::runtime_error("--population: must be even (mirrored pairs)");
    run_bench(*a);
  });
});

}  // namespace
