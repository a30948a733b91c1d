#include "qes/es/det_math.hpp"

#include <cmath>
#include <limits>

namespace qes::es {
namespace {
// ln 2 split so that n * kLn2Hi is exact for |n| < 2^11.
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kLn2 = 6.93147180559945286227e-01;
constexpr double kPi = 3.14159265358979311600e+00;

// 2 * atanh(s) = log((1 + s) / (1 - s)) for |s| <= 0.1716 (error < 1e-20).
double two_atanh_small(double s) {
  const double s2 = s * s;
  double sum = 1.0 / 31.0;
  for (int k = 29; k >= 1; k -= 2) sum = 1.0 / k + s2 * sum;
  return 2.0 * s * sum;
}
}  // namespace

double det_exp(double x) {
  if (std::isnan(x)) return x;
  if (x > 709.78) return std::numeric_limits<double>::infinity();
  if (x < -745.2) return 0.0;
  const double n = std::floor(x * (1.0 / kLn2) + 0.5);
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;  // |r| <= 0.3466
  // Taylor series to r^17 / 17!: truncation error < 1e-23.
  double sum = 1.0;
  for (int k = 17; k >= 1; --k) sum = 1.0 + sum * r / k;
  return std::ldexp(sum, static_cast<int>(n));
}

double det_log(double x) {
  if (std::isnan(x) || x < 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return -std::numeric_limits<double>::infinity();
  if (std::isinf(x)) return x;
  int k = 0;
  double m = std::frexp(x, &k);  // x = m * 2^k, m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    k -= 1;
  }
  const double s = (m - 1.0) / (m + 1.0);
  return k * kLn2Hi + (k * kLn2Lo + two_atanh_small(s));
}

double det_log1p(double x) {
  if (x > -0.25 && x < 0.25) return two_atanh_small(x / (2.0 + x));  // log(1+x) = 2 atanh(x/(2+x))
  return det_log(1.0 + x);
}

double det_cos_turns(uint32_t turn) {
  const uint32_t quadrant = turn >> 30;
  const double phi = double(turn & 0x3FFFFFFFu) * (0.5 * kPi * 0x1p-30);  // [0, pi/2)
  const double p2 = phi * phi;
  // Taylor series of cos and sin to degree 26/27 on [0, pi/2): error < 1e-20.
  double c = 1.0, s = 1.0;
  for (int k = 26; k >= 2; k -= 2) c = 1.0 - c * p2 / (double(k) * (k - 1));
  for (int k = 27; k >= 3; k -= 2) s = 1.0 - s * p2 / (double(k) * (k - 1));
  s *= phi;
  switch (quadrant) {
    case 0: return c;
    case 1: return -s;
    case 2: return -c;
    default: return s;
  }
}

double det_erfc(double x) {
  if (std::isnan(x)) return x;
  if (x < 0) return 2.0 - det_erfc(-x);
  constexpr double kInvSqrtPi = 0.56418958354775628695;
  // Below: the erf series (1 - erf loses little while erfc > 0.02); above: the
  // continued fraction, which converges fast enough there at a fixed depth.
  constexpr double kSeriesLimit = 1.6;
  if (x < kSeriesLimit) {
    // erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (1*3*...*(2n+1)): all terms positive.
    const double two_x2 = 2.0 * x * x;
    double term = x, sum = x;
    for (int n = 1; n < 200; ++n) {
      term *= two_x2 / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-18) break;
    }
    return 1.0 - 2.0 * kInvSqrtPi * det_exp(-x * x) * sum;
  }
  if (x > 27.3) return 0.0;  // below the smallest double
  // Continued fraction erfc(x) = e^{-x^2}/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))),
  // evaluated from a fixed depth of 400 (converged to ~1e-16 for x >= 1.6).
  double tail = x;
  for (int k = 400; k >= 1; --k) tail = x + (0.5 * k) / tail;
  return kInvSqrtPi * det_exp(-x * x) / tail;
}

}  // namespace qes::es
