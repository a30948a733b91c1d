#pragma once
// Where the third-party tokenizer oracles are (DESIGN.md §7); tests skip when they are absent.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qes::test {

inline std::filesystem::path shared_data_dir() {
  if (const char* env = std::getenv("QES_SHARED_DATA"); env != nullptr && *env != '\0') return env;
#ifdef QES_SHARED_DATA
  return QES_SHARED_DATA;
#else
  return {};
#endif
}

// The path of a shared data file, or "" when it is missing (the caller skips).
inline std::filesystem::path shared_file(const std::string& relative) {
  const auto dir = shared_data_dir();
  if (dir.empty()) return {};
  const auto path = dir / relative;
  return std::filesystem::exists(path) ? path : std::filesystem::path{};
}

#define QES_REQUIRE_SHARED_FILE(var, relative)                                               \
  const std::filesystem::path var = ::qes::test::shared_file(relative);                     \
  if (var.empty()) {                                                                         \
    GTEST_SKIP() << "shared test data " << (relative) << " not found (set QES_SHARED_DATA to " \
                 << "the folder holding it; looked in '"                                      \
                 << ::qes::test::shared_data_dir().string() << "')";                         \
  }

inline std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// llama.cpp's test-tokenizer-0 format: .inp holds texts, each followed by a line
// "__ggml_vocab_test__"; .out holds one line of space-separated token ids per text.
struct VectorCase {
  std::string text;
  std::vector<int32_t> ids;
};

inline std::vector<VectorCase> read_vectors(const std::filesystem::path& inp) {
  std::string text = read_all(inp);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<VectorCase> cases;
  size_t start = 0;
  for (size_t pos; (pos = text.find(sep, start)) != std::string::npos; start = pos + sep.size()) {
    cases.push_back({text.substr(start, pos - start), {}});
  }
  std::istringstream out(read_all(inp.string().substr(0, inp.string().size() - 4) + ".out"));
  std::string line;
  for (auto& c : cases) {
    if (!std::getline(out, line)) throw std::runtime_error(inp.string() + ": fewer .out lines than texts");
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) c.ids.push_back(id);
  }
  return cases;
}

}  // namespace qes::test
