// Countdown reward, rule for rule as the reference computes it (countdown.hpp).
// The reference uses Python regular expressions; each one is simple enough to
// decide with plain string searches, which also makes its exact semantics
// (non-greedy, DOTALL, '$' before a final newline) visible here.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "qes/tasks/arithmetic.hpp"
#include "qes/tasks/countdown.hpp"

namespace qes::tasks::countdown {
namespace {

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";
constexpr std::string_view kAnswerOpen = "<answer>";
constexpr std::string_view kAnswerClose = "</answer>";
constexpr std::string_view kThinkToAnswer = "</think>\n<answer>";

// re.search(open + ".*?" + close, s, re.DOTALL): an opening tag with a closing
// tag somewhere after it. The first opening tag is the best candidate.
bool has_tag_pair(std::string_view s, std::string_view open, std::string_view close) {
  const size_t start = s.find(open);
  return start != std::string_view::npos && s.find(close, start + open.size()) != std::string_view::npos;
}

// re.match(r"^<think>.*?<\/think>\n<answer>.*?<\/answer>$", s, re.DOTALL):
// s = "<think>" A "</think>\n<answer>" B "</answer>" with an optional final "\n"
// (Python's '$' matches at the end and just before a newline that ends the string).
bool has_full_format(std::string_view s) {
  if (!s.starts_with(kThinkOpen)) return false;
  auto matches_body = [](std::string_view body) {
    if (!body.ends_with(kAnswerClose)) return false;
    // The earliest "</think>\n<answer>" leaves the most room for B; A may be empty.
    const size_t at = body.find(kThinkToAnswer, kThinkOpen.size());
    return at != std::string_view::npos &&
           at + kThinkToAnswer.size() + kAnswerClose.size() <= body.size();
  };
  if (matches_body(s)) return true;
  return s.ends_with('\n') && matches_body(s.substr(0, s.size() - 1));
}

bool is_answer_char(char c) {
  return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '*' || c == '/' || c == '(' ||
         c == ')' || c == ' ';
}

// re.match(r"^[0-9+\-*/() ]+$", content): one or more allowed characters, then
// the end of the string or a newline that ends it.
bool has_only_answer_chars(std::string_view content) {
  if (content.ends_with('\n')) content.remove_suffix(1);
  return !content.empty() && std::all_of(content.begin(), content.end(), is_answer_char);
}

// [int(n) for n in re.findall(r"\d+", content)]; a run too long for int64 can
// equal none of the given numbers, so it becomes a sentinel that matches nothing.
std::vector<int64_t> numbers_in(std::string_view content, bool& overflowed) {
  std::vector<int64_t> found;
  overflowed = false;
  size_t i = 0;
  while (i < content.size()) {
    if (content[i] < '0' || content[i] > '9') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < content.size() && content[j] >= '0' && content[j] <= '9') ++j;
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(content.data() + i, content.data() + j, value);
    if (ec != std::errc()) overflowed = true;
    found.push_back(value);
    i = j;
  }
  return found;
}

}  // namespace

std::string_view verdict_name(AnswerVerdict verdict) {
  switch (verdict) {
    case AnswerVerdict::no_answer: return "no_answer";
    case AnswerVerdict::empty_answer: return "empty_answer";
    case AnswerVerdict::illegal_characters: return "illegal_characters";
    case AnswerVerdict::wrong_numbers: return "wrong_numbers";
    case AnswerVerdict::invalid_expression: return "invalid_expression";
    case AnswerVerdict::bad_target: return "bad_target";
    case AnswerVerdict::wrong_value: return "wrong_value";
    case AnswerVerdict::correct: return "correct";
  }
  return "unknown";
}

// re.findall(r"<answer>(.*?)<\/answer>", response, re.DOTALL)[-1]: matches are
// found left to right without overlap; each runs from an opening tag to the
// first closing tag after it (so it may contain another "<answer>").
std::optional<std::string_view> last_answer(std::string_view response) {
  std::optional<std::string_view> last;
  size_t pos = 0;
  while (true) {
    const size_t open = response.find(kAnswerOpen, pos);
    if (open == std::string_view::npos) break;
    const size_t content = open + kAnswerOpen.size();
    const size_t close = response.find(kAnswerClose, content);
    if (close == std::string_view::npos) break;  // no later opening tag can close either
    last = response.substr(content, close - content);
    pos = close + kAnswerClose.size();
  }
  return last;
}

double format_reward(std::string_view text) {
  if (has_full_format(text)) return 1.0;
  // Same additions in the same order as the reference, so the doubles match.
  double reward = 0.0;
  if (has_tag_pair(text, kThinkOpen, kThinkClose)) reward += 0.1;
  if (has_tag_pair(text, kAnswerOpen, kAnswerClose)) reward += 0.5;
  return reward;
}

AnswerVerdict judge_answer(std::string_view response, std::span<const int64_t> numbers,
                           std::string_view target) {
  const auto answer = last_answer(response);
  if (!answer) return AnswerVerdict::no_answer;
  if (answer->empty()) return AnswerVerdict::empty_answer;
  if (!has_only_answer_chars(*answer)) return AnswerVerdict::illegal_characters;

  bool overflowed = false;
  std::vector<int64_t> used = numbers_in(*answer, overflowed);
  std::vector<int64_t> given(numbers.begin(), numbers.end());
  std::sort(used.begin(), used.end());
  std::sort(given.begin(), given.end());
  if (overflowed || used != given) return AnswerVerdict::wrong_numbers;

  const ArithmeticResult value = evaluate_arithmetic(*answer);
  if (!value.ok()) return AnswerVerdict::invalid_expression;
  const auto wanted = parse_python_float(target);
  if (!wanted) return AnswerVerdict::bad_target;
  return std::fabs(value.value - *wanted) < 1e-5 ? AnswerVerdict::correct : AnswerVerdict::wrong_value;
}

double answer_reward(std::string_view response, std::span<const int64_t> numbers,
                     std::string_view target) {
  return judge_answer(response, numbers, target) == AnswerVerdict::correct ? 1.0 : 0.0;
}

Score score_response(std::string_view response, std::span<const int64_t> numbers,
                     std::string_view target) {
  std::string with_think;
  with_think.reserve(kThinkOpen.size() + response.size());
  with_think.append(kThinkOpen).append(response);
  Score score;
  score.format = format_reward(with_think);
  score.answer = answer_reward(response, numbers, target);
  score.reward = score.format * 0.1 + score.answer;
  score.correct = score.answer > 0.0;
  return score;
}

Score score_completion(std::string_view completion, const CountdownProblem& problem) {
  std::string response;
  response.reserve(kResponsePrompt.size() + completion.size());
  response.append(kResponsePrompt).append(completion);
  return score_response(response, problem.numbers, problem.target);
}

}  // namespace qes::tasks::countdown
