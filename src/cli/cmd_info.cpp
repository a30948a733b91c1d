// `qes info`: what this machine offers and what qes will use on it.
#include <cstdio>
#include <string>

#include "cli_options.hpp"
#include "command_registry.hpp"
#include "qes/matmul.hpp"
#include "qes/topology.hpp"

namespace {

void print_isas() {
  std::string compiled, runnable;
  for (qes::Isa isa : qes::compiled_isas()) {
    compiled += (compiled.empty() ? "" : " ") + std::string(qes::isa_name(isa));
    if (qes::cpu_supports(isa)) runnable += (runnable.empty() ? "" : " ") + std::string(qes::isa_name(isa));
  }
  std::printf("kernel paths compiled: %s\n", compiled.c_str());
  std::printf("kernel paths this CPU runs: %s\n", runnable.c_str());
  std::printf("active path: %s%s\n", std::string(qes::isa_name(qes::active_isa())).c_str(),
              qes::active_isa() == qes::best_isa() ? " (best)" : " (forced)");
  std::printf("chosen kernel per op:\n");
  const qes::DType types[] = {qes::DType::Q4_0, qes::DType::Q4_1, qes::DType::Q8_0, qes::DType::I4_G64,
                              qes::DType::F32,  qes::DType::F16,  qes::DType::BF16};
  for (qes::DType t : types)
    std::printf("  %-7s gemv: %-32s gemm: %s\n", std::string(qes::dtype_name(t)).c_str(),
                qes::kernel_name(t, 1).c_str(), qes::kernel_name(t, 16).c_str());
}

void run_info(const qes::cli::ComputeOptions& opts) {
  const int threads = qes::cli::apply_compute_options(opts);
  const qes::Topology& topo = qes::topology();
  std::printf("qes 0.1.0\n%s", qes::describe_topology(topo).c_str());
  std::printf("threads: %d (default: one per physical core)\n", threads);
  print_isas();
}

qes::cli::RegisterCommand reg([](CLI::App& app) {
  static qes::cli::ComputeOptions opts;
  auto* cmd = app.add_subcommand("info", "Show CPU features, the kernel path chosen per op, and the core topology");
  qes::cli::add_compute_options(cmd, opts);
  cmd->callback([] { run_info(opts); });
});

}  // namespace
