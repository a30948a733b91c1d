#pragma once
// Countdown: combine the given numbers with + - * / and parentheses, each
// number used exactly once, to reach the target.
//
// Prompt and reward follow the QES paper's public code
// (github.com/dibbla/Quantized-Evolution-Strategies: countdown/countdown_prompts.py
// and int4_perturb.py / w8a8_perturb.py, whose reward_function comes from the
// "Evolution Strategies at Scale" code, github.com/VsonicV/es-fine-tuning-paper
// countdown/countdown_task.py). Exactly:
//
// Prompt: the Qwen2.5 chat template over a system and a user message, with
// add_generation_prompt and NO assistant prefix (the reference leaves
// "# + RESPONSE_PROMPT" commented out). Numbers are written as Python writes a
// list ("[44, 19, 35]"), the target string verbatim.
//
// Scoring of a completion c (the model's text after the prompt):
//   response = "Let me solve this step by step.\n<think>" + c   (the reference prepends RESPONSE_PROMPT)
//   reward   = 0.1 * format_reward("<think>" + response) + answer_reward(response)
// format_reward(s) = 1.0 if s matches ^<think>.*?</think>\n<answer>.*?</answer>$
//   (Python re.match, DOTALL; '$' also matches before one final newline), else
//   0.1 if "<think>.*?</think>" occurs, plus 0.5 if "<answer>.*?</answer>" occurs.
// answer_reward(response) = 1.0 if the last <answer>(.*?)</answer> (non-overlapping,
//   left to right) is non-empty, matches ^[0-9+\-*/() ]+$ (again '$' admits one final
//   newline), the integers in it (\d+) sorted equal the given numbers sorted, and
//   abs(float(eval(it)) - float(target)) < 1e-5 (strict); else 0.0. Any failure of
//   the evaluation (syntax, division by zero, ...) gives 0.0.
// Accuracy counts answer_reward > 0.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qes/tasks/task.hpp"

namespace qes::tasks {

struct CountdownProblem {
  int64_t id = 0;
  std::vector<int64_t> numbers;
  std::string target;  // a string as in the paper's data: "98", "-15.727272727272727"
  std::optional<std::string> solution;  // a reference answer when known (the paper's data has nulls)
};

namespace countdown {

inline constexpr std::string_view kSystemMessage =
    "You are a helpful assistant. You first think about the reasoning process in your mind "
    "and then provide the user with the answer.";
// The assistant turn the reference prepends to every completion before scoring.
inline constexpr std::string_view kResponsePrompt = "Let me solve this step by step.\n<think>";

// "Using the numbers [44, 19, 35], create an equation that equals 98. ..."
std::string user_message(std::span<const int64_t> numbers, std::string_view target);

// Why an answer earned 0 (or 1): one value per branch of the reference check.
enum class AnswerVerdict {
  no_answer,           // no <answer>...</answer> pair
  empty_answer,        // the last pair is empty
  illegal_characters,  // something besides digits, + - * / ( ) and spaces
  wrong_numbers,       // the numbers used differ from the given multiset
  invalid_expression,  // the evaluation fails (syntax, division by zero, complex, ...)
  bad_target,          // float(target) fails
  wrong_value,         // evaluates, but not within 1e-5 of the target
  correct,
};
std::string_view verdict_name(AnswerVerdict verdict);

// The content of the last <answer>...</answer>, as the reference's re.findall finds it.
std::optional<std::string_view> last_answer(std::string_view response);

// The reference's format_reward_function on text that already starts as the
// reference passes it ("<think>" + response).
double format_reward(std::string_view text);

AnswerVerdict judge_answer(std::string_view response, std::span<const int64_t> numbers,
                           std::string_view target);
double answer_reward(std::string_view response, std::span<const int64_t> numbers,
                     std::string_view target);

// The reference's reward_function(response, numbers, target).
Score score_response(std::string_view response, std::span<const int64_t> numbers,
                     std::string_view target);
// What QES scores for a completion: score_response(kResponsePrompt + completion).
Score score_completion(std::string_view completion, const CountdownProblem& problem);

// The paper's JSON: an array of {id, context, numbers, target (string), solution}.
// Throws std::runtime_error naming the file (and the problem) on bad input.
std::vector<CountdownProblem> load_json(const std::filesystem::path& path);

// The file's "context" field: system message + user message + response prompt
// with no chat template, numbers printed as numpy prints an int array
// ("[21 68  8 36]"). The reference ignores it (and so does load_json); we
// write it so our files look exactly like the paper's.
std::string raw_context(const CountdownProblem& problem);

// Writes problems in the paper's format (same keys, order and indentation), to
// a temporary name first and then renamed, so a crash never leaves half a file.
void write_json(const std::filesystem::path& path, const std::vector<CountdownProblem>& problems);

// New problems, solvable by construction: the target is the value of a random
// expression over the numbers (pick two of the pool, combine with a random
// operator, put the result back, until one is left), computed exactly over
// rationals. An expression whose value misses the target options is redrawn;
// every 100 misses the numbers are redrawn too. Deterministic for a seed on
// every machine (splitmix64 and our own bounded draws, no std:: distributions).
// Defaults follow the paper's data: 3-4 numbers in [1, 99]; 96% of its targets
// are integers in [1, 100].
struct GeneratorOptions {
  int min_count = 3;             // how many numbers per problem, uniform in [min_count, max_count]
  int max_count = 4;
  int64_t min_number = 1;        // each number uniform in [min_number, max_number]
  int64_t max_number = 99;
  bool integer_targets = true;   // false: fractions too ("266.6666666666667")
  double min_target = 1;         // inclusive range of the target; use -inf/inf for any
  double max_target = 100;
  int max_attempts = 100000;     // expressions per problem before giving up (then it throws)
};
std::vector<CountdownProblem> generate(uint64_t seed, std::size_t count,
                                       const GeneratorOptions& options = {});

}  // namespace countdown

struct CountdownTaskOptions {
  // false (the QES paper): the prompt ends at "<|im_start|>assistant\n".
  // true ("ES at scale" style): the assistant turn starts with kResponsePrompt.
  // Scoring is the same either way: kResponsePrompt + completion.
  bool prefill_response_prompt = false;
};

class CountdownTask final : public Task {
 public:
  using Options = CountdownTaskOptions;

  CountdownTask(std::vector<CountdownProblem> train, std::vector<CountdownProblem> test,
                Options options);
  CountdownTask(std::vector<CountdownProblem> train, std::vector<CountdownProblem> test)
      : CountdownTask(std::move(train), std::move(test), Options{}) {}

  // The paper's split: the first train_count problems train, the rest test.
  static CountdownTask from_json(const std::filesystem::path& path, std::size_t train_count = 200,
                                 Options options = {});
  // Generated problems: train from seed, test from a seed derived from it.
  static CountdownTask generated(uint64_t seed, std::size_t train_count, std::size_t test_count,
                                 const countdown::GeneratorOptions& generator = {},
                                 Options options = {});

  std::string_view name() const override { return "countdown"; }
  std::size_t size(Split split) const override;
  ChatPrompt prompt(Split split, std::size_t index) const override;
  Score score(Split split, std::size_t index, std::string_view generated) const override;

  const CountdownProblem& problem(Split split, std::size_t index) const;

 private:
  std::vector<CountdownProblem> train_, test_;
  Options options_;
};

}  // namespace qes::tasks
