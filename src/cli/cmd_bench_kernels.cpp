// `qes bench kernels`: GEMV / small-batch GEMM throughput of the real matmul
// path, per ISA and thread count, against the measured read bandwidth (GEMV)
// and the measured int8 peak (batched GEMM). Weights are colder than any cache.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cli_options.hpp"
#include "command_registry.hpp"
#include "qes/bandwidth.hpp"
#include "qes/kernel_bench.hpp"
#include "qes/matmul.hpp"
#include "qes/topology.hpp"

namespace {

struct Shape {
  int64_t rows, cols;
};

struct Options {
  qes::cli::ComputeOptions compute;
  bool quick = false;
  std::vector<int> thread_counts;
  double seconds = 0.5;
};

// 1, 2, 4, 8, ... up to the physical cores, and the core count itself.
std::vector<int> default_thread_counts(int cores) {
  std::vector<int> counts;
  for (int t = 1; t < cores; t *= 2) counts.push_back(t);
  counts.push_back(cores);
  return counts;
}

std::string shape_name(Shape s) { return std::to_string(s.rows) + "x" + std::to_string(s.cols); }

void run(const Options& opt) {
  const qes::Topology& topo = qes::topology();
  std::vector<qes::Isa> isas;
  if (!opt.compute.isa.empty()) {
    qes::force_isa(opt.compute.isa);
    isas.push_back(qes::active_isa());
  } else if (opt.quick) {
    isas.push_back(qes::best_isa());
  } else {
    isas = qes::runnable_isas();
  }
  std::vector<int> threads = opt.thread_counts;
  if (threads.empty() && opt.compute.threads > 0) threads = {opt.compute.threads};
  if (threads.empty()) threads = opt.quick ? std::vector<int>{1, topo.usable_cores} : default_thread_counts(topo.usable_cores);
  if (opt.quick && threads.size() == 2 && threads[0] == threads[1]) threads.pop_back();
  const size_t probe_bytes = std::max(qes::cold_set_bytes(), opt.quick ? (size_t{256} << 20) : (size_t{1} << 30));

  std::printf("# qes bench kernels (%s): weight sets of >= %zu MiB, colder than the %zu MiB last-level cache\n",
              opt.quick ? "quick" : "full", qes::cold_set_bytes() >> 20, topo.last_level_cache_bytes >> 20);
  std::map<int, double> bandwidth;  // GB/s per thread count
  for (int t : threads) {
    qes::set_threads(t);
    bandwidth[t] = qes::measure_read_bandwidth_gbs(t, probe_bytes);
    std::printf("read bandwidth threads=%d: %.1f GB/s\n", t, bandwidth[t]);
    std::fflush(stdout);
  }

  // The headline: Q4_0 GEMV 4096x4096 against the read bandwidth.
  const Shape headline{4096, 4096};
  qes::ColdWeights q4(qes::DType::Q4_0, headline.rows, headline.cols);
  for (qes::Isa isa : isas) {
    qes::force_isa(isa);
    for (int t : threads) {
      qes::set_threads(t);
      auto r = qes::bench_matmul(q4, headline.rows, headline.cols, 1, t, opt.seconds);
      std::printf("gemv q4_0 %s isa=%s threads=%d: %.1f GB/s = %.2f of read bandwidth %.1f GB/s\n",
                  shape_name(headline).c_str(), std::string(qes::isa_name(isa)).c_str(), t, r.weight_gbs,
                  r.weight_gbs / bandwidth[t], bandwidth[t]);
      std::fflush(stdout);
    }
  }
  if (opt.quick) return;

  // The table: every type, shape and batch on the best path, all thread counts.
  const qes::Isa best = isas.back();
  qes::force_isa(best);
  const std::vector<Shape> shapes = {{896, 896}, {4864, 896}, {896, 4864}, {4096, 4096}, {11008, 4096}};
  const std::vector<qes::DType> types = {qes::DType::Q4_0, qes::DType::Q4_1, qes::DType::Q8_0, qes::DType::I4_G64};
  const std::vector<int> batches = {1, 4, 16, 64};
  std::map<int, double> peak;
  for (int t : threads) {
    qes::set_threads(t);
    peak[t] = qes::measure_int8_peak_gops(best, t);
    std::printf("int8 peak isa=%s threads=%d: %.0f GOPS (register-only dot-product loop)\n",
                std::string(qes::isa_name(best)).c_str(), t, peak[t]);
  }
  std::printf("\n%-7s %-11s %5s %7s %8s %9s %8s %8s\n", "type", "shape", "batch", "threads", "GB/s", "of bw", "GOPS",
              "of peak");
  for (qes::DType type : types)
    for (Shape s : shapes) {
      qes::ColdWeights w(type, s.rows, s.cols);
      for (int b : batches)
        for (int t : threads) {
          qes::set_threads(t);
          auto r = qes::bench_matmul(w, s.rows, s.cols, b, t, opt.seconds);
          std::printf("%-7s %-11s %5d %7d %8.1f %9.2f %8.1f %8.3f\n", std::string(qes::dtype_name(type)).c_str(),
                      shape_name(s).c_str(), b, t, r.weight_gbs, r.weight_gbs / bandwidth[t], r.gops,
                      r.gops / peak[t]);
          std::fflush(stdout);
        }
    }
}

qes::cli::RegisterCommand reg([](CLI::App& app) {
  static Options opt;
  auto* bench = qes::cli::subcommand_group(app, "bench", "Benchmarks of the real code paths");
  auto* cmd = bench->add_subcommand("kernels", "GEMV/GEMM throughput per ISA and thread count vs read bandwidth");
  qes::cli::add_compute_options(cmd, opt.compute);
  cmd->add_flag("--quick", opt.quick, "Only the Q4_0 4096x4096 GEMV line on the best path (1 and all cores)");
  cmd->add_option("--thread-counts", opt.thread_counts, "Thread counts to run (default 1,2,4,.. up to the cores)");
  cmd->add_option("--seconds", opt.seconds, "Minimum timed seconds per measurement")->check(CLI::PositiveNumber);
  cmd->callback([] { run(opt); });
});

}  // namespace
