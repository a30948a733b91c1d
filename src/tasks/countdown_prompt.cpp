// The Countdown user message, worded as the reference's USER_TEMPLATE.
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

std::string user_message(std::span<const int64_t> numbers, std::string_view target) {
  std::string out = "Using the numbers ";
  out += python_list(numbers);
  out += ", create an equation that equals ";
  out += target;
  out +=
      ". You can use basic arithmetic operations (+, -, *, /) and each number can only be used once. "
      "Show your work in <think> </think> tags. "
      "And return the final answer in <answer> </answer> tags, for example <answer> (1 + 2) / 3 </answer>.";
  return out;
}

}  // namespace qes::tasks::countdown
