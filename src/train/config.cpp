#include "qes/train/config.hpp"

#include <cmath>
#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace qes::train {

namespace {

[[noreturn]] void bad(const std::string& source, const std::string& key, const std::string& problem) {
  throw std::invalid_argument(source + ": " + key + ": " + problem);
}

}  // namespace

void TrainConfig::resolve_paths() {
  if (out.empty()) {
    const std::filesystem::path m(model);
    out = m.stem().string() + "-qes.gguf";
  }
  if (metrics.empty()) metrics = out + ".metrics.jsonl";
  if (svg.empty()) svg = out + ".curve.svg";
  if (checkpoint_dir.empty()) checkpoint_dir = out + ".ckpt";
}

es::Shaping TrainConfig::shaping_kind() const {
  if (shaping == "pairdiff-zscore") return es::Shaping::kPairZScore;
  if (shaping == "rank") return es::Shaping::kCenteredRank;
  if (shaping == "zscore") return es::Shaping::kZScore;
  throw std::invalid_argument("shaping: '" + shaping + "' is not pairdiff-zscore, rank or zscore");
}

es::ResidualMode TrainConfig::residual_mode() const {
  es::ResidualMode m;
  if (!es::residual_mode_from_name(mode, &m))
    throw std::invalid_argument("mode: '" + mode + "' is not replay, full or none");
  return m;
}

void TrainConfig::validate(const std::string& source) const {
  if (model.empty()) bad(source, "model", "missing (the GGUF file to fine-tune)");
  if (task != "countdown" && task != "countdown-generated" && task != "jsonl")
    bad(source, "task", "'" + task + "' is not countdown, countdown-generated or jsonl");
  if (task != "countdown-generated" && task_path.empty())
    bad(source, "task_path", "missing (the " + task + " data file)");
  if (population < 2) bad(source, "population", "must be at least 2");
  if (mirrored && population % 2) bad(source, "population", "must be even with mirrored pairs");
  if (!(sigma > 0 && sigma <= 1000)) bad(source, "sigma", "must be in (0, 1000]");
  if (!(alpha >= 0) || !std::isfinite(alpha)) bad(source, "alpha", "must be a finite number >= 0");
  if (alpha_warmup < 0) bad(source, "alpha_warmup", "must be >= 0");
  es::ResidualMode m;
  if (!es::residual_mode_from_name(mode, &m)) bad(source, "mode", "'" + mode + "' is not replay, full or none");
  if (window < 1) bad(source, "window", "must be at least 1");
  if (!(gamma >= 0 && gamma <= 1)) bad(source, "gamma", "must be in [0, 1]");
  if (!(residual_clamp > 0)) bad(source, "residual_clamp", "must be > 0");
  if (shaping != "pairdiff-zscore" && shaping != "rank" && shaping != "zscore")
    bad(source, "shaping", "'" + shaping + "' is not pairdiff-zscore, rank or zscore");
  if (shaping == "pairdiff-zscore" && !mirrored) bad(source, "shaping", "pairdiff-zscore needs mirrored pairs");
  if (!(elite_fraction > 0 && elite_fraction <= 1)) bad(source, "elite_fraction", "must be in (0, 1]");
  es::SamplerKind k;
  if (!es::sampler_kind_from_name(sampler.c_str(), &k)) bad(source, "sampler", "'" + sampler + "' is not auto, sparse or dense");
  if (iterations < 0) bad(source, "iterations", "must be >= 0");
  if (prompts_per_iteration < 0) bad(source, "prompts_per_iteration", "must be >= 0 (0 = all)");
  if (max_new_tokens < 1) bad(source, "max_new_tokens", "must be at least 1");
  if (!(temperature >= 0) || !std::isfinite(temperature)) bad(source, "temperature", "must be >= 0 (0 = greedy)");
  if (batch < 1) bad(source, "batch", "must be at least 1");
  if (eval_every < 0) bad(source, "eval_every", "must be >= 0");
  if (eval_problems < 0) bad(source, "eval_problems", "must be >= 0 (0 = all)");
  if (checkpoint_every < 0) bad(source, "checkpoint_every", "must be >= 0");
  if (threads < 0) bad(source, "threads", "must be >= 0");
  if (chat_template != "" && chat_template != "plain" && chat_template != "chatml")
    bad(source, "chat_template", "'" + chat_template + "' is not chatml or plain");
}

es::UpdateConfig TrainConfig::update_config() const {
  es::UpdateConfig u;
  u.run_seed = seed;
  u.population = static_cast<uint32_t>(population);
  u.mirrored = mirrored;
  u.mode = residual_mode();
  u.window = static_cast<uint32_t>(window);
  u.gamma = static_cast<float>(gamma);
  u.residual_clamp = static_cast<float>(residual_clamp);
  es::sampler_kind_from_name(sampler.c_str(), &u.sampler);
  return u;
}

es::ShapingConfig TrainConfig::shaping_config() const {
  es::ShapingConfig s;
  s.kind = shaping_kind();
  s.clip = clip;
  s.elite_fraction = elite_fraction;
  return s;
}

tasks::TaskSpec TrainConfig::task_spec() const {
  tasks::TaskSpec t;
  t.kind = task;
  t.path = task_path;
  t.test_path = task_test_path;
  if (train_count >= 0) t.train_count = static_cast<size_t>(train_count);
  t.test_count = static_cast<size_t>(test_count);
  t.seed = task_seed;
  t.system_prompt = system_prompt;
  return t;
}

float TrainConfig::alpha_at(uint32_t iteration) const {
  if (alpha_warmup <= 0 || static_cast<int>(iteration) >= alpha_warmup) return static_cast<float>(alpha);
  return static_cast<float>(alpha * double(iteration + 1) / double(alpha_warmup));
}

nlohmann::json TrainConfig::result_json() const {
  return {{"model", std::filesystem::path(model).filename().string()},
          {"task", task},
          {"task_path", std::filesystem::path(task_path).filename().string()},
          {"task_test_path", std::filesystem::path(task_test_path).filename().string()},
          {"train_count", train_count},
          {"test_count", test_count},
          {"task_seed", task_seed},
          {"system_prompt", system_prompt},
          {"chat_template", chat_template},
          {"seed", seed},
          {"population", population},
          {"mirrored", mirrored},
          {"sigma", sigma},
          {"alpha", alpha},
          {"alpha_warmup", alpha_warmup},
          {"mode", mode},
          {"window", window},
          {"gamma", gamma},
          {"residual_clamp", residual_clamp},
          {"shaping", shaping},
          {"elite_fraction", elite_fraction},
          {"clip", clip},
          {"trainable", trainable},
          {"sampler", sampler},
          {"prompts_per_iteration", prompts_per_iteration},
          {"max_new_tokens", max_new_tokens},
          {"temperature", temperature},
          {"eval_every", eval_every},
          {"eval_problems", eval_problems}};
}

}  // namespace qes::train
