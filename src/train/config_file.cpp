#include "qes/train/config_file.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace qes::train {

void apply_config_file(CLI::App* command, const std::string& path, const std::vector<std::string>& ignored) {
  if (!std::filesystem::is_regular_file(path)) throw std::invalid_argument(path + ": config file not found");
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const std::exception& e) {
    throw std::invalid_argument(path + ": cannot read the config: " + e.what());
  }
  for (const CLI::ConfigItem& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // section markers
    if (!item.parents.empty())
      throw std::invalid_argument(path + ": key '" + item.fullname() + "': sections are not used, write every key at the top");
    if (std::find(ignored.begin(), ignored.end(), item.name) != ignored.end()) continue;
    std::string option = item.name;
    std::replace(option.begin(), option.end(), '_', '-');
    CLI::Option* opt = command->get_option_no_throw("--" + option);
    if (opt == nullptr || option == "config")
      throw std::invalid_argument(path + ": unknown key '" + item.name + "' (see qes " + command->get_name() + " --help)");
    if (opt->count() > 0) continue;  // the command line wins
    try {
      if (opt->get_expected_min() == 0) {
        // A flag: TOML true/false.
        const std::string v = item.inputs.empty() ? "true" : item.inputs.front();
        if (v != "true" && v != "false") throw std::invalid_argument("expects true or false, not '" + v + "'");
        opt->add_result(v);
      } else {
        opt->add_result(item.inputs);
      }
      opt->run_callback();
    } catch (const CLI::Error& e) {
      throw std::invalid_argument(path + ": key '" + item.name + "': " + e.what());
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(path + ": key '" + item.name + "': " + e.what());
    }
  }
}

}  // namespace qes::train
