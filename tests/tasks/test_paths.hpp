#pragma once
// Where the tests find their data: the shared third-party folder (may be
// absent: those tests skip) and this folder's own fixtures.
#include <cstdlib>
#include <filesystem>
#include <optional>

namespace qes::tasks::test {

inline std::optional<std::filesystem::path> shared_data_file(const char* name) {
  std::filesystem::path dir = QES_SHARED_DATA;
  if (const char* env = std::getenv("QES_SHARED_DATA"); env && *env) dir = env;
  std::filesystem::path file = dir / name;
  if (!std::filesystem::exists(file)) return std::nullopt;
  return file;
}

inline std::filesystem::path fixture(const char* name) {
  return std::filesystem::path(QES_SOURCE_DIR) / "tests" / "tasks" / "data" / name;
}

}  // namespace qes::tasks::test
