#pragma once
// The perturbation of one integer code, d = floor(sigma*e) + Bernoulli(frac(sigma*e)),
// e ~ N(0,1) (stochastic rounding of sigma*e, DESIGN.md §4 step 1), its exact
// distribution, and the samplers that draw it for one tile of codes.
//
// Exact pmf. Given x = sigma*e, d = k with probability tri(x - k), tri(t) =
// max(0, 1 - |t|) (the two neighbours of x share the mass linearly). So
//   P(d = k) = E[tri(X - k)] = H(k-1) - 2 H(k) + H(k+1),   X ~ N(0, sigma^2),
// the second difference of H(t) = E[(X - t)+] = sigma^2 phi_sigma(t) - t Q_sigma(t),
// and by symmetry P(d = -k) = P(d = k). Telescoping,
//   P(d != 0) = 2 (H(0) - H(1)) = sigma sqrt(2/pi) - 2 H(1)   (= sigma sqrt(2/pi) when sigma << 1),
//   P(|d| > m) = 2 (H(m) - H(m+1)).
//
// Samplers (one tile = kTileCodes consecutive codes of a tensor, §trainable.hpp):
//  dense:  every position draws e (Box-Muller) and the Bernoulli from block
//          `position` of the tile's stream: the definition itself.
//  sparse: C ~ Binomial(kTileCodes, P(d != 0)) nonzeros, their positions a
//          uniform C-subset of the tile (distinct uniform draws), and their
//          values sign * m with m from P(|d| = m | d != 0). For small sigma
//          (|d| = 1 always, to 31-bit resolution) the signs come from the
//          spare bits of the position words: ~6 Philox blocks per tile draw. Positions of a
//          shorter last tile are drawn over the full kTileCodes and those past
//          its end dropped, so every tile uses one table.
// Both give independent positions with exactly the pmf above; they consume the
// stream differently, so the choice (automatic from P(d != 0), a config value)
// is part of what a seed means.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "qes/es/distributions.hpp"
#include "qes/es/philox.hpp"

namespace qes::es {

inline constexpr uint32_t kTileCodes = 4096;  // codes per tile (a power of two: positions are top bits)

class PerturbationPmf {
 public:
  explicit PerturbationPmf(double sigma);  // throws unless 0 < sigma <= 1000
  double sigma() const { return sigma_; }
  double prob(int64_t k) const;             // exact P(d = k)
  double p_nonzero() const { return p_nonzero_; }
  double tail_beyond(int64_t m) const;      // P(|d| > m)

 private:
  double H(double t) const;  // E[(X - t)+] for t >= 0
  double sigma_;
  double p_nonzero_;
};

enum class SamplerKind { kAuto, kSparse, kDense };
const char* sampler_kind_name(SamplerKind k);
bool sampler_kind_from_name(const char* name, SamplerKind* out);

// Nonzero perturbation entries of one tile: distinct tile-local positions and
// their values (dense: ascending; sparse: in draw order).
struct TileNoise {
  std::vector<uint16_t> pos;
  std::vector<int16_t> val;
  void clear() {
    pos.clear();
    val.clear();
  }
  size_t size() const { return pos.size(); }

  // Sampler scratch: position p is taken in the current draw iff
  // taken_stamp[p] == stamp (no clearing between draws). One per thread.
  std::vector<uint16_t> taken_stamp;
  uint16_t stamp = 0;
};

class TileNoiseSampler {
 public:
  // kAuto picks sparse when P(d != 0) < sparse_threshold (default 0.1).
  explicit TileNoiseSampler(double sigma, SamplerKind kind = SamplerKind::kAuto, double sparse_threshold = 0.1);
  bool is_sparse() const { return sparse_; }
  double sigma() const { return pmf_.sigma(); }
  const PerturbationPmf& pmf() const { return pmf_; }

  // The nonzeros of the tile whose stream key is `key`, over its first `len` codes.
  void sample(PhiloxKey key, uint32_t len, TileNoise& out) const;
  // The dense definition for one position (exposed for tests and the dense path).
  int dense_value(PhiloxKey key, uint32_t position) const;

 private:
  void sample_sparse(PhiloxKey key, uint32_t len, TileNoise& out) const;
  void sample_dense(PhiloxKey key, uint32_t len, TileNoise& out) const;
  int magnitude(uint32_t u31) const;

  PerturbationPmf pmf_;
  bool sparse_ = false;
  std::vector<BinomialInverse> count_;      // one table (sparse only); vector to avoid a default state
  std::vector<uint32_t> magnitude_cut_;     // cut[m-1] = floor(P(|d| <= m | d != 0) * 2^31)
};

}  // namespace qes::es
