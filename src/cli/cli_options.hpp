#pragma once
// Options every compute command takes: --threads and --isa.
#include <CLI/CLI.hpp>
#include <string>

namespace qes::cli {

struct ComputeOptions {
  int threads = 0;   // 0: one per physical core
  std::string isa;   // empty: the best the CPU supports (or QES_ISA)
};

void add_compute_options(CLI::App* cmd, ComputeOptions& opts);
// Pins the threads and forces the ISA; returns the thread count in use.
int apply_compute_options(const ComputeOptions& opts);

}  // namespace qes::cli
