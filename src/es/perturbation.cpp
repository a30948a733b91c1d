#include "qes/es/perturbation.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "qes/es/det_math.hpp"

namespace qes::es {
namespace {
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr int kMaxMagnitudeTable = 4096;
}  // namespace

PerturbationPmf::PerturbationPmf(double sigma) : sigma_(sigma) {
  if (!(sigma > 0.0 && sigma <= 1000.0))
    throw std::invalid_argument("perturbation: sigma must be in (0, 1000], got " + std::to_string(sigma));
  p_nonzero_ = 2.0 * (H(0.0) - H(1.0));
}

double PerturbationPmf::H(double t) const {
  const double z = t / sigma_;
  return sigma_ * kInvSqrt2Pi * det_exp(-0.5 * z * z) - t * 0.5 * det_erfc(z * kInvSqrt2);
}

double PerturbationPmf::prob(int64_t k) const {
  if (k < 0) k = -k;
  if (k == 0) return 1.0 - p_nonzero_;
  const double t = double(k);
  const double p = H(t - 1.0) - 2.0 * H(t) + H(t + 1.0);
  return p > 0.0 ? p : 0.0;  // far tails: rounding may leave -1e-323
}

double PerturbationPmf::tail_beyond(int64_t m) const {
  if (m < 0) return 1.0;
  const double p = 2.0 * (H(double(m)) - H(double(m) + 1.0));
  return p > 0.0 ? p : 0.0;
}

const char* sampler_kind_name(SamplerKind k) {
  switch (k) {
    case SamplerKind::kAuto: return "auto";
    case SamplerKind::kSparse: return "sparse";
    case SamplerKind::kDense: return "dense";
  }
  return "?";
}

bool sampler_kind_from_name(const char* name, SamplerKind* out) {
  for (SamplerKind k : {SamplerKind::kAuto, SamplerKind::kSparse, SamplerKind::kDense})
    if (std::strcmp(name, sampler_kind_name(k)) == 0) {
      *out = k;
      return true;
    }
  return false;
}

TileNoiseSampler::TileNoiseSampler(double sigma, SamplerKind kind, double sparse_threshold) : pmf_(sigma) {
  const double p = pmf_.p_nonzero();
  sparse_ = kind == SamplerKind::kSparse || (kind == SamplerKind::kAuto && p < sparse_threshold);
  if (!sparse_) return;
  if (double(kTileCodes) * p > 600.0)
    throw std::invalid_argument("perturbation: the sparse sampler needs P(d != 0) <= " +
                                std::to_string(600.0 / kTileCodes) + ", sigma " + std::to_string(sigma) +
                                " gives " + std::to_string(p) + "; use the dense sampler");
  count_.emplace_back(kTileCodes, p);
  // Conditional magnitudes: P(|d| <= m | d != 0) = 1 - P(|d| > m) / P(d != 0), as 31-bit cuts.
  for (int m = 1; m < kMaxMagnitudeTable; ++m) {
    const double beyond = pmf_.tail_beyond(m) / p;
    if (beyond * 0x1p31 < 0.5) break;  // no 31-bit draw can exceed m
    magnitude_cut_.push_back(static_cast<uint32_t>(std::floor((1.0 - beyond) * 0x1p31)));
  }
}

int TileNoiseSampler::magnitude(uint32_t u31) const {
  int m = 1;
  for (uint32_t cut : magnitude_cut_) {
    if (u31 < cut) break;
    ++m;
  }
  return m;
}

void TileNoiseSampler::sample(PhiloxKey key, uint32_t len, TileNoise& out) const {
  out.clear();
  if (len > kTileCodes) throw std::invalid_argument("perturbation: tile longer than kTileCodes");
  if (sparse_)
    sample_sparse(key, len, out);
  else
    sample_dense(key, len, out);
}

int TileNoiseSampler::dense_value(PhiloxKey key, uint32_t position) const {
  const PhiloxBlock b = stream_block(key, kRegionDense, position);
  const double x = pmf_.sigma() * standard_normal(b);
  const double lower = std::floor(x);
  const double frac = x - lower;  // exact
  const double d = lower + (double(b.w[3]) < frac * 0x1p32 ? 1.0 : 0.0);
  return d > 32767.0 ? 32767 : d < -32767.0 ? -32767 : int(d);
}

void TileNoiseSampler::sample_dense(PhiloxKey key, uint32_t len, TileNoise& out) const {
  for (uint32_t i = 0; i < len; ++i) {
    const int d = dense_value(key, i);
    if (d != 0) {
      out.pos.push_back(static_cast<uint16_t>(i));
      out.val.push_back(static_cast<int16_t>(d));
    }
  }
}

void TileNoiseSampler::sample_sparse(PhiloxKey key, uint32_t len, TileNoise& out) const {
  const PhiloxBlock cb = stream_block(key, kRegionCount, 0);
  const uint32_t count = count_[0].sample(uniform53(cb.w[0], cb.w[1]));
  if (count == 0) return;
  // Distinct uniform positions, two 12-bit draws per word (bits 31..20, then
  // 19..8); a repeat is rejected and the next draw taken, which leaves a
  // uniform count-subset. The k-th distinct position drawn takes the k-th value.
  // When every nonzero is +-1 (no 31-bit draw can reach magnitude 2: small
  // sigma) the value is a sign: bit 0 (first draw) or bit 1 (second draw) of
  // the same word, independent of its position bits. Otherwise value k is word
  // k of the value region: sign in the top bit, magnitude from the low 31 bits.
  // Positions past a short last tile are dropped after their value is drawn,
  // so a short tile is exactly the prefix of the full one.
  static_assert(kTileCodes == 4096, "positions are 12-bit draws");
  if (out.taken_stamp.size() != kTileCodes) {
    out.taken_stamp.assign(kTileCodes, 0);
    out.stamp = 0;
  }
  if (++out.stamp == 0) {  // wrapped: forget every old stamp
    std::fill(out.taken_stamp.begin(), out.taken_stamp.end(), uint16_t(0));
    out.stamp = 1;
  }
  uint16_t* taken = out.taken_stamp.data();
  const uint16_t stamp = out.stamp;
  const bool signs_only = magnitude_cut_.empty();
  uint32_t found = 0;
  PhiloxBlock vb{};
  for (uint64_t block = 0; found < count; ++block) {
    const PhiloxBlock pb = stream_block(key, kRegionPosition, block);
    for (int h = 0; h < 8 && found < count; ++h) {
      const uint32_t word = pb.w[h >> 1];
      const uint32_t p = (h & 1) ? (word >> 8) & 0xFFFu : word >> 20;
      if (taken[p] == stamp) continue;
      taken[p] = stamp;
      const uint32_t k = found++;
      int value;
      if (signs_only) {
        value = (word >> (h & 1)) & 1u ? -1 : 1;
      } else {
        if ((k & 3) == 0) vb = stream_block(key, kRegionValue, k >> 2);
        const uint32_t v = vb.w[k & 3];
        const int m = magnitude(v & 0x7FFFFFFFu);
        value = (v >> 31) ? -m : m;
      }
      if (p >= len) continue;
      out.pos.push_back(static_cast<uint16_t>(p));
      out.val.push_back(static_cast<int16_t>(value));
    }
  }
}

}  // namespace qes::es
