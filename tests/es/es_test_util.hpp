#pragma once
// Helpers for the optimizer tests: owned random quantized matrices and a
// chi-square critical value.
#include <cmath>
#include <cstring>
#include <cstdint>
#include <vector>

#include "qes/es/philox.hpp"
#include "qes/quant.hpp"

namespace qes::es::testing {

struct OwnedMatrix {
  std::vector<uint8_t> bytes;
  QuantMatrix m;
  OwnedMatrix(DType type, int64_t rows, int64_t cols) {
    m.type = type;
    m.rows = rows;
    m.cols = cols;
    bytes.assign(m.size_bytes(), 0);
    m.data = bytes.data();
  }
  OwnedMatrix(const OwnedMatrix& o) : bytes(o.bytes), m(o.m) { m.data = bytes.data(); }
  OwnedMatrix& operator=(const OwnedMatrix&) = delete;
};

// Random scales (and mins) and codes uniform in [lo, hi].
inline OwnedMatrix random_matrix(DType type, int64_t rows, int64_t cols, uint64_t seed, int lo, int hi) {
  OwnedMatrix om(type, rows, cols);
  CounterStream s(derive_stream_key({seed, StreamPurpose::kTest, 1, 2, 3, 4}));
  // Scales/mins: fill every byte randomly first, then overwrite the codes; fix the
  // half-precision fields so they are finite.
  for (auto& b : om.bytes) b = static_cast<uint8_t>(s.next_u32());
  const size_t bb = block_bytes(type);
  for (size_t off = 0; off < om.bytes.size(); off += bb) {
    const uint16_t d = fp32_to_fp16(0.001f + 0.01f * float(s.uniform()));
    std::memcpy(&om.bytes[off], &d, 2);
    if (type == DType::Q4_1) {
      const uint16_t mn = fp32_to_fp16(-0.05f * float(s.uniform()));
      std::memcpy(&om.bytes[off + 2], &mn, 2);
    }
  }
  const uint32_t span = static_cast<uint32_t>(hi - lo + 1);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) set_code(om.m, r, c, lo + static_cast<int>(s.next_u32() % span));
  return om;
}

// Upper 0.1% point of chi-square with df degrees of freedom (Wilson-Hilferty).
inline double chi2_critical_001(int df) {
  const double z = 3.090232;
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

struct ChiSquare {
  double stat = 0;
  int df = 0;
  bool passes() const { return df > 0 && stat < chi2_critical_001(df); }
};

// Merges adjacent bins (left to right, remainder into the last) until each
// holds at least `min_weight` of weight(i).
template <class Weight>
inline std::vector<std::pair<size_t, size_t>> merged_bins(size_t n, Weight weight, double min_weight) {
  std::vector<std::pair<size_t, size_t>> bins;
  size_t start = 0;
  double acc = 0;
  for (size_t i = 0; i < n; ++i) {
    acc += weight(i);
    if (acc >= min_weight) {
      bins.push_back({start, i + 1});
      start = i + 1;
      acc = 0;
    }
  }
  if (start < n) {
    if (bins.empty()) bins.push_back({start, n});
    else bins.back().second = n;
  }
  return bins;
}

// Pearson chi-square of observed counts against expected counts.
inline ChiSquare chi_square_fit(const std::vector<double>& obs, const std::vector<double>& expected) {
  ChiSquare r;
  for (auto [a, b] : merged_bins(obs.size(), [&](size_t i) { return expected[i]; }, 20.0)) {
    double o = 0, e = 0;
    for (size_t i = a; i < b; ++i) o += obs[i], e += expected[i];
    r.stat += (o - e) * (o - e) / e;
    ++r.df;
  }
  r.df -= 1;
  return r;
}

// Two-sample chi-square (equal sample sizes): do a and b come from one distribution?
inline ChiSquare chi_square_two_sample(const std::vector<double>& a, const std::vector<double>& b) {
  ChiSquare r;
  for (auto [lo, hi] : merged_bins(a.size(), [&](size_t i) { return a[i] + b[i]; }, 40.0)) {
    double x = 0, y = 0;
    for (size_t i = lo; i < hi; ++i) x += a[i], y += b[i];
    r.stat += (x - y) * (x - y) / (x + y);
    ++r.df;
  }
  r.df -= 1;
  return r;
}

}  // namespace qes::es::testing
