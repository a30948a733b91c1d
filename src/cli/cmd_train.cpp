// `qes train --config configs/X.toml [--key value ...]`: fine-tune a quantized
// model with QES. Every config key is also an option (underscores -> dashes);
// the command line wins over the file. Progress goes to stderr; the last lines
// (stdout) are the before/after accuracy, the model path and the curve path.
#include "cli_options.hpp"
#include "command_registry.hpp"
#include "qes/generate_text.hpp"
#include "qes/train/config_file.hpp"
#include "qes/train/trainer.hpp"

#include <cstdio>
#include <map>
#include <memory>

namespace {

struct TrainArgs {
  qes::train::TrainConfig cfg;
  qes::cli::ComputeOptions compute;
  std::string config_file;
  bool no_mirror = false;
};

void add_train_options(CLI::App* cmd, TrainArgs& a) {
  auto& c = a.cfg;
  cmd->add_option("--config", a.config_file, "TOML config file (keys = these options, underscores for dashes)");
  // model and data
  cmd->add_option("--model,-m", c.model, "GGUF model to fine-tune (Q4_0 / Q4_1 / Q8_0 tensors train)");
  cmd->add_option("--tokenizer", c.tokenizer, "tokenizer file when the model has no vocabulary");
  cmd->add_option("--task", c.task, "countdown | countdown-generated | jsonl");
  cmd->add_option("--task-path", c.task_path, "the task's data file (countdown.json or JSONL)");
  cmd->add_option("--task-test-path", c.task_test_path, "jsonl: a second file for the held-out split");
  cmd->add_option("--train-count", c.train_count, "training problems (-1: the task's default)");
  cmd->add_option("--test-count", c.test_count, "countdown-generated: held-out problems");
  cmd->add_option("--task-seed", c.task_seed, "countdown-generated: generator seed");
  cmd->add_option("--system-prompt", c.system_prompt, "jsonl: system message for lines without one");
  cmd->add_option("--chat-template", c.chat_template, "chatml | plain (default: chatml when the vocabulary has <|im_start|>)");
  // ES
  cmd->add_option("--seed", c.seed, "run seed (noise, prompt sampling)");
  cmd->add_option("--population,-N", c.population, "members per iteration (even: mirrored pairs)");
  cmd->add_flag("--no-mirror", a.no_mirror, "independent members instead of mirrored pairs");
  cmd->add_option("--sigma", c.sigma, "perturbation scale, in code units");
  cmd->add_option("--alpha", c.alpha, "step size, with g = 1/(N sigma) sum F_i delta_i");
  cmd->add_option("--alpha-warmup", c.alpha_warmup, "iterations of linear alpha warm-up (0: none)");
  cmd->add_option("--mode", c.mode, "residual: replay | full | none");
  cmd->add_option("--window,-K", c.window, "replay window K");
  cmd->add_option("--gamma", c.gamma, "residual decay");
  cmd->add_option("--residual-clamp", c.residual_clamp, "|residual| bound");
  cmd->add_option("--shaping", c.shaping, "pairdiff-zscore | rank | zscore");
  cmd->add_option("--elite-fraction", c.elite_fraction, "rank shaping: fraction kept at each end");
  cmd->add_option("--clip", c.clip, "z-score clip");
  cmd->add_option("--trainable", c.trainable, "tensor name patterns (glob, or re:REGEX); default: blocks' attention and FFN");
  cmd->add_option("--sampler", c.sampler, "perturbation sampler: auto | sparse | dense");
  // schedule and generation
  cmd->add_option("--iterations,-n", c.iterations, "updates");
  cmd->add_option("--prompts-per-iteration", c.prompts_per_iteration, "training problems per iteration (0 or all: all)")
      ->transform(CLI::Transformer(std::map<std::string, std::string>{{"all", "0"}}));
  cmd->add_option("--max-new-tokens", c.max_new_tokens, "generated tokens per problem at most");
  cmd->add_option("--temperature", c.temperature, "0 = greedy");
  cmd->add_option("--batch,-b", c.batch, "sequences decoded at once");
  cmd->add_option("--eval-every", c.eval_every, "evaluate the held-out set every E iterations (0: only before/after)");
  cmd->add_option("--eval-problems", c.eval_problems, "held-out problems (the first n; 0 or all: all)")
      ->transform(CLI::Transformer(std::map<std::string, std::string>{{"all", "0"}}));
  // outputs
  cmd->add_option("--out,-o", c.out, "fine-tuned model (GGUF); default <model>-qes.gguf");
  cmd->add_option("--metrics", c.metrics, "metrics JSONL; default <out>.metrics.jsonl");
  cmd->add_option("--svg", c.svg, "training curve; default <out>.curve.svg");
  cmd->add_option("--checkpoint-dir", c.checkpoint_dir, "checkpoint folder; default <out>.ckpt");
  cmd->add_option("--checkpoint-every", c.checkpoint_every, "checkpoint every C iterations (0: only on Ctrl-C)");
  cmd->add_option("--resume", c.resume, "continue from this checkpoint folder");
  cmd->add_flag("--quiet,-q", c.quiet, "no progress output");
  qes::cli::add_compute_options(cmd, a.compute);
}

void run_train(CLI::App* cmd, TrainArgs& a) {
  const std::string source = a.config_file.empty() ? "command line" : a.config_file + " + command line";
  if (!a.config_file.empty()) qes::train::apply_config_file(cmd, a.config_file);
  if (a.no_mirror) a.cfg.mirrored = false;
  if (!a.cfg.mirrored && a.cfg.shaping == "pairdiff-zscore") a.cfg.shaping = "zscore";
  a.cfg.threads = a.compute.threads;
  a.cfg.validate(source);
  qes::cli::apply_compute_options(a.compute);
  const qes::train::TrainResult r = qes::train::run_training(a.cfg);
  std::fprintf(stderr, "qes train: %d iteration(s)%s; per iteration: perturb %.3fs evaluate %.3fs restore %.3fs update %.3fs "
               "(update %.1f%%); %.1f generated tokens/s; peak RSS %s\n",
               r.iterations_done, r.interrupted ? " (interrupted)" : "",
               r.iterations_done ? r.time_perturb / r.iterations_done : 0.0, r.iterations_done ? r.time_evaluate / r.iterations_done : 0.0,
               r.iterations_done ? r.time_restore / r.iterations_done : 0.0, r.iterations_done ? r.time_update / r.iterations_done : 0.0,
               r.time_iterations > 0 ? 100 * r.time_update / r.time_iterations : 0.0,
               r.time_evaluate > 0 ? r.generated_tokens / r.time_evaluate : 0.0, qes::format_bytes(r.peak_rss_bytes).c_str());
  std::printf("%s\nmodel: %s\ncurve: %s\n", qes::train::before_after_line(r).c_str(), r.model_path.c_str(),
              r.svg_path.c_str());
  std::fflush(stdout);
  if (r.interrupted) std::exit(130);
}

qes::cli::RegisterCommand reg([](CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Fine-tune a quantized model with Quantized Evolution Strategies");
  add_train_options(cmd, *args);
  cmd->callback([cmd, args] { run_train(cmd, *args); });
});

}  // namespace
