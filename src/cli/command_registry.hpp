#pragma once
// Subcommands register themselves at static-initialisation time, so each
// command lives in its own cmd_*.cpp and main.cpp never changes.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace qes::cli {

// Called once with the top-level app; the function adds its subcommand and callback.
using CommandSetup = std::function<void(CLI::App& app)>;

std::vector<CommandSetup>& command_registry();

struct RegisterCommand {
  explicit RegisterCommand(CommandSetup setup) { command_registry().push_back(std::move(setup)); }
};

// The subcommand `name` of `parent`, created on first use: lets several files
// add commands under one group (e.g. `qes bench kernels`, `qes bench generate`).
inline CLI::App* subcommand_group(CLI::App& parent, const std::string& name, const std::string& description) {
  auto same_name = [&](CLI::App* sub) { return sub->get_name() == name; };
  auto existing = parent.get_subcommands(same_name);  // CLI11 2.1 has no get_subcommand_no_throw
  if (!existing.empty()) return existing.front();
  CLI::App* group = parent.add_subcommand(name, description);
  group->require_subcommand(1);
  return group;
}

}  // namespace qes::cli
