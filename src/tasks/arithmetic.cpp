// Recursive-descent evaluator with Python's number model (see arithmetic.hpp).
#include "qes/tasks/arithmetic.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace qes::tasks {
namespace {

// A Python number as these expressions can produce it: an exact integer, or a
// double once a true division (or an overflow, see the header) happened.
struct Number {
  bool is_int = true;
  int64_t i = 0;
  double f = 0.0;

  static Number integer(int64_t v) { return {true, v, 0.0}; }
  static Number real(double v) { return {false, 0, v}; }
  double as_double() const { return is_int ? static_cast<double>(i) : f; }
};

struct EvalError {
  ArithmeticResult::Status status;
  std::string message;
};

enum class Tok { number, plus, minus, star, double_star, slash, double_slash, lparen, rparen, end };

struct Token {
  Tok kind = Tok::end;
  std::string_view text;  // the digits of a number
};

// Python's limit on nested parentheses (tokenizer MAXLEVEL, CPython 3.11).
constexpr int kMaxParenDepth = 200;
// Guards our own stack against "-------...1". CPython 3.11 also gives up on
// such chains (RecursionError while compiling) between 2000 and 3000 signs; a
// frame here is small, so 3000 levels stay far below any thread's stack.
constexpr int kMaxRecursion = 3000;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Number parse_all() {
    advance();
    Number value = expr();
    if (current_.kind != Tok::end) fail_syntax("unexpected token after the expression");
    return value;
  }

 private:
  [[noreturn]] void fail(ArithmeticResult::Status status, std::string message) {
    throw EvalError{status, std::move(message)};
  }
  [[noreturn]] void fail_syntax(const std::string& why) {
    fail(ArithmeticResult::Status::syntax_error,
         why + " at offset " + std::to_string(token_start_));
  }

