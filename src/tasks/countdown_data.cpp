// Reads the paper's countdown.json. The "context" field is ignored on purpose:
// the reference rebuilds every prompt from numbers and target (_process_context).
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "qes/tasks/arithmetic.hpp"
#include "qes/tasks/countdown.hpp"

namespace qes::tasks::countdown {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw std::runtime_error("countdown data " + path.string() + ": " + what);
}

int64_t to_int64(const json& value, const std::filesystem::path& path, const std::string& where) {
  if (value.is_number_unsigned()) {
    const auto u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) fail(path, where + " is too large");
    return static_cast<int64_t>(u);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  fail(path, where + " must be an integer, got " + value.dump());
}

CountdownProblem parse_problem(const json& item, size_t index, const std::filesystem::path& path) {
  const std::string where = "problem " + std::to_string(index);
  if (!item.is_object()) fail(path, where + " is not an object");

  CountdownProblem problem;
  problem.id = item.contains("id") ? to_int64(item["id"], path, where + " \"id\"") : static_cast<int64_t>(index);
  const std::string named = where + " (id " + std::to_string(problem.id) + ")";

  if (!item.contains("numbers") || !item["numbers"].is_array() || item["numbers"].empty())
    fail(path, named + ": \"numbers\" must be a non-empty array of integers");
  for (const json& n : item["numbers"]) problem.numbers.push_back(to_int64(n, path, named + " number"));

  if (!item.contains("target")) fail(path, named + ": \"target\" is missing");
  const json& target = item["target"];
  if (target.is_string()) {
    problem.target = target.get<std::string>();
  } else if (target.is_number_integer()) {
    problem.target = std::to_string(to_int64(target, path, named + " \"target\""));
  } else {
    // A JSON float would have to be re-printed, and the prompt shows the target
    // text: the paper's data writes it as a string, so we ask for that.
    fail(path, named + ": \"target\" must be a string (or an integer), got " + target.dump());
  }
  // The reference would silently score 0 forever on such a target.
  if (!parse_python_float(problem.target))
    fail(path, named + ": \"target\" \"" + problem.target + "\" is not a number");

  if (item.contains("solution")) {
    const json& solution = item["solution"];
    if (solution.is_string()) problem.solution = solution.get<std::string>();
    else if (!solution.is_null()) fail(path, named + ": \"solution\" must be a string or null");
  }
  return problem;
}

}  // namespace

std::vector<CountdownProblem> load_json(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open the file");
  json root;
  try {
    root = json::parse(in);
  } catch (const json::exception& e) {
    fail(path, std::string("not valid JSON: ") + e.what());
  }
  if (!root.is_array()) fail(path, "expected a JSON array of problems");
  std::vector<CountdownProblem> problems;
  problems.reserve(root.size());
  for (size_t i = 0; i < root.size(); ++i) problems.push_back(parse_problem(root[i], i, path));
  return problems;
}

void write_json(const std::filesystem::path& path, const std::vector<CountdownProblem>& problems) {
  nlohmann::ordered_json root = nlohmann::ordered_json::array();
  for (const CountdownProblem& p : problems) {
    nlohmann::ordered_json item;
    item["id"] = p.id;
    item["context"] = raw_context(p);
    item["numbers"] = p.numbers;
    item["target"] = p.target;
    item["solution"] = p.solution ? nlohmann::ordered_json(*p.solution) : nlohmann::ordered_json(nullptr);
    root.push_back(std::move(item));
  }
  std::filesystem::path temporary = path;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, "cannot create " + temporary.string());
    out << root.dump(2);
    out.close();
    if (!out) fail(path, "write error on " + temporary.string());
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) fail(path, "cannot rename " + temporary.string() + " into place: " + ec.message());
}

}  // namespace qes::tasks::countdown
