#pragma once
// Arithmetic over the characters a Countdown answer may hold (digits, + - * /
// ( ) and spaces), evaluated with the semantics of Python's eval(), because
// that is how the QES paper's reward function computes the value. We parse it
// ourselves (recursive descent); nothing is ever handed to an interpreter.
//
// Why Python's number model and not exact rationals or plain doubles: the
// reference's verdict is abs(float(eval(answer)) - float(target)) < 1e-5, and
// Python keeps integers exact until a true division turns a value into an IEEE
// double. Mirroring that (exact int64 integers, doubles after '/') gives the
// reference's value bit for bit for every answer whose integer intermediates
// fit in 64 bits, which is every Countdown answer built from its small numbers.
// Rationals would be exact where the reference is not, so an answer sitting at
// the 1e-5 edge could be judged differently; plain doubles would lose exactness
// for products past 2^53 and for '//' and '**' on integers.
//
// Python grammar covered (what these characters can spell):
//   expr   := term (('+' | '-') term)*
//   term   := factor (('*' | '/' | '//') factor)*
//   factor := ('+' | '-') factor | power
//   power  := primary ['**' factor]                 (right-associative, binds tighter than unary minus on its left)
//   primary:= NUMBER | '(' expr ')'
// with Python's rules: integer literals with leading zeros ("007") are a syntax
// error ("00" is 0); '/' is true division; '//' floors; int ** negative int is a
// float; 0 ** negative, x / 0 and x // 0 raise; a negative base to a fractional
// power gives a complex number (float() then fails); "()" is a tuple (fails);
// "2(3)" is a call (fails); more than 200 nested parentheses fail.
// Spaces may separate tokens; one trailing newline is allowed (the reference's
// character check lets "expr\n" through and eval accepts it).
//
// Deliberate, documented deviation: where Python would grow an integer past
// 64 bits we continue in double precision. Only answers with products beyond
// 9.2e18 (impossible with Countdown's numbers below 100) can tell the difference.
#include <optional>
#include <string>
#include <string_view>

namespace qes::tasks {

struct ArithmeticResult {
  enum class Status {
    ok,
    syntax_error,    // Python: SyntaxError (and TypeError for calls "2(3)")
    zero_division,   // Python: ZeroDivisionError
    not_a_real,      // Python: a tuple "()" or a complex result; float() fails
    overflow,        // Python: OverflowError from float ** float
  };
  Status status = Status::syntax_error;
  double value = 0.0;   // float(result) when status == ok
  std::string message;  // why it failed, for logs and tests
  bool ok() const { return status == Status::ok; }
};

ArithmeticResult evaluate_arithmetic(std::string_view expression);

// Python's float(str): surrounding whitespace, an optional sign, decimal or
// exponent notation, underscores between digits, inf/infinity/nan in any case.
// Empty optional where Python raises ValueError.
std::optional<double> parse_python_float(std::string_view text);

}  // namespace qes::tasks
