#pragma once
// A task is what the optimizer climbs: a fixed list of problems in two splits,
// the chat prompt for each, and a score for the text a model generated.
//
// The prompt is kept as chat messages (system, user) plus an assistant prefix
// (text the assistant's turn already starts with), so the model's own chat
// template can render it. render_chatml() renders the ChatML form that Qwen2.5
// Instruct uses, which is what the QES paper's code feeds its models.
//
// Contract for the generated text: the decoded completion that follows the
// rendered prompt, without the stop token (<|im_end|>, EOS) and without the
// assistant prefix. This is what vLLM's output.text is in the reference code.
//
// score() is const and thread-safe: the evaluator calls it from many threads.
#include <cstddef>
#include <string>
#include <string_view>

namespace qes::tasks {

enum class Split { train, test };

std::string_view split_name(Split split);

struct ChatPrompt {
  std::string system;            // empty: no system message is rendered
  std::string user;
  std::string assistant_prefix;  // rendered right after "<|im_start|>assistant\n"
};

struct Score {
  double reward = 0.0;  // what the optimizer maximizes
  bool correct = false; // what accuracy counts
  // Parts of the reward where the task has them (Countdown: reward =
  // 0.1 * format + answer). Tasks without parts leave format 0 and set answer = reward.
  double format = 0.0;
  double answer = 0.0;
};

class Task {
 public:
  virtual ~Task() = default;

  virtual std::string_view name() const = 0;
  virtual std::size_t size(Split split) const = 0;
  virtual ChatPrompt prompt(Split split, std::size_t index) const = 0;
  virtual Score score(Split split, std::size_t index, std::string_view generated) const = 0;

  // The prompt as the text a ChatML model is fed (the default render_chatml).
  virtual std::string rendered_prompt(Split split, std::size_t index) const;

  double reward(Split split, std::size_t index, std::string_view generated) const {
    return score(split, index, generated).reward;
  }
  bool correct(Split split, std::size_t index, std::string_view generated) const {
    return score(split, index, generated).correct;
  }
};

// ChatML as Qwen2.5's template writes it with add_generation_prompt=True:
//   <|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n{prefix}
// (Qwen2.5 inserts a default system message when none is given; we render none.)
std::string render_chatml(const ChatPrompt& prompt);

}  // namespace qes::tasks