  // --- tokenizer -----------------------------------------------------------
  void advance() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
    token_start_ = pos_;
    if (pos_ == text_.size()) {
      current_ = {Tok::end, {}};
      return;
    }
    // A single newline is allowed only as the very last character.
    if (text_[pos_] == '\n' && pos_ + 1 == text_.size()) {
      pos_ = text_.size();
      current_ = {Tok::end, {}};
      return;
    }
    const char c = text_[pos_];
    if (c >= '0' && c <= '9') {
      const size_t start = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      current_ = {Tok::number, text_.substr(start, pos_ - start)};
      return;
    }
    const bool doubled = pos_ + 1 < text_.size() && text_[pos_ + 1] == c;
    switch (c) {
      case '+': current_ = {Tok::plus, {}}; break;
      case '-': current_ = {Tok::minus, {}}; break;
      case '(': current_ = {Tok::lparen, {}}; break;
      case ')': current_ = {Tok::rparen, {}}; break;
      case '*': current_ = {doubled ? Tok::double_star : Tok::star, {}}; break;
      case '/': current_ = {doubled ? Tok::double_slash : Tok::slash, {}}; break;
      default:
        fail_syntax("character not allowed in an expression");
    }
    pos_ += (doubled && (c == '*' || c == '/')) ? 2 : 1;
  }

  // --- grammar -------------------------------------------------------------
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.recursion_ > kMaxRecursion) p.fail_syntax("expression nested too deeply");
    }
    ~DepthGuard() { --p.recursion_; }
  };

  Number expr() {
    DepthGuard guard(*this);
    Number left = term();
    while (current_.kind == Tok::plus || current_.kind == Tok::minus) {
      const Tok op = current_.kind;
      advance();
      Number right = term();
      left = op == Tok::plus ? add(left, right) : subtract(left, right);
    }
    return left;
  }

  Number term() {
    DepthGuard guard(*this);
    Number left = factor();
    while (current_.kind == Tok::star || current_.kind == Tok::slash ||
           current_.kind == Tok::double_slash) {
      const Tok op = current_.kind;
      advance();
      Number right = factor();
      if (op == Tok::star) left = multiply(left, right);
      else if (op == Tok::slash) left = true_divide(left, right);
      else left = floor_divide(left, right);
    }
    return left;
  }

  Number factor() {
    DepthGuard guard(*this);
    if (current_.kind == Tok::plus) {
      advance();
      return factor();
    }
    if (current_.kind == Tok::minus) {
      advance();
      return negate(factor());
    }
    return power();
  }

  Number power() {
    DepthGuard guard(*this);
    Number base = primary();
    if (current_.kind == Tok::double_star) {
      advance();
      Number exponent = factor();
      return raise(base, exponent);
    }
    return base;
  }

  Number primary() {
    if (current_.kind == Tok::number) {
      Number value = literal(current_.text);
      advance();
      if (current_.kind == Tok::lparen)
        fail_syntax("a number cannot be called");  // Python: TypeError 'int' object is not callable
      return value;
    }
    if (current_.kind == Tok::lparen) {
      if (++paren_depth_ > kMaxParenDepth) fail_syntax("too many nested parentheses");
      advance();
      if (current_.kind == Tok::rparen)
        fail(ArithmeticResult::Status::not_a_real, "() is an empty tuple, not a number");
      Number value = expr();
      if (current_.kind != Tok::rparen) fail_syntax("missing ')'");
      --paren_depth_;
      advance();
      if (current_.kind == Tok::lparen)
        fail_syntax("a number cannot be called");  // "(2)(3)" is a call in Python
      return value;
    }
    fail_syntax(current_.kind == Tok::end ? "expression ends early" : "expected a number or '('");
  }

  // --- Python number semantics ---------------------------------------------
  Number literal(std::string_view digits) {
    // Python 3 forbids leading zeros in a nonzero decimal literal; "00" is fine.
    if (digits.size() > 1 && digits[0] == '0' &&
        digits.find_first_not_of('0') != std::string_view::npos)
      fail_syntax("leading zeros in a decimal integer literal");
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec == std::errc() && end == digits.data() + digits.size()) return Number::integer(v);
    // Past int64: continue as a double (see the header's deviation note).
    double d = 0.0;
    std::from_chars(digits.data(), digits.data() + digits.size(), d);
    return Number::real(d);
  }

  static Number add(Number a, Number b) {
    int64_t r;
    if (a.is_int && b.is_int && !__builtin_add_overflow(a.i, b.i, &r)) return Number::integer(r);
    return Number::real(a.as_double() + b.as_double());
  }
  static Number subtract(Number a, Number b) {
    int64_t r;
    if (a.is_int && b.is_int && !__builtin_sub_overflow(a.i, b.i, &r)) return Number::integer(r);
    return Number::real(a.as_double() - b.as_double());
  }
  static Number multiply(Number a, Number b) {
    int64_t r;
    if (a.is_int && b.is_int && !__builtin_mul_overflow(a.i, b.i, &r)) return Number::integer(r);
    return Number::real(a.as_double() * b.as_double());
  }
  static Number negate(Number a) {
    if (a.is_int && a.i != std::numeric_limits<int64_t>::min()) return Number::integer(-a.i);
    return Number::real(-a.as_double());
  }

  Number true_divide(Number a, Number b) {
    if (b.is_int ? b.i == 0 : b.f == 0.0)
      fail(ArithmeticResult::Status::zero_division, "division by zero");
    // For integers below 2^53 this is CPython's exact fast path: both operands
    // convert exactly and IEEE division rounds once, correctly.
    return Number::real(a.as_double() / b.as_double());
  }

  Number floor_divide(Number a, Number b) {
    if (b.is_int ? b.i == 0 : b.f == 0.0)
      fail(ArithmeticResult::Status::zero_division, "integer or float floor division by zero");
    if (a.is_int && b.is_int && !(a.i == std::numeric_limits<int64_t>::min() && b.i == -1)) {
      int64_t q = a.i / b.i;  // truncates toward zero; Python floors
      if (a.i % b.i != 0 && ((a.i < 0) != (b.i < 0))) --q;
      return Number::integer(q);
    }
    // CPython's float floor division (floatobject.c, _float_div_mod).
    const double vx = a.as_double(), wx = b.as_double();
    double mod = std::fmod(vx, wx);
    double div = (vx - mod) / wx;
    if (mod != 0.0) {
      if ((wx < 0) != (mod < 0)) div -= 1.0;
    }
    double floordiv;
    if (div != 0.0) {
      floordiv = std::floor(div);
      if (div - floordiv > 0.5) floordiv += 1.0;
    } else {
      floordiv = std::copysign(0.0, vx / wx);
    }
    return Number::real(floordiv);
  }

  Number raise(Number base, Number exponent) {
    if (base.is_int && exponent.is_int && exponent.i >= 0) {
      // Exact integer power by squaring; past int64 continue in doubles.
      int64_t result = 1, b = base.i, e = exponent.i;
      bool overflow = false;
      while (e > 0 && !overflow) {
        if (e & 1) overflow = __builtin_mul_overflow(result, b, &result);
        e >>= 1;
        if (e > 0 && !overflow) overflow = __builtin_mul_overflow(b, b, &b);
      }
      if (!overflow) return Number::integer(result);
      return float_power(base.as_double(), exponent.as_double());
    }
    // int ** negative int, and anything with a float: CPython's float_pow.
    return float_power(base.as_double(), exponent.as_double());
  }

  Number float_power(double iv, double iw) {
    if (iw == 0.0) return Number::real(1.0);
    if (std::isnan(iv) || std::isnan(iw) || std::isinf(iv) || std::isinf(iw))
      return Number::real(std::pow(iv, iw));  // only reachable after an overflow to inf
    if (iv == 0.0) {
      if (iw < 0.0)
        fail(ArithmeticResult::Status::zero_division, "0.0 cannot be raised to a negative power");
      return Number::real(std::pow(iv, iw));
    }
    if (iv < 0.0 && iw != std::floor(iw))
      fail(ArithmeticResult::Status::not_a_real, "negative number to a fractional power is complex");
    const double result = std::pow(iv, iw);
    if (std::isinf(result)) fail(ArithmeticResult::Status::overflow, "numerical result out of range");
    return Number::real(result);
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t token_start_ = 0;
  Token current_;
  int paren_depth_ = 0;
  int recursion_ = 0;
};

