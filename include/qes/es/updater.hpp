#pragma once
// The integer update, tile by tile (DESIGN.md §4 steps 4-5).
//
// For step t with shaped fitness F_i (i < N), sigma_t and alpha_t:
//   c_i   = float(F_i / (N * sigma_t))
//   g     = sum_i c_i * delta_i      delta_i = member i's noise where q + delta_i stays in
//                                    range (the gating the member saw), else 0; float
//                                    sums in member order: deterministic
//   u     = alpha_t * g + gamma * e
//   Delta = round(u), halves away from zero; set to 0 where q + Delta leaves
//           [code_min, code_max] (a "boundary hit")
//   e     = fp16(clamp(u - Delta, -clamp, +clamp))
// The residual is an fp16 value in every mode: `full` stores exactly that state,
// and `replay` rematerializes it bit for bit when its window reaches back to the
// first step. The initial residual e_{-1} is the dither U(-0.5, 0.5) drawn from
// (run seed, kDither, tensor id, tile, position), rounded to fp16.
//
// Modes:
//  replay (default): per tile, start from the dither at the first step of the
//    window (the last K steps before t), replay those steps' residual dynamics in
//    a tile buffer, then apply step t. Gating of both the members' noise and of
//    Delta during the replayed steps uses the CURRENT codes q_t (the codes of
//    those steps are not kept: the paper's approximation), and replayed Deltas are
//    not applied (they already are in q_t). With K >= t and no boundary hit in the
//    run this equals `full` exactly; otherwise it differs by what the gating
//    approximation and the forgotten pre-window residual (weight gamma^K) change.
//  full: an fp16 residual per code (2 bytes per trainable code), the oracle.
//  none: no residual (QuZO-style): Delta = floor(v) + Bernoulli(frac(v)),
//    v = alpha_t * g, with uniforms from (run seed, kUpdateRounding, t, tensor id,
//    tile, position); gated like the others.
// Extra memory: per thread one tile of codes, residual, gradient and noise (64 KB);
// full mode adds the residual store. No full-size float tensor in replay mode.
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "qes/es/history.hpp"
#include "qes/es/perturb.hpp"
#include "qes/es/trainable.hpp"

namespace qes::es {

struct UpdateStats {
  uint32_t iteration = 0;
  int64_t codes = 0;          // trainable codes
  int64_t changed = 0;        // codes with Delta != 0 (the update ratio's numerator)
  int64_t boundary_hits = 0;  // codes where round(u) != 0 was zeroed at the range boundary
  double seconds = 0;
  double update_ratio() const { return codes ? double(changed) / double(codes) : 0.0; }
  double boundary_hit_ratio() const { return codes ? double(boundary_hits) / double(codes) : 0.0; }
};

class Updater {
 public:
  Updater(TrainableSet& set, const UpdateConfig& config);

  const UpdateConfig& config() const { return history_.config; }
  const History& history() const { return history_; }
  // The noise of iteration `iteration` that members are evaluated with (apply_member).
  NoiseParams noise_params(uint32_t iteration, double sigma) const;

  // Applies one update to the codes and appends it to the history. Throws on
  // a wrong fitness count, a non-finite value, or a non-increasing iteration.
  UpdateStats step(uint32_t iteration, double sigma, float alpha, std::span<const float> fitness);

  // The sampler members of this sigma are drawn with (cached; build it before
  // any parallel region). Pass it to apply_member to avoid rebuilding tables.
  const TileNoiseSampler& noise_sampler(double sigma);

  // Resume: adopt a checkpoint's history; the codes must be the checkpoint's.
  // Replay and none need nothing else. Full mode also needs its residual,
  // which the history does not carry: set every tensor's with
  // set_full_residual() first (saved from full_residual() at the checkpoint),
  // or rerun() from the base model instead.
  void resume(const History& history);
  // From the base model: apply every step of `history` in order (any mode).
  // The codes must be the base model's and this updater fresh.
  void rerun(const History& history);

  size_t residual_bytes() const;             // full mode's residual store
  // Full mode: the fp16 residual of one tensor (flat order), for checkpoints.
  std::span<const uint16_t> full_residual(uint32_t tensor_index) const;
  void set_full_residual(uint32_t tensor_index, std::span<const uint16_t> fp16_bits);
  static size_t scratch_bytes_per_thread();  // tile buffers

  // The residual of every code of one tensor (flat order) as the updater holds
  // it (full) or would rematerialize it for the next step (replay: replays the
  // last K steps per tile; none: zeros). For tests and diagnostics.
  std::vector<float> residuals(uint32_t tensor_index);

 private:
  struct WindowStep {
    const HistoryStep* step;
    const TileNoiseSampler* sampler;
    std::vector<float> coef;
    bool current;
  };
  void check_compatible(const History& h) const;
  const TileNoiseSampler* sampler_for(double sigma);
  std::vector<WindowStep> window_for(size_t current_index, bool include_current);
  // Runs `window` on one tile: codes q (updated when the window's last step is
  // current), residual e (in/out), gradient scratch g (zero in and out).
  void run_tile(const TileRef& ref, const std::vector<WindowStep>& window, int16_t* q, float* e, float* g,
                TileNoise& noise, int64_t& changed, int64_t& hits) const;
  void dither_tile(const TileRef& ref, float* e) const;

  TrainableSet& set_;
  History history_;
  std::vector<std::unique_ptr<TileNoiseSampler>> samplers_;
  std::vector<std::vector<uint16_t>> residual_;  // full mode: fp16 bits per code, per tensor
  std::vector<bool> residual_restored_;          // full mode: set_full_residual called, per tensor
};

// Tests: allow (default) or forbid the SIMD copy of the replay loop; returns
// whether a SIMD copy is now in use. Results are identical either way.
bool set_update_simd(bool allow);

// float rounded to the nearest fp16 value (ties to even), kept as float.
float round_to_fp16(float x);

}  // namespace qes::es
