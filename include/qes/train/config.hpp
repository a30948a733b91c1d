#pragma once
// Everything a training run is made of, as one plain struct. `qes train` fills
// it from a TOML config file and the command line (every key is also an
// option: max_new_tokens in TOML is --max-new-tokens); tests fill it directly.
//
// Which fields change the result: everything but the output paths, the
// progress/measurement settings and the thread count (results are identical
// for any thread count). result_json() holds exactly those, and a checkpoint
// refuses to resume under a config whose result_json() differs (except
// `iterations`, which may grow).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "qes/es/fitness.hpp"
#include "qes/es/history.hpp"
#include "qes/tasks/make_task.hpp"

namespace qes::train {

struct TrainConfig {
  // ---- model and data
  std::string model;       // GGUF (or llama2.c checkpoint: float weights, nothing trains)
  std::string tokenizer;   // optional: tokenizer file when the model has no vocabulary
  std::string task = "countdown";  // countdown | countdown-generated | jsonl
  std::string task_path;           // countdown.json or the JSONL file
  std::string task_test_path;      // jsonl: optional second file for the test split
  int64_t train_count = -1;        // -1: the task's default
  int64_t test_count = 2000;       // countdown-generated
  uint64_t task_seed = 0;          // countdown-generated
  std::string system_prompt;       // jsonl: for lines without their own
  std::string chat_template;       // "" = detect from the vocabulary ("plain" = no template)

  // ---- ES
  uint64_t seed = 0;
  int population = 50;             // N, mirrored pairs: even
  bool mirrored = true;
  double sigma = 0.01;
  double alpha = 0.05;             // our 1/(N sigma) convention (the paper's code: alpha / N)
  int alpha_warmup = 0;            // iterations of linear warm-up: alpha * (t+1) / warmup
  std::string mode = "replay";     // replay | full | none
  int window = 50;                 // K
  double gamma = 0.9;
  double residual_clamp = 1.5;
  std::string shaping = "pairdiff-zscore";  // pairdiff-zscore | rank | zscore
  double elite_fraction = 1.0;     // rank only
  double clip = 3.0;               // z-score clip
  std::vector<std::string> trainable;  // tensor name patterns; empty = the paper's default
  std::string sampler = "auto";    // auto | sparse | dense (part of what a seed means)

  // ---- schedule and generation
  int iterations = 300;
  int prompts_per_iteration = 0;   // 0 = all training problems every iteration
  int max_new_tokens = 1024;
  double temperature = 0.0;        // 0 = greedy
  int batch = 32;                  // sequences decoded at once
  int eval_every = 25;             // 0 = only before and after
  int eval_problems = 2000;        // first n of the test split (0 = all)

  // ---- outputs
  std::string out;                 // final model; default: <model stem>-qes.gguf beside the current dir
  std::string metrics;             // JSONL; default: <out>.metrics.jsonl
  std::string svg;                 // curve; default: <out>.curve.svg
  std::string checkpoint_dir;      // default: <out>.ckpt
  int checkpoint_every = 0;        // 0 = only on interrupt and at the end
  std::string resume;              // checkpoint dir to continue from
  int threads = 0;
  bool quiet = false;              // no progress output
  // Generation steps run on all threads only above this many weight bytes
  // (GeneratorOptions::parallel_min_bytes); tests set 0 to use the parallel path on tiny models.
  double parallel_min_bytes = 4e6;

  // Fills the defaults that depend on other fields (out, metrics, svg, checkpoint_dir).
  void resolve_paths();
  // Throws std::invalid_argument naming `source` (the config file or "command line") and the key.
  void validate(const std::string& source = "config") const;

  es::Shaping shaping_kind() const;
  es::ResidualMode residual_mode() const;
  es::UpdateConfig update_config() const;
  es::ShapingConfig shaping_config() const;
  tasks::TaskSpec task_spec() const;
  float alpha_at(uint32_t iteration) const;

  // The fields that decide the result (see above), as JSON.
  nlohmann::json result_json() const;
};

}  // namespace qes::train
