// `qes eval --model M --task T [...]`: accuracy, mean reward and generation
// speed of a model on a task's held-out problems (or its training problems),
// prompts rendered and generated exactly as `qes train` does. Accepts the same
// --config file as train (training-only keys are ignored).
#include "cli_options.hpp"
#include "command_registry.hpp"
#include "qes/generate_text.hpp"
#include "qes/memory.hpp"
#include "qes/tasks/make_task.hpp"
#include "qes/topology.hpp"
#include "qes/train/config.hpp"
#include "qes/train/config_file.hpp"
#include "qes/train/problem_runner.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>

namespace {

struct EvalArgs {
  qes::train::TrainConfig cfg;  // the data and generation keys only
  qes::cli::ComputeOptions compute;
  std::string config_file, split = "test", texts_out;
  bool json = false;
};

// Keys of a training config that do not concern evaluation.
const std::vector<std::string> kTrainingOnlyKeys = {
    "seed", "population", "no_mirror", "sigma", "alpha", "alpha_warmup", "mode", "window", "gamma",
    "residual_clamp", "shaping", "elite_fraction", "clip", "trainable", "sampler", "iterations",
    "prompts_per_iteration", "eval_every", "out", "metrics", "svg", "checkpoint_dir", "checkpoint_every",
    "resume", "quiet"};

void run_eval(CLI::App* cmd, EvalArgs& a) {
  if (!a.config_file.empty()) qes::train::apply_config_file(cmd, a.config_file, kTrainingOnlyKeys);
  auto& c = a.cfg;
  if (c.model.empty()) throw std::invalid_argument("eval: --model is required");
  if (a.split != "test" && a.split != "train") throw std::invalid_argument("eval: --split must be test or train");
  qes::cli::apply_compute_options(a.compute);

  qes::ModelBundle bundle = qes::load_model_bundle(c.model, c.tokenizer, /*need_tokenizer=*/true);
  std::unique_ptr<qes::tasks::Task> task = qes::tasks::make_task(c.task_spec());
  const qes::tasks::Split split = a.split == "test" ? qes::tasks::Split::test : qes::tasks::Split::train;
  const size_t available = task->size(split);
  if (available == 0) throw std::runtime_error(c.task_path + ": the " + a.split + " split is empty");
  const size_t n = c.eval_problems > 0 ? std::min<size_t>(c.eval_problems, available) : available;

  qes::train::PromptOptions popt;
  popt.chat_template = c.chat_template;
  popt.max_new_tokens = c.max_new_tokens;
  popt.temperature = c.temperature;
  popt.sampling_seed = c.seed;
  qes::GeneratorOptions gopt;
  gopt.batch = c.batch;
  // Only the test split is prepared by the runner's eval set; for the train
  // split every training problem is prepared anyway.
  qes::train::ProblemRunner runner(*task, *bundle.tokenizer, bundle.model, gopt, popt, split == qes::tasks::Split::test ? n : 1);
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; i++) idx[i] = i;
  const qes::train::RunOutcome r = split == qes::tasks::Split::test ? runner.run_eval(!a.texts_out.empty())
                                                                    : runner.run(split, idx, 0xE7A1u, !a.texts_out.empty());
  if (!a.texts_out.empty()) {
    std::string lines;
    for (size_t i = 0; i < r.texts.size(); i++)
      lines += nlohmann::json{{"index", i}, {"reward", r.rewards[i]}, {"text", qes::sanitize_utf8(r.texts[i])}}.dump() + "\n";
    std::FILE* f = std::fopen(a.texts_out.c_str(), "wb");
    if (!f) throw std::runtime_error(a.texts_out + ": cannot write");
    std::fwrite(lines.data(), 1, lines.size(), f);
    std::fclose(f);
  }
  if (a.json) {
    std::printf("%s\n", nlohmann::json{{"model", c.model}, {"task", std::string(task->name())}, {"split", a.split},
                                       {"n", r.n}, {"accuracy", r.accuracy}, {"mean_reward", r.mean_reward},
                                       {"generated_tokens", r.generated_tokens}, {"seconds", r.seconds},
                                       {"tokens_per_s", r.tokens_per_s()}, {"batch", c.batch},
                                       {"threads", qes::thread_count()}, {"peak_rss_bytes", qes::peak_rss_bytes()}}
                            .dump()
                            .c_str());
  } else {
    std::printf("accuracy: %.2f%%  mean reward: %.4f  n=%zu  (%s split)\n", 100 * r.accuracy, r.mean_reward, r.n,
                a.split.c_str());
    std::printf("generated: %lld tokens in %.2f s, %.1f tokens/s (batch %d, %d thread(s)); peak RSS %s\n",
                static_cast<long long>(r.generated_tokens), r.seconds, r.tokens_per_s(), c.batch, qes::thread_count(),
                qes::format_bytes(qes::peak_rss_bytes()).c_str());
  }
}

qes::cli::RegisterCommand reg([](CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  auto& c = a->cfg;
  c.eval_problems = 0;
  auto* cmd = app.add_subcommand("eval", "Accuracy and mean reward of a model on a task (as qes train measures it)");
  cmd->add_option("--config", a->config_file, "a qes train TOML config (its model, task and generation keys)");
  cmd->add_option("--model,-m", c.model, "GGUF model");
  cmd->add_option("--tokenizer", c.tokenizer, "tokenizer file when the model has no vocabulary");
  cmd->add_option("--task", c.task, "countdown | countdown-generated | jsonl");
  cmd->add_option("--task-path", c.task_path, "the task's data file");
  cmd->add_option("--task-test-path", c.task_test_path, "jsonl: a second file for the held-out split");
  cmd->add_option("--train-count", c.train_count, "training problems (-1: the task's default)");
  cmd->add_option("--test-count", c.test_count, "countdown-generated: held-out problems");
  cmd->add_option("--task-seed", c.task_seed, "countdown-generated: generator seed");
  cmd->add_option("--system-prompt", c.system_prompt, "jsonl: system message for lines without one");
  cmd->add_option("--chat-template", c.chat_template, "chatml | plain");
  cmd->add_option("--split", a->split, "test (default) or train");
  cmd->add_option("--eval-problems,--problems", c.eval_problems, "the first n problems (0 or all: all)")
      ->transform(CLI::Transformer(std::map<std::string, std::string>{{"all", "0"}}));
  cmd->add_option("--max-new-tokens", c.max_new_tokens, "generated tokens per problem at most");
  cmd->add_option("--temperature", c.temperature, "0 = greedy");
  cmd->add_option("--batch,-b", c.batch, "sequences decoded at once");
  cmd->add_option("--texts", a->texts_out, "write every generated text (JSONL) here");
  cmd->add_flag("--json", a->json, "one JSON line instead of text");
  qes::cli::add_compute_options(cmd, a->compute);
  cmd->callback([cmd, a] { run_eval(cmd, *a); });
});

}  // namespace
