#include "qes/train/checkpoint.hpp"

#include <filesystem>
#include <stdexcept>

#include "qes/gguf.hpp"
#include "qes/train/atomic_write.hpp"

namespace qes::train {

namespace fs = std::filesystem;

void save_checkpoint(const std::string& dir, CheckpointState state, const es::History& history,
                     const ModelFile& model) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(dir + ": cannot create the checkpoint folder: " + ec.message());
  const std::string tag = std::to_string(state.iteration);
  state.model_file = "model-" + tag + ".gguf";
  state.history_file = "history-" + tag + ".json";
  gguf::write_gguf((fs::path(dir) / state.model_file).string(), model);
  history.save((fs::path(dir) / state.history_file).string());
  const nlohmann::json j{{"format", CheckpointState::kFormatVersion},
                         {"iteration", state.iteration},
                         {"seed", state.seed},
                         {"prompt_rng", {{"seed", state.seed}, {"next_iteration", state.iteration}}},
                         {"config", state.config},
                         {"accuracy_before", state.accuracy_before},
                         {"reward_before", state.reward_before},
                         {"eval_n", state.eval_n},
                         {"last_accuracy", state.last_accuracy},
                         {"model", state.model_file},
                         {"history", state.history_file}};
  write_file_atomic((fs::path(dir) / "state.json").string(), j.dump(2) + "\n");
  // The previous checkpoint's files are no longer referenced.
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const bool ours = (name.rfind("model-", 0) == 0 && e.path().extension() == ".gguf") ||
                      (name.rfind("history-", 0) == 0 && e.path().extension() == ".json");
    if (ours && name != state.model_file && name != state.history_file) fs::remove(e.path(), ec);
  }
}

CheckpointState load_checkpoint_state(const std::string& dir) {
  const std::string path = (fs::path(dir) / "state.json").string();
  if (!fs::exists(path)) throw std::runtime_error(dir + ": not a checkpoint folder (no state.json)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": not valid JSON: " + e.what());
  }
  CheckpointState s;
  try {
    if (j.at("format").get<int>() != CheckpointState::kFormatVersion)
      throw std::runtime_error("format " + j.at("format").dump() + " is not " +
                               std::to_string(CheckpointState::kFormatVersion));
    s.iteration = j.at("iteration").get<int>();
    s.seed = j.at("seed").get<uint64_t>();
    s.config = j.at("config");
    s.accuracy_before = j.at("accuracy_before").get<double>();
    s.reward_before = j.at("reward_before").get<double>();
    s.eval_n = j.at("eval_n").get<int>();
    s.last_accuracy = j.at("last_accuracy").get<double>();
    s.model_file = j.at("model").get<std::string>();
    s.history_file = j.at("history").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  if (s.iteration < 0) throw std::runtime_error(path + ": negative iteration");
  return s;
}

es::History load_checkpoint_history(const std::string& dir, const CheckpointState& state) {
  const std::string path = (fs::path(dir) / state.history_file).string();
  es::History h = es::History::load(path);
  if (static_cast<int>(h.steps.size()) != state.iteration)
    throw std::runtime_error(path + ": holds " + std::to_string(h.steps.size()) + " steps, state.json says " +
                             std::to_string(state.iteration));
  return h;
}

std::string checkpoint_model_path(const std::string& dir, const CheckpointState& state) {
  return (fs::path(dir) / state.model_file).string();
}

}  // namespace qes::train
