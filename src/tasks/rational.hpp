#pragma once
// Exact fractions for building Countdown targets: the generator must know
// whether a value is an integer without rounding doubt. Overflow is reported,
// never wrapped: the generator then draws another expression.
#include <cstdint>
#include <numeric>
#include <optional>

namespace qes::tasks {

struct Rational {
  int64_t num = 0;
  int64_t den = 1;  // always > 0, gcd(num, den) == 1

  static std::optional<Rational> make(int64_t num, int64_t den) {
    // INT64_MIN has no negation (and std::gcd's absolute value would overflow).
    if (den == 0 || num == INT64_MIN || den == INT64_MIN) return std::nullopt;
    if (den < 0) {
      num = -num;
      den = -den;
    }
    const int64_t g = std::gcd(num, den);
    return Rational{num / g, den / g};
  }
  bool is_integer() const { return den == 1; }
  double to_double() const { return static_cast<double>(num) / static_cast<double>(den); }
};

inline std::optional<Rational> add(Rational a, Rational b) {
  int64_t x, y, n, d;
  if (__builtin_mul_overflow(a.num, b.den, &x) || __builtin_mul_overflow(b.num, a.den, &y) ||
      __builtin_add_overflow(x, y, &n) || __builtin_mul_overflow(a.den, b.den, &d))
    return std::nullopt;
  return Rational::make(n, d);
}
inline std::optional<Rational> subtract(Rational a, Rational b) {
  if (b.num == INT64_MIN) return std::nullopt;
  return add(a, Rational{-b.num, b.den});
}
inline std::optional<Rational> multiply(Rational a, Rational b) {
  int64_t n, d;
  if (__builtin_mul_overflow(a.num, b.num, &n) || __builtin_mul_overflow(a.den, b.den, &d))
    return std::nullopt;
  return Rational::make(n, d);
}
inline std::optional<Rational> divide(Rational a, Rational b) {
  if (b.num == 0) return std::nullopt;
  int64_t n, d;
  if (__builtin_mul_overflow(a.num, b.den, &n) || __builtin_mul_overflow(a.den, b.num, &d))
    return std::nullopt;
  return Rational::make(n, d);
}

}  // namespace qes::tasks
