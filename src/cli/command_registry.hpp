#pragma once
// Subcommands register themselves at static-initialisation time, so each
// command lives in its own cmd_*.cpp and main.cpp never changes.
#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

namespace qes::cli {

// Called once with the top-level app; the function adds its subcommand and callback.
using CommandSetup = std::function<void(CLI::App& app)>;

std::vector<CommandSetup>& command_registry();

struct RegisterCommand {
  explicit RegisterCommand(CommandSetup setup) { command_registry().push_back(std::move(setup)); }
};

}  // namespace qes::cli
