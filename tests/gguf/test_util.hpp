#pragma once
// Helpers shared by the gguf tests: the shared data folder, temp dirs, whole-file I/O.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace qes::test {

// QES_SHARED_DATA from the environment, else the compile-time default; "" if absent.
std::string shared_data();
std::vector<uint8_t> read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

// Runs the qes binary with `args` (stderr merged into output).
struct CliResult {
  int status;  // exit status, or 128 + signal
  std::string output;
};
CliResult run_cli(const std::string& args);

// A fresh folder under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

}  // namespace qes::test

#define QES_REQUIRE_SHARED_DATA(var)                                                              \
  const std::string var = ::qes::test::shared_data();                                           \
  if (var.empty()) GTEST_SKIP() << "shared test data not found (set QES_SHARED_DATA to ../shared/data)"
