// `qes info`: what this machine offers and what qes will use on it.
#include "command_registry.hpp"
#include "qes/topology.hpp"

#include <cstdio>

namespace {

void run_info() {
  const qes::Topology& topo = qes::topology();
  std::printf("qes 0.1.0\n%s", qes::describe_topology(topo).c_str());
  std::printf("default threads: %d (one per physical core)\n", topo.cores);
}

qes::cli::RegisterCommand reg([](CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Show CPU features, the kernel path chosen per op, and the core topology");
  cmd->callback(run_info);
});

}  // namespace
