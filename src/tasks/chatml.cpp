// ChatML rendering shared by every task (see task.hpp for the exact layout).
#include <string>

#include "qes/tasks/task.hpp"

namespace qes::tasks {

std::string_view split_name(Split split) { return split == Split::train ? "train" : "test"; }

std::string render_chatml(const ChatPrompt& prompt) {
  std::string out;
  out.reserve(prompt.system.size() + prompt.user.size() + prompt.assistant_prefix.size() + 96);
  if (!prompt.system.empty()) out.append("<|im_start|>system\n").append(prompt.system).append("<|im_end|>\n");
  out.append("<|im_start|>user\n").append(prompt.user).append("<|im_end|>\n");
  out.append("<|im_start|>assistant\n").append(prompt.assistant_prefix);
  return out;
}

std::string Task::rendered_prompt(Split split, std::size_t index) const {
  return render_chatml(prompt(split, index));
}

}  // namespace qes::tasks
