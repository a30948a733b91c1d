// Seeded Countdown problems: the same on every machine, within the options,
// and solvable (the stored solution earns the full reward under the reference rules).
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "qes/tasks/arithmetic.hpp"
#include "qes/tasks/countdown.hpp"
#include "splitmix64.hpp"

namespace qes::tasks {
namespace {

using countdown::GeneratorOptions;

Score score_solution(const CountdownProblem& p) {
  return countdown::score_completion("</think>\n<answer>" + *p.solution + "</answer>", p);
}

TEST(SplitMix64, KnownOutputs) {
  // The published reference values of splitmix64 from seed 0.
  SplitMix64 rng(0);
  EXPECT_EQ(rng.next(), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(rng.next(), 0x6E789E6AA1B965F4ull);
  EXPECT_EQ(rng.next(), 0x06C45D188009454Full);
  SplitMix64 bounded(42);
  for (int i = 0; i < 1000; ++i) {
    const int64_t v = bounded.between(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
  }
}

TEST(CountdownGenerator, SameSeedSameProblemsOnEveryMachine) {
  const auto a = countdown::generate(1, 50);
  const auto b = countdown::generate(1, 50);
  ASSERT_EQ(a.size(), 50u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].numbers, b[i].numbers);
    EXPECT_EQ(a[i].target, b[i].target);
    EXPECT_EQ(a[i].solution, b[i].solution);
  }
  // Pinned: any change of generator, draw order or formatting shows here.
  EXPECT_EQ(a[0].numbers, (std::vector<int64_t>{53, 67, 30, 85}));
  EXPECT_EQ(a[0].target, "41");
  EXPECT_EQ(a[0].solution, "((53 - (67 + 30)) + 85)");
  EXPECT_EQ(a[2].numbers, (std::vector<int64_t>{81, 3, 13}));
  EXPECT_EQ(a[2].solution, "((81 + 13) - 3)");

  const auto c = countdown::generate(2, 50);
  int same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i].numbers == c[i].numbers;
  EXPECT_LT(same, 3);
}

TEST(CountdownGenerator, DefaultsLookLikeThePapersData) {
  const auto problems = countdown::generate(7, 500);
  std::set<size_t> counts;
  for (const auto& p : problems) {
    SCOPED_TRACE(*p.solution);
    counts.insert(p.numbers.size());
    ASSERT_GE(p.numbers.size(), 3u);
    ASSERT_LE(p.numbers.size(), 4u);
    for (int64_t n : p.numbers) {
      ASSERT_GE(n, 1);
      ASSERT_LE(n, 99);
    }
    const double target = *parse_python_float(p.target);
    EXPECT_EQ(target, std::floor(target));
    EXPECT_GE(target, 1);
    EXPECT_LE(target, 100);
    const Score s = score_solution(p);
    EXPECT_TRUE(s.correct);
    EXPECT_EQ(s.reward, 1.1);
  }
  EXPECT_EQ(counts, (std::set<size_t>{3, 4}));
}

TEST(CountdownGenerator, AnyCountAndFractionalOrNegativeTargets) {
  GeneratorOptions six;
  six.min_count = six.max_count = 6;
  for (const auto& p : countdown::generate(3, 40, six)) {
    EXPECT_EQ(p.numbers.size(), 6u);
    EXPECT_TRUE(score_solution(p).correct) << *p.solution;
  }
  GeneratorOptions any;
  any.integer_targets = false;
  any.min_target = -INFINITY;
  any.max_target = INFINITY;
  int fractional = 0, negative = 0;
  for (const auto& p : countdown::generate(4, 300, any)) {
    const double target = *parse_python_float(p.target);
    fractional += target != std::floor(target);
    negative += target < 0;
    EXPECT_TRUE(score_solution(p).correct) << p.target << " = " << *p.solution;
  }
  EXPECT_GT(fractional, 10);
  EXPECT_GT(negative, 10);
}

TEST(CountdownGenerator, RejectsImpossibleOptions) {
  GeneratorOptions bad;
  bad.min_count = 0;
  EXPECT_THROW(countdown::generate(1, 1, bad), std::invalid_argument);
  bad = {};
  bad.max_number = 0;
  EXPECT_THROW(countdown::generate(1, 1, bad), std::invalid_argument);
  bad = {};
  bad.min_target = 5;
  bad.max_target = 4;
  EXPECT_THROW(countdown::generate(1, 1, bad), std::invalid_argument);
  // One number of 1000 can never make a target in [1, 100].
  GeneratorOptions unreachable;
  unreachable.min_count = unreachable.max_count = 1;
  unreachable.min_number = unreachable.max_number = 1000;
  unreachable.max_attempts = 300;
  try {
    countdown::generate(9, 1, unreachable);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("seed 9"), std::string::npos) << e.what();
  }
}

TEST(CountdownGenerator, GeneratedTask) {
  const CountdownTask task = CountdownTask::generated(11, 20, 30);
  EXPECT_EQ(task.size(Split::train), 20u);
  EXPECT_EQ(task.size(Split::test), 30u);
  // The test list does not depend on how many training problems were asked for.
  const CountdownTask other = CountdownTask::generated(11, 5, 30);
  for (size_t i = 0; i < 30; ++i)
    EXPECT_EQ(task.problem(Split::test, i).numbers, other.problem(Split::test, i).numbers);
  EXPECT_NE(task.problem(Split::train, 0).numbers, task.problem(Split::test, 0).numbers);
  EXPECT_EQ(task.problem(Split::train, 19).id, 19);
  EXPECT_EQ(task.problem(Split::test, 0).id, 20);
  const auto& p = task.problem(Split::test, 3);
  EXPECT_EQ(task.score(Split::test, 3, "</think>\n<answer>" + *p.solution + "</answer>").reward, 1.1);
}

}  // namespace
}  // namespace qes::tasks
