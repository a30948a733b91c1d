#include "qes/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "qes/es/philox.hpp"
#include "qes/es/updater.hpp"
#include "qes/generate_text.hpp"
#include "qes/gguf.hpp"
#include "qes/memory.hpp"
#include "qes/tasks/make_task.hpp"
#include "qes/topology.hpp"
#include "qes/train/checkpoint.hpp"
#include "qes/train/interrupt.hpp"
#include "qes/train/metrics.hpp"
#include "qes/train/population.hpp"
#include "qes/train/problem_runner.hpp"
#include "qes/train/progress.hpp"

namespace qes::train {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The trainer's own stream purpose for prompt sampling: the es streams use
// 1..3 and tests 15; the key holds 4 bits of purpose.
constexpr auto kPromptSampling = static_cast<es::StreamPurpose>(8);


// The config keys that may differ between a run and its resumption.
bool same_result_config(nlohmann::json a, nlohmann::json b, std::string* diff) {
  for (auto it = a.begin(); it != a.end(); ++it) {
    if (!b.contains(it.key()) || b[it.key()] != it.value()) {
      *diff = it.key() + " was " + it.value().dump() + ", now " + (b.contains(it.key()) ? b[it.key()].dump() : "absent");
      return false;
    }
  }
  return true;
}

struct RewardStats {
  double mean = 0, std = 0, min = 0, max = 0;
};
RewardStats reward_stats(const std::vector<float>& r) {
  RewardStats s;
  if (r.empty()) return s;
  s.min = s.max = r[0];
  double sum = 0;
  for (float v : r) {
    sum += v;
    s.min = std::min<double>(s.min, v);
    s.max = std::max<double>(s.max, v);
  }
  s.mean = sum / double(r.size());
  double var = 0;
  for (float v : r) var += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(var / double(r.size()));
  return s;
}

}  // namespace

es::TrainableSet select_trainable(const ModelFile& file, const std::vector<std::string>& patterns) {
  std::vector<es::NamedMatrix> all;
  for (const TensorView& t : file.tensors)
    if (t.supported() && is_quantized(t.dtype())) all.push_back({t.name, t.matrix()});
  es::TensorSelector selector;
  if (!patterns.empty()) selector.patterns = patterns;
  if (all.empty())
    throw std::runtime_error(file.path + ": the model has no quantized tensor to train (quantize it first: qes quantize IN OUT --type q4_0)");
  try {
    return es::TrainableSet::select(all, selector);
  } catch (const std::exception& e) {
    throw std::runtime_error(file.path + ": no trainable tensor: " + e.what());
  }
}

std::vector<size_t> sample_problems(uint64_t seed, uint32_t iteration, size_t count, size_t pool) {
  std::vector<size_t> idx(pool);
  for (size_t i = 0; i < pool; i++) idx[i] = i;
  if (count == 0 || count >= pool) return idx;
  // Partial Fisher-Yates with bounded draws from a counter-based stream.
  es::CounterStream s(es::derive_stream_key({seed, kPromptSampling, iteration, 0, 0, 0}));
  for (size_t i = 0; i < count; i++) {
    const uint64_t range = pool - i;
    const uint64_t x = (uint64_t(s.next_u32()) << 32) | s.next_u32();
    const size_t j = i + static_cast<size_t>(static_cast<unsigned __int128>(x) * range >> 64);
    std::swap(idx[i], idx[j]);
  }
  idx.resize(count);
  return idx;
}

std::string before_after_line(const TrainResult& r) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "accuracy before: %.2f%% after: %.2f%% (n=%d)", 100 * r.accuracy_before,
                100 * r.accuracy_after, r.eval_n);
  return buf;
}

