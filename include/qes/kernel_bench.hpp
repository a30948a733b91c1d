#pragma once
// Measures the real matmul path (qes::matmul, the same call the model makes) on
// weights larger than the caches, for `qes bench kernels` and bench/kernels.
#include <cstdint>
#include <memory>
#include <vector>

#include "qes/matmul.hpp"
#include "qes/quant.hpp"

namespace qes {

// Bytes a working set needs to be cold: four times the last-level cache, at
// least 256 MiB (the 16-core Xeon we measure on has a 300 MiB L3).
size_t cold_set_bytes();

// Several copies of one random rows x cols matrix, enough of them that the
// set exceeds `min_total_bytes` (default cold_set_bytes()): a benchmark walks
// through the copies so every call reads weights from memory, not cache.
class ColdWeights {
 public:
  ColdWeights(DType type, int64_t rows, int64_t cols, uint64_t seed = 1, size_t min_total_bytes = cold_set_bytes());
  const QuantMatrix& next();  // the next copy, round robin
  size_t matrix_bytes() const { return copies_.front().size_bytes(); }
  size_t copies() const { return copies_.size(); }

 private:
  std::vector<std::unique_ptr<uint8_t[]>> storage_;
  std::vector<QuantMatrix> copies_;
  size_t cursor_ = 0;
};

struct KernelBenchResult {
  double seconds_per_call = 0;
  double weight_gbs = 0;  // weight bytes read per second / 1e9
  double gops = 0;        // 2*rows*cols*batch per second / 1e9
};

// Times qes::matmul (batch vectors, `threads` threads) on the currently active
// ISA for at least `min_seconds`, after one warm-up call.
KernelBenchResult bench_matmul(ColdWeights& weights, int64_t rows, int64_t cols, int batch, int threads,
                               double min_seconds = 0.5);

// Estimated int8 multiply-accumulate peak of `threads` cores on `isa`, in
// GOPS (2 ops per MAC), measured with a register-only loop of the ISA's widest
// int8 dot-product instruction (vpdpbusd, vpmaddubsw+vpmaddwd, sdot, ...) run
// on every thread at once: the ceiling a batched GEMM could reach if it never
// waited for memory nor spent instructions unpacking weights.
double measure_int8_peak_gops(Isa isa, int threads, double min_seconds = 0.3);

}  // namespace qes
