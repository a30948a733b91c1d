// Countdown as a Task: the paper's prompt and reward over a train and a test list.
#include <stdexcept>
#include <string>

#include "qes/tasks/countdown.hpp"
#include "splitmix64.hpp"

namespace qes::tasks {

CountdownTask::CountdownTask(std::vector<CountdownProblem> train, std::vector<CountdownProblem> test,
                             Options options)
    : train_(std::move(train)), test_(std::move(test)), options_(options) {}

CountdownTask CountdownTask::from_json(const std::filesystem::path& path, std::size_t train_count,
                                       Options options) {
  std::vector<CountdownProblem> all = countdown::load_json(path);
  if (train_count > all.size())
    throw std::runtime_error("countdown data " + path.string() + ": asked for " + std::to_string(train_count) +
                             " training problems, the file has " + std::to_string(all.size()));
  std::vector<CountdownProblem> test(std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(train_count)),
                                     std::make_move_iterator(all.end()));
  all.resize(train_count);
  return CountdownTask(std::move(all), std::move(test), options);
}

CountdownTask CountdownTask::generated(uint64_t seed, std::size_t train_count, std::size_t test_count,
                                       const countdown::GeneratorOptions& generator, Options options) {
  // The test list gets its own stream, so changing train_count leaves it unchanged.
  const uint64_t test_seed = SplitMix64(seed ^ 0x7465737473706C74ull).next();  // "testsplt"
  std::vector<CountdownProblem> test = countdown::generate(test_seed, test_count, generator);
  // Ids continue after the training problems, as in the paper's file.
  for (CountdownProblem& p : test) p.id += static_cast<int64_t>(train_count);
  return CountdownTask(countdown::generate(seed, train_count, generator), std::move(test), options);
}

std::size_t CountdownTask::size(Split split) const {
  return split == Split::train ? train_.size() : test_.size();
}

const CountdownProblem& CountdownTask::problem(Split split, std::size_t index) const {
  const auto& list = split == Split::train ? train_ : test_;
  if (index >= list.size())
    throw std::out_of_range("countdown: " + std::string(split_name(split)) + " problem " + std::to_string(index) +
                            " out of range (" + std::to_string(list.size()) + " problems)");
  return list[index];
}

ChatPrompt CountdownTask::prompt(Split split, std::size_t index) const {
  const CountdownProblem& p = problem(split, index);
  ChatPrompt prompt;
  prompt.system = std::string(countdown::kSystemMessage);
  prompt.user = countdown::user_message(p.numbers, p.target);
  if (options_.prefill_response_prompt) prompt.assistant_prefix = std::string(countdown::kResponsePrompt);
  return prompt;
}

Score CountdownTask::score(Split split, std::size_t index, std::string_view generated) const {
  return countdown::score_completion(generated, problem(split, index));
}

}  // namespace qes::tasks
