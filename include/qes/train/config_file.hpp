#pragma once
// TOML config files for a CLI11 subcommand, with the command line winning.
//
// Each key of the file is the long option of the same name, underscores
// standing for dashes (max_new_tokens = 64  ->  --max-new-tokens 64). A key
// given on the command line keeps the command line's value. CLI11 2.1 reads
// config files only at the top level, so subcommands apply them here after
// parsing (the values then go through the options' own checks).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace qes::train {

// Throws std::invalid_argument naming the file and the key for an unknown key
// (unless it is in `ignored`), a [section], or a value the option rejects.
void apply_config_file(CLI::App* command, const std::string& path, const std::vector<std::string>& ignored = {});

}  // namespace qes::train
