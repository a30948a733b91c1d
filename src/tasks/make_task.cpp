// Builds a task from a TaskSpec (make_task.hpp).
#include "qes/tasks/make_task.hpp"

#include <stdexcept>

namespace qes::tasks {

std::unique_ptr<Task> make_task(const TaskSpec& spec) {
  const CountdownTask::Options countdown_options{spec.prefill_response_prompt};
  if (spec.kind == "countdown") {
    if (spec.path.empty()) throw std::invalid_argument("task countdown: needs the path of countdown.json");
    return std::make_unique<CountdownTask>(
        CountdownTask::from_json(spec.path, spec.train_count.value_or(200), countdown_options));
  }
  if (spec.kind == "countdown-generated") {
    return std::make_unique<CountdownTask>(CountdownTask::generated(
        spec.seed, spec.train_count.value_or(200), spec.test_count, spec.generator, countdown_options));
  }
  if (spec.kind == "jsonl") {
    if (spec.path.empty()) throw std::invalid_argument("task jsonl: needs the path of a .jsonl file");
    if (!spec.test_path.empty()) {
      if (spec.train_count)
        throw std::invalid_argument("task jsonl: a train count cannot be combined with a separate test file");
      return std::make_unique<JsonlTask>(JsonlTask::load_splits(spec.path, spec.test_path, spec.system_prompt));
    }
    return std::make_unique<JsonlTask>(JsonlTask::load(spec.path, {spec.system_prompt, spec.train_count}));
  }
  throw std::invalid_argument("unknown task kind \"" + spec.kind +
                              "\" (expected countdown, countdown-generated or jsonl)");
}

}  // namespace qes::tasks
