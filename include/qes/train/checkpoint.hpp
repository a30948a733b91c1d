#pragma once
// A checkpoint folder:
//   state.json           what was done: updates applied, the result-deciding config,
//                        the evaluation before training, the files below
//   history-<t>.json     the seed history (es::History): with the base model alone
//                        it reproduces the run (Updater::rerun)
//   model-<t>.gguf       the model after t updates, a complete GGUF (it runs as is)
// Each file is written to a temporary name and renamed; state.json is written
// last and names the other two, so a crash while saving leaves the previous
// checkpoint intact. Older model/history files are removed after.
//
// The prompt sampler and the noise are counter-based functions of (seed,
// iteration): the "RNG state" to save is the seed and the next iteration,
// both recorded.
#include <string>

#include <nlohmann/json.hpp>

#include "qes/es/history.hpp"
#include "qes/model_file.hpp"

namespace qes::train {

struct CheckpointState {
  static constexpr int kFormatVersion = 1;
  int iteration = 0;             // updates applied
  nlohmann::json config;         // TrainConfig::result_json()
  uint64_t seed = 0;             // run seed (noise and prompt sampling keys)
  double accuracy_before = 0, reward_before = 0;
  int eval_n = 0;
  double last_accuracy = -1;     // last held-out accuracy seen (progress display)
  std::string model_file;        // names inside the folder
  std::string history_file;
};

void save_checkpoint(const std::string& dir, CheckpointState state, const es::History& history,
                     const ModelFile& model);
// Throws std::runtime_error naming the folder/file when something is missing or malformed.
CheckpointState load_checkpoint_state(const std::string& dir);
es::History load_checkpoint_history(const std::string& dir, const CheckpointState& state);
std::string checkpoint_model_path(const std::string& dir, const CheckpointState& state);

}  // namespace qes::train
