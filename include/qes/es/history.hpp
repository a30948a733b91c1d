#pragma once
// The seed history: everything, besides the base model, that determines a run's
// updates. Noise is never stored: it is regenerated from (run seed, iteration,
// member, tensor id, tile). Each step stores its iteration, sigma, alpha and the
// N shaped fitness values; the header stores the update configuration. The
// replay window uses the last `window` steps; the history keeps all of them so
// that the base model plus this file reproduce the whole run (Updater::rerun).
#include <cstdint>
#include <string>
#include <vector>

#include "qes/es/perturbation.hpp"

namespace qes::es {

enum class ResidualMode { kReplay, kFull, kNone };
const char* residual_mode_name(ResidualMode m);
bool residual_mode_from_name(const std::string& name, ResidualMode* out);

struct UpdateConfig {
  uint64_t run_seed = 0;
  uint32_t population = 50;  // N members per iteration (even when mirrored)
  bool mirrored = true;
  ResidualMode mode = ResidualMode::kReplay;
  uint32_t window = 50;         // K: replayed past steps (mode replay)
  float gamma = 0.9f;           // residual decay
  float residual_clamp = 1.5f;  // |e| <= clamp
  SamplerKind sampler = SamplerKind::kAuto;
  double sparse_threshold = 0.1;
  void validate() const;  // throws std::invalid_argument with the offending field
};

struct HistoryStep {
  uint32_t iteration = 0;
  double sigma = 0;
  float alpha = 0;
  std::vector<float> fitness;  // shaped F_i, i = 0..N-1
};

struct History {
  static constexpr int kFormatVersion = 1;
  UpdateConfig config;
  std::vector<HistoryStep> steps;

  std::string to_json() const;
  // `source` names the origin (a file name) in error messages.
  static History from_json(const std::string& text, const std::string& source = "history");
  void save(const std::string& path) const;  // temporary name, then rename
  static History load(const std::string& path);
};

}  // namespace qes::es
