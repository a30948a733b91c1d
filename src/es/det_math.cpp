#include "qes/es/det_math.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace qes::es {
namespace {
// ln 2 split so that n * kLn2Hi is exact for |n| < 2^11.
constexpr double kLn2Hi = 6.93147180369123816490e-01;
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kLn2 = 6.93147180559945286227e-01;
constexpr double kPi = 3.14159265358979311600e+00;

// Series coefficients as compile-time constants: multiplying by them (instead
// of dividing in the loop) is fast and still fixed, since constant folding of
// a division is exact IEEE arithmetic on every compiler.
constexpr double kInvOdd[16] = {1.0 / 1,  1.0 / 3,  1.0 / 5,  1.0 / 7,  1.0 / 9,  1.0 / 11,
                                1.0 / 13, 1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21, 1.0 / 23,
                                1.0 / 25, 1.0 / 27, 1.0 / 29, 1.0 / 31};
constexpr double kInvFact[18] = {1.0,
                                 1.0,
                                 1.0 / 2,
                                 1.0 / 6,
                                 1.0 / 24,
                                 1.0 / 120,
                                 1.0 / 720,
                                 1.0 / 5040,
                                 1.0 / 40320,
                                 1.0 / 362880,
                                 1.0 / 3628800,
                                 1.0 / 39916800,
                                 1.0 / 479001600,
                                 1.0 / 6227020800,
                                 1.0 / 87178291200,
                                 1.0 / 1307674368000,
                                 1.0 / 20922789888000,
                                 1.0 / 355687428096000};

// 2 * atanh(s) = log((1 + s) / (1 - s)) for |s| <= 0.1716 (error < 1e-20).
double two_atanh_small(double s) {
  const double s2 = s * s;
  double sum = kInvOdd[15];
  for (int k = 14; k >= 0; --k) sum = kInvOdd[k] + s2 * sum;
  return 2.0 * s * sum;
}

// cos and sin on [0, pi/4] by Taylor series to degree 16/17 (error < 3e-18).
double cos_small(double x) {
  const double x2 = x * x;
  double sum = kInvFact[16];
  for (int k = 14; k >= 0; k -= 2) sum = (k % 4 == 0 ? kInvFact[k] : -kInvFact[k]) + x2 * sum;
  return sum;
}
double sin_small(double x) {
  const double x2 = x * x;
  double sum = kInvFact[17];
  for (int k = 15; k >= 1; k -= 2) sum = (k % 4 == 1 ? kInvFact[k] : -kInvFact[k]) + x2 * sum;
  return x * sum;
}
}  // namespace

double det_exp(double x) {
  if (std::isnan(x)) return x;
  if (x > 709.78) return std::numeric_limits<double>::infinity();
  if (x < -745.2) return 0.0;
  const double n = std::floor(x * (1.0 / kLn2) + 0.5);
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;  // |r| <= 0.3466
  // Taylor series to r^17 / 17!: truncation error < 1e-23.
  double sum = kInvFact[17];
  for (int k = 16; k >= 0; --k) sum = kInvFact[k] + r * sum;
  return std::ldexp(sum, static_cast<int>(n));
}

double det_log(double x) {
  if (std::isnan(x) || x < 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return -std::numeric_limits<double>::infinity();
  if (std::isinf(x)) return x;
  // x = m * 2^k, m in [0.5, 1): the exponent field directly for normal numbers.
  int k = 0;
  double m;
  uint64_t bits;
  std::memcpy(&bits, &x, 8);
  const int biased = int((bits >> 52) & 0x7FF);
  if (biased != 0) {
    k = biased - 1022;
    bits = (bits & 0x800FFFFFFFFFFFFFull) | (uint64_t(1022) << 52);
    std::memcpy(&m, &bits, 8);
  } else {
    m = std::frexp(x, &k);
  }
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
  // Octant o = top 3 bits, f = offset in it; phi = f * (pi/4) / 2^29 and its
  // complement psi = (2^29 - f) * (pi/4) / 2^29 are both exact-input angles in [0, pi/4].
  constexpr double kStep = 0.25 * kPi * 0x1p-29;
  const uint32_t octant = turn >> 29;
  const uint32_t f = turn & 0x1FFFFFFFu;
  const double phi = double(f) * kStep;
  const double psi = double(0x20000000u - f) * kStep;
  switch (octant) {
    case 0: return cos_small(phi);
    case 1: return sin_small(psi);
    case 2: return -sin_small(phi);
    case 3: return -cos_small(psi);
    case 4: return -cos_small(phi);
    case 5: return -sin_small(psi);
    case 6: return sin_small(phi);
    default: return cos_small(psi);
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
