#pragma once
// One entry point for the CLI and configs: build a task from a few settings.
//
//   kind = "countdown"            path = the paper's countdown.json; train_count defaults to 200
//   kind = "countdown-generated"  seed, train_count (default 200), test_count (default 2000), generator
//   kind = "jsonl"                path = the JSONL file (test_path: an optional second file for the
//                                 test split); train_count and system_prompt as in JsonlTask
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "qes/tasks/countdown.hpp"
#include "qes/tasks/jsonl_task.hpp"

namespace qes::tasks {

struct TaskSpec {
  std::string kind = "countdown";
  std::filesystem::path path;
  std::filesystem::path test_path;
  std::optional<std::size_t> train_count;
  std::size_t test_count = 2000;
  uint64_t seed = 0;
  countdown::GeneratorOptions generator;
  std::string system_prompt;
  bool prefill_response_prompt = false;
};

// Throws std::invalid_argument for an unknown kind or a missing path, and
// whatever the loaders throw (naming the file) for bad data.
std::unique_ptr<Task> make_task(const TaskSpec& spec);

}  // namespace qes::tasks
