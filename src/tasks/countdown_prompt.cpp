// The Countdown user message, worded as the reference's USER_TEMPLATE.
#include <algorithm>
#include <string>

#include "qes/tasks/countdown.hpp"

namespace qes::tasks::countdown {

// str() of a Python list of ints, as USER_TEMPLATE.format(numbers=...) writes it.
static std::string python_list(std::span<const int64_t> numbers) {
  std::string out = "[";
  for (size_t i = 0; i < numbers.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(numbers[i]);
  }
  return out + "]";
}

// str() of a numpy int array: right-aligned to the widest number, one space apart.
static std::string numpy_array(std::span<const int64_t> numbers) {
  size_t width = 0;
  for (int64_t n : numbers) width = std::max(width, std::to_string(n).size());
  std::string out = "[";
  for (size_t i = 0; i < numbers.size(); ++i) {
    if (i) out += ' ';
    const std::string n = std::to_string(numbers[i]);
    out.append(width - n.size(), ' ').append(n);
  }
  return out + "]";
}

static std::string user_message_with(std::string_view numbers_text, std::string_view target) {
  std::string out = "Using the numbers ";
  out += numbers_text;
  out += ", create an equation that equals ";
  out += target;
  out +=
      ". You can use basic arithmetic operations (+, -, *, /) and each number can only be used once. "
      "Show your work in <think> </think> tags. "
      "And return the final answer in <answer> </answer> tags, for example <answer> (1 + 2) / 3 </answer>.";
  return out;
}

std::string user_message(std::span<const int64_t> numbers, std::string_view target) {
  return user_message_with(python_list(numbers), target);
}

std::string raw_context(const CountdownProblem& problem) {
  return std::string(kSystemMessage) + user_message_with(numpy_array(problem.numbers), problem.target) +
         std::string(kResponsePrompt);
}

}  // namespace qes::tasks::countdown
