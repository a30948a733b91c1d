#include "cli_options.hpp"

#include "qes/matmul.hpp"
#include "qes/topology.hpp"

namespace qes::cli {

void add_compute_options(CLI::App* cmd, ComputeOptions& opts) {
  cmd->add_option("--threads", opts.threads, "Threads (default: one per physical core, pinned)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--isa", opts.isa, "Force a kernel path: scalar, avx2, avx512, avx512vnni, neon, neondot "
                                     "(default: the best this CPU runs; env QES_ISA)");
}

int apply_compute_options(const ComputeOptions& opts) {
  if (!opts.isa.empty()) force_isa(opts.isa);
  return set_threads(opts.threads);
}

}  // namespace qes::cli
