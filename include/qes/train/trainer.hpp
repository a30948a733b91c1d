#pragma once
// A whole training run (DESIGN.md §4-5):
//
//   for t = 1..iterations:
//     problems <- sample prompts_per_iteration training problems (seed, t)
//     rewards  <- evaluate every member in place (perturb, generate, score, restore)
//     F        <- shape(rewards);  codes <- Updater::step(t - 1, sigma, alpha_t, F)
//     every eval_every: evaluate the unperturbed model on the held-out problems
//     every checkpoint_every: checkpoint (seed history + model)
//   write the model (GGUF, the input's types), the metrics, the curve.
//
// Iteration t in metrics and checkpoints counts updates applied; the noise
// and the prompts of update t are keyed by t - 1 (es::Updater's iteration).
// A SIGINT (interrupt.hpp) is honoured between members: the partial iteration
// is dropped, a checkpoint of the last complete one and the model are written.
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "qes/es/trainable.hpp"
#include "qes/model_file.hpp"
#include "qes/train/config.hpp"

namespace qes::train {

struct TrainHooks {
  std::FILE* progress = stderr;                       // nullptr: silent
  std::function<void(int iteration)> after_iteration;  // tests: e.g. request_interrupt() at some t
};

struct TrainResult {
  int iterations_done = 0;       // updates applied in total (resumed ones included)
  bool interrupted = false;
  double accuracy_before = 0, accuracy_after = 0;  // fractions on the held-out problems
  double reward_before = 0, reward_after = 0;
  int eval_n = 0;
  std::string model_path, svg_path, metrics_path, checkpoint_dir;
  // Measurements over the iterations this process ran (seconds are sums).
  double time_perturb = 0, time_evaluate = 0, time_restore = 0, time_update = 0, time_iterations = 0;
  int64_t generated_tokens = 0;
  size_t peak_rss_bytes = 0;
  size_t trainable_codes = 0;
};

// The prompts of one iteration: `count` distinct indices of [0, pool), a
// counter-based function of (seed, iteration) (0 or >= pool: all, in order).
std::vector<size_t> sample_problems(uint64_t seed, uint32_t iteration, size_t count, size_t pool);

// The quantized tensors of `file` that match `patterns` (empty: the default
// selection, DESIGN.md §4). Throws naming the file when nothing matches.
es::TrainableSet select_trainable(const ModelFile& file, const std::vector<std::string>& patterns);

// Runs (or resumes, when config.resume is set) a training run. Throws on bad
// input with a message naming the file or key.
TrainResult run_training(TrainConfig config, const TrainHooks& hooks = {});

// "accuracy before: 3.20% after: 5.10% (n=500)"
std::string before_after_line(const TrainResult& r);

}  // namespace qes::train
