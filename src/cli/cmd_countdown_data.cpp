// `qes countdown-data --seed S --count N --out FILE.json [--numbers 3-4] [--exclude FILE.json ...]`
//
// Writes Countdown problems from qes's own seeded generator in the paper's JSON
// format, so that the data a model is pre-trained on (tools/tiny_model) comes from
// the same generator qes trains and evaluates with. --exclude drops every problem
// that also appears (same numbers as a multiset, same target value) in a given file,
// so training data never contains a held-out test problem.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "command_registry.hpp"
#include "qes/tasks/arithmetic.hpp"
#include "qes/tasks/countdown.hpp"

namespace {

namespace countdown = qes::tasks::countdown;
using qes::tasks::CountdownProblem;

struct CountdownDataArgs {
  uint64_t seed = 0;
  size_t count = 0;
  std::string out;
  std::string numbers = "3-4";
  std::vector<std::string> exclude;
};

// "3-4" or "4": how many numbers a problem has.
std::pair<int, int> parse_count_range(const std::string& text) {
  auto parse_int = [&](const std::string& s) {
    size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != s.size() || v < 1)
      throw std::invalid_argument("--numbers must be N or A-B with positive integers, not '" + text + "'");
    return v;
  };
  const size_t dash = text.find('-');
  if (dash == std::string::npos) {
    const int n = parse_int(text);
    return {n, n};
  }
  const int lo = parse_int(text.substr(0, dash)), hi = parse_int(text.substr(dash + 1));
  if (hi < lo) throw std::invalid_argument("--numbers " + text + ": the range is empty");
  return {lo, hi};
}

// Sorted numbers and the target's value: two problems with the same key are the same problem
// whatever order the numbers are listed in or how the target is written ("98" or "98.0").
using ProblemKey = std::pair<std::vector<int64_t>, double>;

ProblemKey key_of(const CountdownProblem& p) {
  std::vector<int64_t> numbers = p.numbers;
  std::sort(numbers.begin(), numbers.end());
  const auto value = qes::tasks::parse_python_float(p.target);
  if (!value) throw std::runtime_error("problem " + std::to_string(p.id) + ": target '" + p.target + "' is not a number");
  return {std::move(numbers), *value};
}

void run(const CountdownDataArgs& a) {
  countdown::GeneratorOptions options;
  std::tie(options.min_count, options.max_count) = parse_count_range(a.numbers);

  std::set<ProblemKey> excluded;
  for (const std::string& file : a.exclude)
    for (const CountdownProblem& p : countdown::load_json(file)) excluded.insert(key_of(p));

  // The generator draws problems one after the other from one stream, so a longer run starts
  // with the shorter one: ask for more until enough survive the exclusion.
  std::vector<CountdownProblem> kept;
  size_t asked = a.count, dropped = 0;
  while (true) {
    std::vector<CountdownProblem> all = countdown::generate(a.seed, asked, options);
    kept.clear();
    dropped = 0;
    for (CountdownProblem& p : all) {
      if (kept.size() == a.count) break;
      if (excluded.count(key_of(p))) {
        ++dropped;
        continue;
      }
      kept.push_back(std::move(p));
    }
    if (kept.size() == a.count) break;
    asked += std::max<size_t>(2 * (a.count - kept.size()), 16);
  }
  // Ids count the problems written, as in the paper's file.
  for (size_t i = 0; i < kept.size(); ++i) kept[i].id = static_cast<int64_t>(i);
  countdown::write_json(a.out, kept);
  std::fprintf(stderr, "wrote %s: %zu problems (seed %" PRIu64 ", %d-%d numbers), %zu generated problems excluded\n",
               a.out.c_str(), kept.size(), a.seed, options.min_count, options.max_count, dropped);
}

qes::cli::RegisterCommand reg([](CLI::App& app) {
  auto args = std::make_shared<CountdownDataArgs>();
  auto* cmd = app.add_subcommand("countdown-data",
                                 "Write generated Countdown problems (the paper's JSON format) from a seed");
  cmd->add_option("--seed", args->seed, "generator seed")->capture_default_str();
  cmd->add_option("--count", args->count, "how many problems to write")->required();
  cmd->add_option("--out", args->out, "output JSON file")->required();
  cmd->add_option("--numbers", args->numbers, "how many numbers per problem: N or A-B")->capture_default_str();
  cmd->add_option("--exclude", args->exclude,
                  "paper-format JSON file(s): drop generated problems with the same numbers and target as one there")
      ->check(CLI::ExistingFile);
  cmd->callback([args] { run(*args); });
});

}  // namespace
