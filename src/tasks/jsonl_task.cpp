// Reading the JSONL task file and scoring against its answers (jsonl_task.hpp).
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "qes/tasks/jsonl_task.hpp"

namespace qes::tasks {
namespace {

using nlohmann::json;

struct Line {
  JsonlProblem problem;
  std::optional<Split> split;
};

[[noreturn]] void fail(const std::filesystem::path& path, std::size_t line, const std::string& what) {
  throw std::runtime_error("jsonl task " + path.string() + ":" + std::to_string(line) + ": " + what);
}

std::string required_text(const json& object, const char* key, const std::filesystem::path& path, std::size_t line,
                          bool numbers_allowed) {
  if (!object.contains(key)) fail(path, line, std::string("missing \"") + key + "\"");
  const json& value = object[key];
  if (value.is_string()) return value.get<std::string>();
  if (numbers_allowed && value.is_number()) return value.dump();
  fail(path, line, std::string("\"") + key + "\" must be a string" + (numbers_allowed ? " or a number" : "") +
                       ", got " + value.dump());
}

MatchKind match_kind(const json& object, const std::filesystem::path& path, std::size_t line) {
  if (!object.contains("match")) return MatchKind::exact;
  const json& value = object["match"];
  if (value == "exact") return MatchKind::exact;
  if (value == "numeric") return MatchKind::numeric;
  if (value == "regex") return MatchKind::regex;
  fail(path, line, "\"match\" must be \"exact\", \"numeric\" or \"regex\", got " + value.dump());
}

std::optional<Split> split_field(const json& object, const std::filesystem::path& path, std::size_t line) {
  if (!object.contains("split")) return std::nullopt;
  const json& value = object["split"];
  if (value == "train") return Split::train;
  if (value == "test") return Split::test;
  fail(path, line, "\"split\" must be \"train\" or \"test\", got " + value.dump());
}

std::vector<Line> read_lines(const std::filesystem::path& path, const std::string& system_prompt) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("jsonl task " + path.string() + ": cannot open the file");
  std::vector<Line> lines;
  std::string text;
  for (std::size_t number = 1; std::getline(in, text); ++number) {
    if (number == 1 && text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);  // UTF-8 byte order mark
    if (!text.empty() && text.back() == '\r') text.pop_back();              // CRLF files
    if (text.find_first_not_of(" \t") == std::string::npos) continue;

    json object;
    try {
      object = json::parse(text);
    } catch (const json::exception& e) {
      fail(path, number, std::string("not valid JSON: ") + e.what());
    }
    if (!object.is_object()) fail(path, number, "expected a JSON object, got " + std::string(object.type_name()));

    Line line{JsonlProblem{required_text(object, "prompt", path, number, false), system_prompt,
                           AnswerMatcher(MatchKind::exact, ""), number},
              split_field(object, path, number)};
    if (object.contains("system")) {
      if (!object["system"].is_string()) fail(path, number, "\"system\" must be a string");
      line.problem.system = object["system"].get<std::string>();
    }
    const std::string answer = required_text(object, "answer", path, number, true);
    try {
      line.problem.matcher = AnswerMatcher(match_kind(object, path, number), answer);
    } catch (const std::invalid_argument& e) {
      fail(path, number, e.what());
    }
    lines.push_back(std::move(line));
  }
  if (in.bad()) throw std::runtime_error("jsonl task " + path.string() + ": read error");
  if (lines.empty()) throw std::runtime_error("jsonl task " + path.string() + ": no problems in the file");
  return lines;
}

}  // namespace

JsonlTask::JsonlTask(std::vector<JsonlProblem> train, std::vector<JsonlProblem> test)
    : train_(std::move(train)), test_(std::move(test)) {}

JsonlTask JsonlTask::load(const std::filesystem::path& path, const Options& options) {
  std::vector<Line> lines = read_lines(path, options.system_prompt);
  std::vector<JsonlProblem> train, test;

  const bool has_split_fields =
      std::any_of(lines.begin(), lines.end(), [](const Line& l) { return l.split.has_value(); });
  if (has_split_fields) {
    if (options.train_count)
      throw std::runtime_error("jsonl task " + path.string() +
                               ": the file has \"split\" fields, so a train count cannot also be given");
    for (Line& line : lines) {
      if (!line.split)
        fail(path, line.problem.line, "missing \"split\" (other lines have one, so every line needs one)");
      (*line.split == Split::train ? train : test).push_back(std::move(line.problem));
    }
    return JsonlTask(std::move(train), std::move(test));
  }

  const std::size_t train_count = options.train_count.value_or(lines.size());
  if (train_count > lines.size())
    throw std::runtime_error("jsonl task " + path.string() + ": asked for " + std::to_string(train_count) +
                             " training problems, the file has " + std::to_string(lines.size()));
  for (std::size_t i = 0; i < lines.size(); ++i) (i < train_count ? train : test).push_back(std::move(lines[i].problem));
  return JsonlTask(std::move(train), std::move(test));
}

JsonlTask JsonlTask::load_splits(const std::filesystem::path& train_path, const std::filesystem::path& test_path,
                                 const std::string& system_prompt) {
  std::vector<JsonlProblem> train, test;
  for (Line& line : read_lines(train_path, system_prompt)) train.push_back(std::move(line.problem));
  for (Line& line : read_lines(test_path, system_prompt)) test.push_back(std::move(line.problem));
  return JsonlTask(std::move(train), std::move(test));
}

std::size_t JsonlTask::size(Split split) const { return split == Split::train ? train_.size() : test_.size(); }

const JsonlProblem& JsonlTask::problem(Split split, std::size_t index) const {
  const auto& list = split == Split::train ? train_ : test_;
  if (index >= list.size())
    throw std::out_of_range("jsonl: " + std::string(split_name(split)) + " problem " + std::to_string(index) +
                            " out of range (" + std::to_string(list.size()) + " problems)");
  return list[index];
}

ChatPrompt JsonlTask::prompt(Split split, std::size_t index) const {
  const JsonlProblem& p = problem(split, index);
  return ChatPrompt{p.system, p.prompt, ""};
}

Score JsonlTask::score(Split split, std::size_t index, std::string_view generated) const {
  Score score;
  score.correct = problem(split, index).matcher.matches(generated);
  score.reward = score.correct ? 1.0 : 0.0;
  score.answer = score.reward;
  return score;
}

}  // namespace qes::tasks
