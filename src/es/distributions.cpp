#include "qes/es/distributions.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "qes/es/det_math.hpp"

namespace qes::es {

double standard_normal(const PhiloxBlock& b) {
  const double u = uniform53_open0(b.w[0], b.w[1]);
  return std::sqrt(-2.0 * det_log(u)) * det_cos_turns(b.w[2]);
}

double uniform(CounterStream& s) { return s.uniform(); }

bool bernoulli(CounterStream& s, double p) { return s.uniform() < p; }

uint64_t geometric(CounterStream& s, double p) {
  if (!(p > 0.0 && p <= 1.0)) throw std::invalid_argument("geometric: p must be in (0, 1], got " + std::to_string(p));
  if (p == 1.0) return 0;
  // P(G >= k) = (1-p)^k  <=>  G = floor(log(u) / log(1-p)) for u uniform in (0, 1].
  const double g = std::floor(det_log(s.uniform_open0()) / det_log1p(-p));
  return g >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(g);
}

BinomialInverse::BinomialInverse(uint32_t n, double p) : n_(n), p_(p) {
  if (!(p >= 0.0 && p <= 1.0)) throw std::invalid_argument("binomial: p must be in [0, 1], got " + std::to_string(p));
  if (double(n) * p > 600.0 && p < 1.0)
    throw std::invalid_argument("binomial: n*p = " + std::to_string(double(n) * p) +
                                " is too large for the inversion table (at most 600)");
  if (p == 0.0 || n == 0) {
    cdf_ = {1.0};
    build_guide();
    return;
  }
  if (p == 1.0) {
    cdf_.assign(n + 1, 0.0);
    cdf_[n] = 1.0;
    build_guide();
    return;
  }
  const double ratio = p / (1.0 - p);
  double pmf = det_exp(double(n) * det_log1p(-p));
  double cdf = pmf;
  const double mean = double(n) * p;
  cdf_.push_back(cdf);
  for (uint32_t k = 0; k < n; ++k) {
    pmf *= ratio * double(n - k) / double(k + 1);
    cdf += pmf;
    cdf_.push_back(cdf);
    if (double(k) > mean && pmf < 1e-20) break;
  }
  build_guide();
}

void BinomialInverse::build_guide() {
  guide_.resize(kGuide);
  uint32_t k = 0;
  for (int i = 0; i < kGuide; ++i) {
    const double u = double(i) / kGuide;
    while (k + 1 < cdf_.size() && !(cdf_[k] > u)) ++k;
    guide_[size_t(i)] = k;
  }
}

uint32_t BinomialInverse::sample(double u01) const {
  // Smallest k with u < cdf[k], scanning up from the guide entry of u's
  // 1/256 bucket (no k below it qualifies); the truncated tail (< 1e-20)
  // goes to the last entry.
  size_t k = guide_[static_cast<size_t>(u01 * kGuide)];
  while (k + 1 < cdf_.size() && !(u01 < cdf_[k])) ++k;
  return static_cast<uint32_t>(k);
}

uint32_t binomial(CounterStream& s, uint32_t n, double p) { return BinomialInverse(n, p).sample(s.uniform()); }

}  // namespace qes::es
