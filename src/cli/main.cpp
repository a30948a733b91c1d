// qes: fine-tune quantized language models on CPUs with Quantized Evolution Strategies.
#include "command_registry.hpp"

#include <cstdio>
#include <exception>

namespace qes::cli {
std::vector<CommandSetup>& command_registry() {
  static std::vector<CommandSetup> registry;
  return registry;
}
}  // namespace qes::cli

int main(int argc, char** argv) {
  CLI::App app{"qes: fine-tune quantized language models on CPUs with Quantized Evolution Strategies"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "qes 0.1.0");
  for (auto& setup : qes::cli::command_registry()) setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qes: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
