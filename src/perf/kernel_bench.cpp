#include "qes/kernel_bench.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>

#include "int8_peak.hpp"
#include "qes/topology.hpp"

namespace qes {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

size_t cold_set_bytes() { return std::max(size_t{256} << 20, 4 * topology().last_level_cache_bytes); }

ColdWeights::ColdWeights(DType type, int64_t rows, int64_t cols, uint64_t seed, size_t min_total_bytes) {
  QuantMatrix first{type, rows, cols, nullptr};
  const size_t bytes = first.size_bytes();
  const size_t n = std::max<size_t>(1, (min_total_bytes + bytes - 1) / bytes);

  // Quantize one random matrix (the real quantizer, so codes and scales are
  // realistic), then copy it: copies differ only in address, which is all the
  // cache sees.
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> row(static_cast<size_t>(cols));
  storage_.emplace_back(new uint8_t[bytes]);
  first.data = storage_.back().get();
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = normal(rng);
    quantize_row(type, row.data(), first.row_ptr(r), cols);
  }
  copies_.push_back(first);
  for (size_t i = 1; i < n; ++i) {
    storage_.emplace_back(new uint8_t[bytes]);
    std::memcpy(storage_.back().get(), first.data, bytes);
    copies_.push_back(QuantMatrix{type, rows, cols, storage_.back().get()});
  }
}

const QuantMatrix& ColdWeights::next() {
  const QuantMatrix& m = copies_[cursor_];
  cursor_ = (cursor_ + 1) % copies_.size();
  return m;
}

KernelBenchResult bench_matmul(ColdWeights& weights, int64_t rows, int64_t cols, int batch, int threads,
                               double min_seconds) {
  std::vector<float> x(static_cast<size_t>(cols) * batch), y(static_cast<size_t>(rows) * batch);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (auto& v : x) v = uniform(rng);

  // Warm-up: first-touch of y, OpenMP pool start-up, pinning.
  matmul(weights.next(), x.data(), cols, batch, y.data(), rows, threads);

  int64_t calls = 0;
  auto t0 = Clock::now();
  double elapsed = 0;
  do {
    matmul(weights.next(), x.data(), cols, batch, y.data(), rows, threads);
    ++calls;
    elapsed = seconds_since(t0);
  } while (elapsed < min_seconds);

  KernelBenchResult r;
  r.seconds_per_call = elapsed / static_cast<double>(calls);
  r.weight_gbs = static_cast<double>(weights.matrix_bytes()) / r.seconds_per_call / 1e9;
  r.gops = 2.0 * static_cast<double>(rows) * static_cast<double>(cols) * batch / r.seconds_per_call / 1e9;
  return r;
}

double measure_int8_peak_gops(Isa isa, int threads, double min_seconds) {
  using Loop = int64_t (*)(int64_t, int32_t*);
  Loop loop = nullptr;
  switch (isa) {
#if defined(__x86_64__)
    case Isa::Avx2: loop = simd::int8_peak_loop_avx2; break;
    case Isa::Avx512: loop = simd::int8_peak_loop_avx512; break;
    case Isa::Avx512Vnni: loop = simd::int8_peak_loop_avx512vnni; break;
#elif defined(__aarch64__) || defined(__ARM_NEON)
    case Isa::Neon: loop = simd::int8_peak_loop_neon; break;
#if defined(__aarch64__)
    case Isa::NeonDot: loop = simd::int8_peak_loop_neondot; break;
#endif
#endif
    case Isa::Scalar: loop = simd::int8_peak_loop_scalar; break;
    default: break;
  }
  if (!loop || !cpu_supports(isa)) throw std::runtime_error("int8 peak: path " + std::string(isa_name(isa)) + " is not runnable here");

  // Every thread runs the loop at once, so an all-core frequency drop shows.
  int64_t iterations = 1 << 16;
  for (;;) {  // grow the loop until one run lasts long enough to time
    int64_t macs = 0;
    auto t0 = Clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : macs)
    {
      int32_t sink = 0;
      macs += loop(iterations, &sink);
    }
    double s = seconds_since(t0);
    if (s >= min_seconds) return 2.0 * static_cast<double>(macs) / s / 1e9;
    iterations *= 2;
  }
}

}  // namespace qes
