// Google Benchmark suite for the matmul kernels: every runnable ISA, type,
// shape and batch, on weights colder than the caches, with GB/s of weight bytes
// and GOPS as counters; plus the read-bandwidth probe.
//   ./build/release/bench/kernels/bench_kernels --benchmark_filter='q4_0/4096x4096'
// Thread count: QES_BENCH_THREADS (default: one per physical core).
// QES_BENCH_LINE_LOADS=whole|split forces how the AVX-512 VNNI streaming
// GEMV reads aligned rows (qes::LineLoads; default: the CPU's Auto choice).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "qes/bandwidth.hpp"
#include "qes/kernel_bench.hpp"
#include "qes/matmul.hpp"
#include "qes/topology.hpp"

namespace {

int bench_threads() {
  const char* env = std::getenv("QES_BENCH_THREADS");
  return env ? std::atoi(env) : qes::topology().cores;
}

// Cold weight sets are large; keep one per (type, shape) alive across benchmarks.
// hot: a single copy (the small matrices of the tiny training model stay in
// the caches between calls, as they do in a forward pass).
qes::ColdWeights& weights(qes::DType type, int64_t rows, int64_t cols, bool hot) {
  static std::map<std::tuple<int, int64_t, int64_t, bool>, std::unique_ptr<qes::ColdWeights>> cache;
  auto& slot = cache[{static_cast<int>(type), rows, cols, hot}];
  if (!slot)
    slot = hot ? std::make_unique<qes::ColdWeights>(type, rows, cols, 1, 1)
               : std::make_unique<qes::ColdWeights>(type, rows, cols);
  return *slot;
}

// GB/s of weight bytes read, one matrix per iteration.
void set_weight_rate(benchmark::State& state, const qes::ColdWeights& w) {
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(state.iterations()) *
                                                  static_cast<double>(w.matrix_bytes()) / 1e9,
                                              benchmark::Counter::kIsRate);
}

void bm_matmul(benchmark::State& state, qes::Isa isa, qes::DType type, int64_t rows, int64_t cols, int batch,
               bool hot) {
  const int threads = bench_threads();
  qes::force_isa(isa);
  qes::set_threads(threads);
  qes::ColdWeights& w = weights(type, rows, cols, hot);
  std::vector<float> x(static_cast<size_t>(cols) * batch, 0.5f), y(static_cast<size_t>(rows) * batch);
  // Hot shapes time the kernels alone: the activations are quantized once
  // (the model quantizes an input once for all the matrices that read it).
  qes::QuantizedActivations acts;
  acts.quantize(x.data(), cols, batch, cols);
  for (auto _ : state) {
    if (hot)
      qes::matmul(w.next(), acts, y.data(), rows, threads);
    else
      qes::matmul(w.next(), x.data(), cols, batch, y.data(), rows, threads);
    benchmark::DoNotOptimize(y.data());
  }
  set_weight_rate(state, w);
  const double calls = static_cast<double>(state.iterations());
  state.counters["GOPS"] = benchmark::Counter(calls * 2.0 * rows * cols * batch / 1e9, benchmark::Counter::kIsRate);
  state.counters["threads"] = threads;
}

// One thread's call as the forward pass makes it (qes::matmul_rows inside its
// own parallel region: no fork/join, no threading), on a cache-hot matrix:
// the kernel's compute rate and per-call cost alone.
void bm_rows_hot(benchmark::State& state, qes::Isa isa, qes::DType type, int64_t rows, int64_t cols, int batch) {
  qes::ColdWeights& w = weights(type, rows, cols, true);
  std::vector<float> x(static_cast<size_t>(cols) * batch, 0.5f), y(static_cast<size_t>(rows) * batch);
  qes::QuantizedActivations acts;
  acts.quantize(x.data(), cols, batch, cols);
  for (auto _ : state) {
    qes::matmul_rows(isa, w.next(), acts, 0, rows, y.data(), rows);
    benchmark::DoNotOptimize(y.data());
  }
  set_weight_rate(state, w);
}

