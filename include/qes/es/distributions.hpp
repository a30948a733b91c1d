#pragma once
// Distributions on top of the counter-based generator (philox.hpp), written
// with the deterministic functions of det_math.hpp so that the same key and
// counter give the same value on every platform.
#include <cstdint>
#include <vector>

#include "qes/es/philox.hpp"

namespace qes::es {

// Box-Muller from one Philox block: words 0,1 give a 53-bit U(0,1] radius
// draw, word 2 the angle as a 32-bit fraction of a turn (word 3 is left for
// the caller). Tails reach |e| = 8.57 (u = 2^-53).
double standard_normal(const PhiloxBlock& b);

double uniform(CounterStream& s);                // [0, 1)
bool bernoulli(CounterStream& s, double p);       // P(true) = p, resolution 2^-53
uint64_t geometric(CounterStream& s, double p);   // failures before the first success, p in (0, 1]

// Binomial(n, p) by inversion of a precomputed CDF table: exact up to the
// rounding of the table (~1e-15). Needs n*p <= 600 (P(0) must not underflow);
// the constructor throws otherwise.
class BinomialInverse {
 public:
  BinomialInverse(uint32_t n, double p);
  uint32_t sample(double u01) const;  // u01 uniform in [0, 1)
  uint32_t n() const { return n_; }
  double p() const { return p_; }

 private:
  void build_guide();
  uint32_t n_;
  double p_;
  std::vector<double> cdf_;      // cdf_[k] = P(X <= k), truncated where the tail is < 1e-20
  std::vector<uint32_t> guide_;  // guide_[i] = smallest k with cdf_[k] > i / kGuide: the search start
  static constexpr int kGuide = 256;
};

uint32_t binomial(CounterStream& s, uint32_t n, double p);

}  // namespace qes::es
