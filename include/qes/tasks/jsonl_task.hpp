#pragma once
// A task from the user's own data: a JSON Lines file, one problem per line:
//
//   {"prompt": "What is 6 * 7?", "answer": "42", "match": "numeric"}
//   {"prompt": "Name a prime.", "answer": "^\\s*(2|3|5|7)\\b", "match": "regex", "split": "test"}
//
// Fields: "prompt" (string, required), "answer" (string or number, required),
// "match" (optional: "exact" (default) | "numeric" | "regex"), "system"
// (optional string: this line's system message, overriding the task's),
// "split" (optional: "train" | "test"). Other fields are ignored. Blank lines
// are skipped; line numbers in errors count every line from 1.
//
// Reward is 1 when the generated text matches, else 0:
//   exact   - the output equals the answer, both stripped of surrounding ASCII whitespace;
//   numeric - the last number in the output ([+-]digits[.digits][e[+-]digits]) is within
//             1e-6 * max(1, |answer|) of the answer, which must itself be a number;
//   regex   - the answer is a PCRE2 pattern that must match somewhere in the output
//             (anchor it with ^ and $ / \z for a whole-output match). Compiled once at
//             load, with UTF-8 and PCRE2_MATCH_INVALID_UTF, so a model's broken bytes
//             cannot make matching fail with an error.
// Why PCRE2 and not std::regex: libstdc++'s std::regex backtracks recursively and
// can overflow the stack on long outputs, is slow, and has no match limit; PCRE2
// has bounded backtracking (a pathological pattern stops with "no match" instead of
// hanging an evaluation worker), a JIT, and the Perl syntax users already write.
//
// Splits: when any line has "split", every line must, and those fields decide.
// Otherwise the first train_count lines train and the rest test; without a
// train_count every line trains and the test split is empty (evaluate on a
// second file with JsonlTask::load_splits).
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qes/tasks/task.hpp"

namespace qes::tasks {

enum class MatchKind { exact, numeric, regex };

std::string_view match_kind_name(MatchKind kind);

// The compiled check of one problem's answer. Copies share the compiled pattern.
class AnswerMatcher {
 public:
  // Throws std::invalid_argument saying what is wrong (a numeric answer that is
  // not a number, a pattern that does not compile, with PCRE2's message and offset).
  AnswerMatcher(MatchKind kind, std::string answer);

  bool matches(std::string_view output) const;
  MatchKind kind() const { return kind_; }
  const std::string& answer() const { return answer_; }

 private:
  struct CompiledRegex;
  MatchKind kind_;
  std::string answer_;
  double number_ = 0.0;
  std::shared_ptr<const CompiledRegex> regex_;
};

// The last number written in a text (numeric matching), if any.
std::optional<double> last_number_in(std::string_view text);

struct JsonlProblem {
  std::string prompt;
  std::string system;  // empty: none
  AnswerMatcher matcher;
  std::size_t line = 0;  // where it came from, for messages
};

struct JsonlTaskOptions {
  std::string system_prompt;               // for lines without their own "system"
  std::optional<std::size_t> train_count;  // see the split rules above
};

class JsonlTask final : public Task {
 public:
  using Options = JsonlTaskOptions;

  JsonlTask(std::vector<JsonlProblem> train, std::vector<JsonlProblem> test);

  // Throws std::runtime_error naming the file and the line on any bad input.
  static JsonlTask load(const std::filesystem::path& path, const Options& options = {});
  // Train from one file, test from another (their "split" fields, if any, are ignored).
  static JsonlTask load_splits(const std::filesystem::path& train_path, const std::filesystem::path& test_path,
                               const std::string& system_prompt = {});

  std::string_view name() const override { return "jsonl"; }
  std::size_t size(Split split) const override;
  ChatPrompt prompt(Split split, std::size_t index) const override;
  Score score(Split split, std::size_t index, std::string_view generated) const override;

  const JsonlProblem& problem(Split split, std::size_t index) const;

 private:
  std::vector<JsonlProblem> train_, test_;
};

}  // namespace qes::tasks