TrainResult run_training(TrainConfig cfg, const TrainHooks& hooks) {
  cfg.resolve_paths();
  cfg.validate("config");
  Progress progress(hooks.progress, !cfg.quiet);
  const bool resuming = !cfg.resume.empty();

  // ---- checkpoint to continue from
  CheckpointState ckpt;
  es::History resumed_history;
  if (resuming) {
    ckpt = load_checkpoint_state(cfg.resume);
    std::string diff;
    if (!same_result_config(ckpt.config, cfg.result_json(), &diff))
      throw std::runtime_error(cfg.resume + ": the checkpoint was made with a different config: " + diff);
    if (ckpt.iteration > cfg.iterations)
      throw std::runtime_error(cfg.resume + ": the checkpoint is at iteration " + std::to_string(ckpt.iteration) +
                               ", past iterations = " + std::to_string(cfg.iterations));
    resumed_history = load_checkpoint_history(cfg.resume, ckpt);
  }
  const es::UpdateConfig ucfg = cfg.update_config();
  ucfg.validate();
  // Full mode keeps its residual only in memory: it resumes by re-running the
  // history from the base model. The other modes continue from the saved codes.
  const bool rerun_from_base = resuming && ucfg.mode == es::ResidualMode::kFull;
  const std::string model_path =
      resuming && !rerun_from_base ? checkpoint_model_path(cfg.resume, ckpt) : cfg.model;

  // ---- model (codes writable in memory, the file untouched), task, prompts
  ModelBundle bundle = load_model_bundle(model_path, cfg.tokenizer, /*need_tokenizer=*/true, gguf::MapMode::CopyOnWrite);
  std::unique_ptr<tasks::Task> task = tasks::make_task(cfg.task_spec());
  if (task->size(tasks::Split::train) == 0)
    throw std::runtime_error(cfg.task_path + ": the task has no training problems");
  if (task->size(tasks::Split::test) == 0)
    throw std::runtime_error(cfg.task_path + ": the task has no held-out (test) problems to measure accuracy on");
  es::TrainableSet set = select_trainable(bundle.file, cfg.trainable);
  es::Updater updater(set, ucfg);
  if (resuming) {
    if (rerun_from_base) updater.rerun(resumed_history);
    else updater.resume(resumed_history);
  }

  PromptOptions popt;
  popt.chat_template = cfg.chat_template;
  popt.max_new_tokens = cfg.max_new_tokens;
  popt.temperature = cfg.temperature;
  popt.sampling_seed = cfg.seed;
  GeneratorOptions gopt;
  gopt.batch = cfg.batch;
  gopt.parallel_min_bytes = cfg.parallel_min_bytes;
  ProblemRunner runner(*task, *bundle.tokenizer, bundle.model, gopt, popt, static_cast<size_t>(cfg.eval_problems));
  if (bundle.model.config.context_length > 0 && runner.longest_sequence() > bundle.model.config.context_length)
    progress.message("qes train: warning: prompts + max_new_tokens reach " + std::to_string(runner.longest_sequence()) +
                     " positions, past the model's context_length " + std::to_string(bundle.model.config.context_length));

  InPlaceEvaluator evaluator(set, runner);
  LocalPartition partition;

  TrainResult result;
  result.model_path = cfg.out;
  result.svg_path = cfg.svg;
  result.metrics_path = cfg.metrics;
  result.checkpoint_dir = cfg.checkpoint_dir;
  result.eval_n = static_cast<int>(runner.eval_size());
  result.trainable_codes = static_cast<size_t>(set.total_codes());

  progress.message("qes train: " + model_path + ": " + std::to_string(set.size()) + " trainable tensors, " +
                   std::to_string(set.total_codes()) + " codes; task " + std::string(task->name()) + ": " +
                   std::to_string(runner.train_size()) + " train / " + std::to_string(runner.eval_size()) +
                   " held-out problems; N=" + std::to_string(cfg.population) + " mode " + cfg.mode + ", " +
                   std::to_string(thread_count()) + " thread(s)" +
                   (ucfg.mode == es::ResidualMode::kFull ? ", residual " + format_bytes(updater.residual_bytes()) : ""));

  MetricsLog metrics(cfg.metrics, resuming ? ckpt.iteration : -1);
  CheckpointState state;
  state.config = cfg.result_json();
  state.seed = cfg.seed;
  double last_accuracy = -1;
  int start = 0;
  if (resuming) {
    start = ckpt.iteration;
    state.accuracy_before = ckpt.accuracy_before;
    state.reward_before = ckpt.reward_before;
    state.eval_n = ckpt.eval_n;
    last_accuracy = ckpt.last_accuracy;
    progress.message("qes train: resumed from " + cfg.resume + " at iteration " + std::to_string(start));
  } else {
    progress.message("qes train: evaluating the base model on " + std::to_string(runner.eval_size()) + " held-out problems");
    const RunOutcome before = runner.run_eval();
    state.accuracy_before = before.accuracy;
    state.reward_before = before.mean_reward;
    state.eval_n = static_cast<int>(before.n);
    last_accuracy = before.accuracy;
    metrics.append({{"iteration", 0},
                    {"eval_accuracy", before.accuracy},
                    {"eval_reward", before.mean_reward},
                    {"eval_n", before.n},
                    {"eval_seconds", before.seconds},
                    {"eval_tokens_per_s", before.tokens_per_s()},
                    {"peak_rss_bytes", peak_rss_bytes()}});
  }
  result.accuracy_before = state.accuracy_before;
  result.reward_before = state.reward_before;
  result.accuracy_after = last_accuracy;
  result.reward_after = state.reward_before;

  auto checkpoint = [&](int iteration) {
    state.iteration = iteration;
    state.last_accuracy = last_accuracy;
    save_checkpoint(cfg.checkpoint_dir, state, updater.history(), bundle.file);
  };

  install_interrupt_handler();
  const auto run_start = Clock::now();
  int done = start;
  int done_here = 0;
  bool evaluated_last = !resuming && start == cfg.iterations;
  try {
    for (int t = start + 1; t <= cfg.iterations; t++) {
      const uint32_t es_iteration = static_cast<uint32_t>(t - 1);
      const auto it_start = Clock::now();
      const std::vector<size_t> problems =
          sample_problems(cfg.seed, es_iteration, static_cast<size_t>(cfg.prompts_per_iteration), runner.train_size());
      const es::NoiseParams noise = updater.noise_params(es_iteration, cfg.sigma);
      const std::vector<uint32_t> members = partition.local_members(static_cast<uint32_t>(cfg.population));
      std::vector<MemberOutcome> outcomes;
      evaluator.evaluate(noise, members, problems, interrupt_requested, outcomes);
      if (interrupt_requested()) break;  // the partial iteration is dropped
      const std::vector<float> rewards = partition.gather(outcomes, static_cast<uint32_t>(cfg.population));
      const std::vector<float> fitness = es::shape_fitness(rewards, cfg.shaping_config());
      const auto up_start = Clock::now();
      const float alpha = cfg.alpha_at(es_iteration);
      const es::UpdateStats ustats = updater.step(es_iteration, cfg.sigma, alpha, fitness);
      const double up_seconds = seconds_since(up_start);
      const double it_seconds = seconds_since(it_start);
      done = t;
      done_here++;

      double tp = 0, te = 0, tr = 0, acc_sum = 0, applied = 0, gated = 0;
      int64_t tokens = 0;
      for (const MemberOutcome& o : outcomes) {
        tp += o.perturb_seconds;
        te += o.evaluate_seconds;
        tr += o.restore_seconds;
        tokens += o.generated_tokens;
        acc_sum += o.accuracy;
        applied += double(o.applied);
        gated += double(o.gated);
      }
      const RewardStats rs = reward_stats(rewards);
      result.time_perturb += tp;
      result.time_evaluate += te;
      result.time_restore += tr;
      result.time_update += up_seconds;
      result.time_iterations += it_seconds;
      result.generated_tokens += tokens;
      nlohmann::json line{{"iteration", t},
                          {"reward_mean", rs.mean},
                          {"reward_std", rs.std},
                          {"reward_min", rs.min},
                          {"reward_max", rs.max},
                          {"train_accuracy", acc_sum / double(outcomes.size())},
                          {"prompts", problems.size()},
                          {"alpha", alpha},
                          {"sigma", cfg.sigma},
                          {"update_ratio", ustats.update_ratio()},
                          {"boundary_hit_ratio", ustats.boundary_hit_ratio()},
                          {"changed_codes", ustats.changed},
                          {"boundary_hits", ustats.boundary_hits},
                          {"perturbed_codes", applied / double(outcomes.size())},
                          {"gated", gated / double(outcomes.size())},
                          {"time_perturb", tp},
                          {"time_evaluate", te},
                          {"time_restore", tr},
                          {"time_update", up_seconds},
                          {"time_iteration", it_seconds},
                          {"update_share", it_seconds > 0 ? up_seconds / it_seconds : 0},
                          {"generated_tokens", tokens},
                          {"tokens_per_s", te > 0 ? double(tokens) / te : 0},
                          {"peak_rss_bytes", peak_rss_bytes()}};
      const bool eval_now = t == cfg.iterations || (cfg.eval_every > 0 && t % cfg.eval_every == 0);
      if (eval_now) {
        const RunOutcome ev = runner.run_eval();
        last_accuracy = ev.accuracy;
        result.accuracy_after = ev.accuracy;
        result.reward_after = ev.mean_reward;
        evaluated_last = t == cfg.iterations;
        line["eval_accuracy"] = ev.accuracy;
        line["eval_reward"] = ev.mean_reward;
        line["eval_n"] = ev.n;
        line["eval_seconds"] = ev.seconds;
        line["eval_tokens_per_s"] = ev.tokens_per_s();
      }
      metrics.append(line);
      progress.update({t, cfg.iterations, rs.mean, rs.max, last_accuracy, te > 0 ? double(tokens) / te : 0,
                       seconds_since(run_start), done_here});
      if (hooks.after_iteration) hooks.after_iteration(t);
      if (cfg.checkpoint_every > 0 && t % cfg.checkpoint_every == 0 && t < cfg.iterations && !interrupt_requested())
        checkpoint(t);
      if (interrupt_requested()) break;
    }
  } catch (...) {
    remove_interrupt_handler();
    progress.finish();
    throw;
  }
  remove_interrupt_handler();
  progress.finish();
  result.iterations_done = done;
  result.interrupted = interrupt_requested();
  clear_interrupt();

  if (result.interrupted) {
    checkpoint(done);
    progress.message("qes train: interrupted after iteration " + std::to_string(done) + "; checkpoint in " +
                     cfg.checkpoint_dir + " (continue with --resume " + cfg.checkpoint_dir + ")");
  } else if (!evaluated_last && done == cfg.iterations && resuming && start == cfg.iterations) {
    // Resumed at the very end: measure once more so "after" is known.
    const RunOutcome ev = runner.run_eval();
    result.accuracy_after = ev.accuracy;
    result.reward_after = ev.mean_reward;
  }
  if (done == 0 && !resuming) {
    result.accuracy_after = result.accuracy_before;
    result.reward_after = result.reward_before;
  }
  // The model is always saved, in the input's types (the codes changed in place).
  gguf::write_gguf(cfg.out, bundle.file);
  write_curve_svg(cfg.svg, metrics.curve(), "qes train: " + std::filesystem::path(cfg.model).filename().string() +
                                                 " on " + std::string(task->name()));
  result.peak_rss_bytes = peak_rss_bytes();
  return result;
}

}  // namespace qes::train
