// The answer evaluator against Python's eval semantics: a hand-written table
// for every rule, and 1500 random expressions scored by Python itself.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "qes/tasks/arithmetic.hpp"
#include "test_paths.hpp"

namespace qes::tasks {
namespace {

using Status = ArithmeticResult::Status;

struct Case {
  const char* expr;
  Status status;
  double value;  // when status == ok
};

TEST(Arithmetic, FollowsPythonRules) {
  const Case cases[] = {
      {"1 + 2", Status::ok, 3},
      {"((44 + 19) + 35)", Status::ok, 98},
      {"2 * 3 + 4", Status::ok, 10},                 // precedence
      {"2 * (3 + 4)", Status::ok, 14},
      {"10 - 4 - 3", Status::ok, 3},                 // left associative
      {"7 / 2", Status::ok, 3.5},                    // true division
      {"1 / 3 * 3", Status::ok, 1.0 / 3.0 * 3.0},
      {"800 / 3", Status::ok, 800.0 / 3.0},
      {"7 // 2", Status::ok, 3},                     // floor division
      {"-7 // 2", Status::ok, -4},                   // floors toward -inf
      {"7 // -2", Status::ok, -4},
      {"7.5 // 2", Status::syntax_error, 0},         // '.' is not in the alphabet
      {"(15 / 2) // 2", Status::ok, 3},              // float floor division
      {"(-15 / 2) // 2", Status::ok, -4},
      {"2 ** 10", Status::ok, 1024},
      {"2 ** 3 ** 2", Status::ok, 512},              // right associative
      {"-2 ** 2", Status::ok, -4},                   // ** binds tighter than unary minus
      {"2 ** -1", Status::ok, 0.5},                  // int ** negative int is a float
      {"(0 - 8) ** (1 / 3)", Status::not_a_real, 0}, // complex in Python
      {"0 ** (0 - 1)", Status::zero_division, 0},
      {"--3", Status::ok, 3},
      {"+-3", Status::ok, -3},
      {"- (1 + 2)", Status::ok, -3},
      {"  1+2  ", Status::ok, 3},
      {"1+2\n", Status::ok, 3},                      // one final newline is fine
      {"1+2\n\n", Status::syntax_error, 0},
      {"1\n+2", Status::syntax_error, 0},
      {"00", Status::ok, 0},                         // Python allows all-zero literals
      {"007 + 1", Status::syntax_error, 0},          // but not leading zeros
      {"1 / 0", Status::zero_division, 0},
      {"1 / (3 - 3)", Status::zero_division, 0},
      {"1 // 0", Status::zero_division, 0},
      {"(1 / 2) // 0", Status::zero_division, 0},
      {"()", Status::not_a_real, 0},
      {"() + 1", Status::not_a_real, 0},
      {"2(3)", Status::syntax_error, 0},             // a call in Python (TypeError)
      {"(2)(3)", Status::syntax_error, 0},
      {"1 2", Status::syntax_error, 0},
      {"(1 + 2", Status::syntax_error, 0},           // unbalanced
      {"1 + 2)", Status::syntax_error, 0},
      {"1 +", Status::syntax_error, 0},              // trailing operator
      {"* 2", Status::syntax_error, 0},
      {"2 * * 3", Status::syntax_error, 0},
      {"2 *** 3", Status::syntax_error, 0},
      {"2 /// 3", Status::syntax_error, 0},
      {"", Status::syntax_error, 0},
      {"   ", Status::syntax_error, 0},
      {"1 + x", Status::syntax_error, 0},
      {"1\t+ 2", Status::syntax_error, 0},           // tabs are outside the answer alphabet
      {"3 \xe2\x88\x92 1", Status::syntax_error, 0}, // U+2212 minus sign
      {"9999999999 * 9999999999", Status::ok, 9999999999.0 * 9999999999.0},  // past int64: doubles
      // Python computes 99 ** (99 ** 99) exactly and never finishes; we leave
      // int64 at 99 ** 99, continue in doubles and stop with OverflowError.
      {"99 ** 99 ** 99", Status::overflow, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string("expression: ") + c.expr);
    const ArithmeticResult r = evaluate_arithmetic(c.expr);
    EXPECT_EQ(static_cast<int>(r.status), static_cast<int>(c.status)) << r.message;
    if (c.status == Status::ok) {
      EXPECT_EQ(r.value, c.value);
    }
  }
}

TEST(Arithmetic, NestingLimitIsPythons) {
  auto nested = [](int depth) { return std::string(depth, '(') + "1" + std::string(depth, ')'); };
  EXPECT_TRUE(evaluate_arithmetic(nested(200)).ok());
  EXPECT_EQ(evaluate_arithmetic(nested(201)).status, Status::syntax_error);
  // What Python accepts: 200 levels each with a sign, 2000 signs in a row.
  std::string signed_nesting;
  for (int i = 0; i < 200; ++i) signed_nesting += "-(";
  signed_nesting += '1';
  signed_nesting.append(200, ')');
  EXPECT_EQ(evaluate_arithmetic(signed_nesting).value, 1.0);
  EXPECT_EQ(evaluate_arithmetic(std::string(2001, '-') + "1").value, -1.0);
  // A long unary chain must fail cleanly, not overflow our stack.
  EXPECT_FALSE(evaluate_arithmetic(std::string(100000, '-') + "1").ok());
  EXPECT_FALSE(evaluate_arithmetic(std::string(100000, '(')).ok());
}

// 1500 random expressions, each with the value Python's eval gave (read back
// from repr, which round-trips exactly) or the exception it raised.
TEST(Arithmetic, MatchesPythonOracleBitForBit) {
  std::ifstream in(test::fixture("arithmetic_oracle_cases.jsonl"));
  ASSERT_TRUE(in) << "missing fixture; regenerate with tests/tasks/make_arithmetic_oracle_cases.py";
  std::string line;
  int cases = 0, ok = 0;
  while (std::getline(in, line)) {
    const auto c = nlohmann::json::parse(line);
    const std::string expr = c["expr"];
    SCOPED_TRACE("expression: " + expr);
    const ArithmeticResult r = evaluate_arithmetic(expr);
    ASSERT_EQ(r.ok(), c["ok"].get<bool>()) << r.message << (c.contains("error") ? " python: " + c["error"].get<std::string>() : "");
    if (r.ok()) {
      const auto expected = parse_python_float(c["value"].get<std::string>());
      ASSERT_TRUE(expected.has_value());
      if (std::isnan(*expected)) {
        EXPECT_TRUE(std::isnan(r.value));
      } else {
        EXPECT_EQ(std::bit_cast<uint64_t>(r.value), std::bit_cast<uint64_t>(*expected)) << r.value << " vs " << *expected;
      }
      ++ok;
    }
    ++cases;
  }
  EXPECT_EQ(cases, 1500);
  EXPECT_GT(ok, 500);
}

TEST(Arithmetic, ParsesTargetsLikePythonFloat) {
  EXPECT_EQ(parse_python_float("98"), 98.0);
  EXPECT_EQ(parse_python_float("-15.727272727272727"), -15.727272727272727);
  EXPECT_EQ(parse_python_float(" 27.4\n"), 27.4);
  EXPECT_EQ(parse_python_float("+5"), 5.0);
  EXPECT_EQ(parse_python_float("1e3"), 1000.0);
  EXPECT_EQ(parse_python_float(".5"), 0.5);
  EXPECT_EQ(parse_python_float("5."), 5.0);
  EXPECT_EQ(parse_python_float("1_000"), 1000.0);
  EXPECT_TRUE(std::isinf(*parse_python_float("-inf")));
  EXPECT_TRUE(std::isnan(*parse_python_float("nan")));
  EXPECT_TRUE(std::isinf(*parse_python_float("1e400")));
  for (const char* bad : {"", " ", "abc", "1.5.3", "+-1", "1__0", "_1", "1_", "1e", "--1", "0x10", "1,5"})
    EXPECT_FALSE(parse_python_float(bad).has_value()) << bad;
}

}  // namespace
}  // namespace qes::tasks
