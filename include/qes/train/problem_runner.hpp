#pragma once
// Runs a list of task problems through the model as it is now (whatever codes
// the weights hold at the moment) and scores the texts: the unit of work both
// the population evaluation and the held-out evaluation are made of.
//
// Prompts are rendered and tokenized once, at construction. Sampling (when the
// temperature is not 0) uses one seed per (purpose, problem), the same for
// every population member: members differ only by their weights (common
// random numbers), which is what the pair differences need.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "qes/generate.hpp"
#include "qes/tasks/task.hpp"
#include "qes/tokenizer.hpp"

namespace qes::train {

struct PromptOptions {
  // "" = ChatML when the vocabulary has <|im_start|>, else plain; "chatml"; "plain"
  // (the system text, a blank line, the user text, then the assistant prefix).
  std::string chat_template;
  int max_new_tokens = 256;
  double temperature = 0.0;
  uint64_t sampling_seed = 0;
};

struct RunOutcome {
  size_t n = 0;
  double mean_reward = 0;
  double accuracy = 0;           // fraction correct, in [0, 1]
  int64_t generated_tokens = 0;
  double seconds = 0;            // generation + scoring, wall
  std::vector<double> rewards;   // per problem, in the order given
  std::vector<std::string> texts;
  double tokens_per_s() const { return seconds > 0 ? double(generated_tokens) / seconds : 0; }
};

class ProblemRunner {
 public:
  // `eval_count`: how many test problems to prepare (the first ones; 0 = all).
  // The runner owns the generator over `model`; its KV cache slots are sized
  // once for the longest prompt + max_new_tokens (generator.max_context = 0).
  ProblemRunner(const tasks::Task& task, const Tokenizer& tokenizer, const Model& model,
                GeneratorOptions generator, const PromptOptions& options, size_t eval_count);

  // Generates and scores problems `indices` of `split`; `sampling_stream`
  // separates the sampling seeds of different uses (training vs evaluation).
  RunOutcome run(tasks::Split split, std::span<const size_t> indices, uint64_t sampling_stream,
                 bool keep_texts = false);
  // The first eval_count test problems (the held-out set).
  RunOutcome run_eval(bool keep_texts = false);

  size_t train_size() const { return train_prompts_.size(); }
  size_t eval_size() const { return eval_prompts_.size(); }
  // The longest prompt + max_new_tokens: what one KV cache slot must hold.
  int longest_sequence() const;
  const std::vector<int32_t>& prompt_tokens(tasks::Split split, size_t index) const;
  bool uses_chatml() const { return chatml_; }

 private:
  std::vector<int32_t> encode(tasks::Split split, size_t index) const;

  const tasks::Task& task_;
  const Tokenizer& tokenizer_;
  std::unique_ptr<Generator> generator_;
  PromptOptions options_;
  bool chatml_ = false;
  std::vector<std::vector<int32_t>> train_prompts_, eval_prompts_;
  std::vector<int32_t> stop_tokens_;
};

// The prompt text for one problem, as ProblemRunner feeds it.
std::string render_prompt(const tasks::Task& task, tasks::Split split, size_t index, bool chatml);

}  // namespace qes::train
