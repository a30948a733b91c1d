// Seeded Countdown problems that are solvable by construction (countdown.hpp).
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "qes/tasks/countdown.hpp"
#include "rational.hpp"
#include "splitmix64.hpp"

namespace qes::tasks::countdown {
namespace {

struct Expression {
  Rational value;
  std::string text;  // fully parenthesized, as the paper's data writes solutions: "((44 + 19) + 35)"
};

// Like Python's repr(float) for the values a target can take (|v| >= 1e-4 is
// written positionally, smaller in exponent form): the shortest text that
// reads back as the same double, which is how the paper's data writes targets.
std::string target_text(const Rational& value) {
  if (value.is_integer()) return std::to_string(value.num);
  const double v = value.to_double();
  char buffer[64];
  const auto format = std::fabs(v) >= 1e-4 && std::fabs(v) < 1e16 ? std::chars_format::fixed
                                                                   : std::chars_format::scientific;
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v, format);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

// Pick two entries of the pool (ordered), combine them with a random operator,
// put the result back; repeat until one expression is left. Empty optional when
// a step divides by zero or overflows.
std::optional<Expression> random_expression(const std::vector<int64_t>& numbers, SplitMix64& rng) {
  std::vector<Expression> pool;
  pool.reserve(numbers.size());
  for (int64_t n : numbers) pool.push_back({Rational{n, 1}, std::to_string(n)});
  while (pool.size() > 1) {
    const size_t i = rng.below(pool.size());
    size_t j = rng.below(pool.size() - 1);
    if (j >= i) ++j;
    static constexpr char kOps[] = {'+', '-', '*', '/'};
    const char op = kOps[rng.below(4)];
    const Rational a = pool[i].value, b = pool[j].value;
    std::optional<Rational> value;
    switch (op) {
      case '+': value = add(a, b); break;
      case '-': value = subtract(a, b); break;
      case '*': value = multiply(a, b); break;
      default: value = divide(a, b); break;
    }
    if (!value) return std::nullopt;
    Expression combined{*value, "(" + pool[i].text + " " + op + " " + pool[j].text + ")"};
    // Replace the lower slot, drop the higher one: pool order stays a pure function of the draws.
    const size_t keep = std::min(i, j), drop = std::max(i, j);
    pool[keep] = std::move(combined);
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(drop));
  }
  return pool.front();
}

bool acceptable(const Rational& value, const GeneratorOptions& options) {
  if (options.integer_targets && !value.is_integer()) return false;
  const double v = value.to_double();
  return v >= options.min_target && v <= options.max_target;
}

void check(const GeneratorOptions& o) {
  if (o.min_count < 1 || o.max_count < o.min_count)
    throw std::invalid_argument("countdown generator: need 1 <= min_count <= max_count, got " +
                                std::to_string(o.min_count) + ".." + std::to_string(o.max_count));
  if (o.max_number < o.min_number)
    throw std::invalid_argument("countdown generator: need min_number <= max_number, got " +
                                std::to_string(o.min_number) + ".." + std::to_string(o.max_number));
  if (o.min_number < 0)
    throw std::invalid_argument("countdown generator: numbers must be >= 0 (an answer cannot write a negative literal)");
  if (!(o.min_target <= o.max_target))
    throw std::invalid_argument("countdown generator: need min_target <= max_target");
  if (o.max_attempts < 1) throw std::invalid_argument("countdown generator: max_attempts must be >= 1");
}

}  // namespace

std::vector<CountdownProblem> generate(uint64_t seed, std::size_t count, const GeneratorOptions& options) {
  check(options);
  SplitMix64 rng(seed);
  std::vector<CountdownProblem> problems;
  problems.reserve(count);
  for (size_t p = 0; p < count; ++p) {
    CountdownProblem problem;
    problem.id = static_cast<int64_t>(p);
    const int64_t how_many = rng.between(options.min_count, options.max_count);
    for (int attempt = 0; attempt < options.max_attempts && !problem.solution; ++attempt) {
      // Some draws of numbers reach no target in range (all large, the range small): draw afresh.
      if (attempt % 100 == 0) {
        problem.numbers.clear();
        for (int64_t k = 0; k < how_many; ++k)
          problem.numbers.push_back(rng.between(options.min_number, options.max_number));
      }
      const auto expression = random_expression(problem.numbers, rng);
      if (!expression || !acceptable(expression->value, options)) continue;
      problem.target = target_text(expression->value);
      problem.solution = expression->text;
    }
    if (!problem.solution)
      throw std::runtime_error("countdown generator: no expression over problem " + std::to_string(p) +
                               " met the target options in " + std::to_string(options.max_attempts) +
                               " expressions (seed " + std::to_string(seed) + ")");
    problems.push_back(std::move(problem));
  }
  return problems;
}

}  // namespace qes::tasks::countdown