bool is_python_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  return true;
}

}  // namespace

ArithmeticResult evaluate_arithmetic(std::string_view expression) {
  ArithmeticResult result;
  try {
    Parser parser(expression);
    result.value = parser.parse_all().as_double();
    result.status = ArithmeticResult::Status::ok;
  } catch (const EvalError& e) {
    result.status = e.status;
    result.message = e.message;
  }
  return result;
}

std::optional<double> parse_python_float(std::string_view text) {
  while (!text.empty() && is_python_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_python_space(text.back())) text.remove_suffix(1);
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  double value;
  const bool starts_like_number =
      std::isdigit(static_cast<unsigned char>(text.front())) || text.front() == '.';
  if (equals_ignoring_case(text, "inf") || equals_ignoring_case(text, "infinity")) {
    value = std::numeric_limits<double>::infinity();
  } else if (equals_ignoring_case(text, "nan")) {
    value = std::numeric_limits<double>::quiet_NaN();
  } else if (!starts_like_number) {
    return std::nullopt;  // "+-1", "e5", "abc"
  } else {
    // Underscores are allowed only between two digits; drop them after checking.
    std::string digits;
    digits.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '_') {
        const bool between_digits = i > 0 && i + 1 < text.size() &&
                                    std::isdigit(static_cast<unsigned char>(text[i - 1])) &&
                                    std::isdigit(static_cast<unsigned char>(text[i + 1]));
        if (!between_digits) return std::nullopt;
        continue;
      }
      if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != 'e' && c != 'E' &&
          c != '+' && c != '-')
        return std::nullopt;
      digits.push_back(c);
    }
    // from_chars is locale-independent and rounds correctly, like Python.
    const auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), value, std::chars_format::general);
    if (end != digits.data() + digits.size()) return std::nullopt;
    if (ec == std::errc::result_out_of_range) {
      // Python gives inf for overflow and 0.0 for underflow rather than failing.
      const auto e = digits.find_first_of("eE");
      const bool tiny = e != std::string::npos && e + 1 < digits.size() && digits[e + 1] == '-';
      value = tiny ? 0.0 : std::numeric_limits<double>::infinity();
    } else if (ec != std::errc()) {
      return std::nullopt;
    }
  }
  return negative ? -value : value;
}

}  // namespace qes::tasks