// Quantizing `batch` activation vectors of `cols` floats per 32-value block,
// as the forward pass does once per linear layer input (one thread, hot).
void bm_quantize_acts(benchmark::State& state, qes::Isa isa, int64_t cols, int batch) {
  qes::force_isa(isa);  // the quantizer's build follows the active path
  std::vector<float> x(static_cast<size_t>(cols) * batch);
  for (size_t i = 0; i < x.size(); i++) x[i] = static_cast<float>((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
  qes::QuantizedActivations acts;
  acts.resize(batch, cols);
  for (auto _ : state) {
    acts.quantize_vectors(x.data(), cols, 0, batch);
    benchmark::DoNotOptimize(acts);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(x.size() * sizeof(float)));
}

void bm_read_bandwidth(benchmark::State& state) {
  const int threads = bench_threads();
  for (auto _ : state) state.counters["GB/s"] = qes::measure_read_bandwidth_gbs(threads, size_t{1} << 30, 3);
  state.counters["threads"] = threads;
}

// Reads in bursts of region KiB per thread with a barrier between bursts (a
// decode step's phases: Qwen2.5-0.5B reads 0.2-2.5 MB per thread per phase).
void bm_burst_bandwidth(benchmark::State& state, size_t region_kib) {
  const int threads = bench_threads();
  for (auto _ : state) state.counters["GB/s"] = qes::measure_burst_read_gbs(threads, region_kib << 10, size_t{1} << 30, 3);
  state.counters["threads"] = threads;
}

}  // namespace

// QES_BENCH_LINE_LOADS, so one binary measures both ways on any CPU.
void apply_line_loads_env() {
  const char* env = std::getenv("QES_BENCH_LINE_LOADS");
  if (!env) return;
  const std::string mode = env;
  if (mode != "whole" && mode != "split") {
    std::fprintf(stderr, "QES_BENCH_LINE_LOADS=%s: expected whole or split\n", env);
    std::exit(2);
  }
  qes::set_line_loads(mode == "whole" ? qes::LineLoads::Whole : qes::LineLoads::Split);
}

int main(int argc, char** argv) {
  apply_line_loads_env();
  struct Shape {
    int64_t rows, cols;
  };
  const std::vector<Shape> shapes = {{896, 896}, {4864, 896}, {896, 4864}, {4096, 4096}, {11008, 4096}};
  const std::vector<qes::DType> types = {qes::DType::Q4_0, qes::DType::Q4_1, qes::DType::Q8_0, qes::DType::I4_G64};
  benchmark::RegisterBenchmark("read_bandwidth/1GiB", bm_read_bandwidth)->Iterations(1)->Unit(benchmark::kMillisecond);
  for (size_t kib : {32, 128, 256, 1024, 2048, 8192, 65536})
    benchmark::RegisterBenchmark(("read_bursts/" + std::to_string(kib) + "KiB").c_str(), bm_burst_bandwidth, kib)
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  for (qes::Isa isa : qes::runnable_isas())
    for (qes::DType type : types)
      for (Shape s : shapes)
        for (int batch : {1, 4, 16, 64}) {
          std::string name = std::string(batch == 1 ? "gemv" : "gemm") + "/" + std::string(qes::isa_name(isa)) + "/" +
                             std::string(qes::dtype_name(type)) + "/" + std::to_string(s.rows) + "x" +
                             std::to_string(s.cols) + "/batch:" + std::to_string(batch);
          benchmark::RegisterBenchmark(name.c_str(), bm_matmul, isa, type, s.rows, s.cols, batch, false)
              ->Unit(benchmark::kMicrosecond)
              ->MinTime(0.2);
        }
  // Qwen2.5-0.5B's tied output projection (Q8_0, vocabulary x dim): ~23 % of
  // a batch-1 decode step.
  for (qes::Isa isa : qes::runnable_isas())
    for (int batch : {1, 16}) {
      std::string name = std::string(batch == 1 ? "gemv" : "gemm") + "/" + std::string(qes::isa_name(isa)) +
                         "/q8_0/151936x896/batch:" + std::to_string(batch);
      benchmark::RegisterBenchmark(name.c_str(), bm_matmul, isa, qes::DType::Q8_0, 151936, 896, batch, false)
          ->Unit(benchmark::kMicrosecond)
          ->MinTime(0.2);
    }
  // The tiny training model's matrices (dim 256, FFN 768, vocabulary 451),
  // cache-hot, at the batches QES evaluates with (prefill steps reach 256 rows
  // of activations in 64-vector calls); 896x896 (Qwen2.5-0.5B's attention
  // matrices, 451 KiB in Q4_0) from the L2 cache, and 4096x4096 from the L3
  // cache, which separate a kernel's compute rate from its DRAM access pattern.
  const std::vector<Shape> small = {{256, 256}, {768, 256}, {256, 768}, {451, 256}, {896, 896}, {4096, 4096}};
  for (qes::Isa isa : qes::runnable_isas())
    for (qes::DType type : {qes::DType::Q4_0, qes::DType::Q8_0})
      for (Shape s : small)
        for (int batch : {1, 16, 64}) {
          std::string name = std::string(batch == 1 ? "gemv_hot" : "gemm_hot") + "/" +
                             std::string(qes::isa_name(isa)) + "/" + std::string(qes::dtype_name(type)) + "/" +
                             std::to_string(s.rows) + "x" + std::to_string(s.cols) + "/batch:" + std::to_string(batch);
          benchmark::RegisterBenchmark(name.c_str(), bm_matmul, isa, type, s.rows, s.cols, batch, true)
              ->Unit(benchmark::kMicrosecond)
              ->MinTime(0.2);
        }
  // Activation quantization: the tiny model's and Qwen2.5-0.5B's layer inputs.
  for (qes::Isa isa : qes::runnable_isas())
    for (int64_t cols : {256, 768, 896, 4864})
      for (int batch : {1, 64}) {
        const std::string name = "quantize_acts/" + std::string(qes::isa_name(isa)) + "/" + std::to_string(cols) +
                                 "/batch:" + std::to_string(batch);
        benchmark::RegisterBenchmark(name.c_str(), bm_quantize_acts, isa, cols, batch)
            ->Unit(benchmark::kMicrosecond)
            ->MinTime(0.2);
      }
  // One thread's share of a Qwen2.5-0.5B matrix, hot: decode-sized calls
  // (batch 1-4) and the batched GEMM's compute alone (16, 64: no DRAM in it).
  for (qes::Isa isa : qes::runnable_isas())
    for (qes::DType type : {qes::DType::Q4_0, qes::DType::Q8_0})
      for (Shape s : std::vector<Shape>{{448, 896}, {896, 896}, {448, 4864}, {160, 4864}, {1024, 896}})
        for (int batch : {1, 4, 16, 64}) {
          std::string name = "rows_hot/" + std::string(qes::isa_name(isa)) + "/" + std::string(qes::dtype_name(type)) +
                             "/" + std::to_string(s.rows) + "x" + std::to_string(s.cols) + "/batch:" + std::to_string(batch);
          benchmark::RegisterBenchmark(name.c_str(), bm_rows_hot, isa, type, s.rows, s.cols, batch)
              ->Unit(benchmark::kMicrosecond)
              ->MinTime(0.2);
        }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
