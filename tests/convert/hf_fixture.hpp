#pragma once
// Builds tiny Hugging Face model folders in a temporary directory: config.json,
// model.safetensors (written here byte by byte, so the reader is tested against
// the format, not against itself) and a byte-level BPE tokenizer.json.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace qes::test {

// A fresh folder under the temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  std::filesystem::path operator/(const std::string& name) const { return dir_ / name; }
  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

struct StTensor {
  std::string name;
  std::string dtype;  // F32, F16, BF16, I64, ...
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

// The value every fixture weight has at (tensor index k, element i): exact in F16 and BF16.
float fixture_value(int k, int64_t i);

StTensor make_float_tensor(const std::string& name, const std::string& dtype, std::vector<int64_t> shape, int k);

// A file's bytes from its header text and data: u64 little-endian length, header, data.
std::vector<uint8_t> frame_safetensors(const std::string& header, const std::vector<uint8_t>& data = {});
// The file's bytes: u64 header length, JSON header (tensors in order), data.
std::vector<uint8_t> safetensors_bytes(const std::vector<StTensor>& tensors);
void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);
void write_text(const std::filesystem::path& path, const std::string& text);

struct TinyShape {
  std::string arch = "qwen2";
  int vocab = 262;  // 256 bytes + 3 merges + 3 specials
  int hidden = 64, ffn = 96, layers = 2, heads = 4, kv_heads = 2;
  bool tied = true;
};

// The Hugging Face names, shapes and dtypes of a model of `shape` (dtypes vary on purpose).
std::vector<StTensor> tiny_model_tensors(const TinyShape& shape);
std::string tiny_config_json(const TinyShape& shape);
// A byte-level BPE over GPT-2's byte alphabet with merges for "he", "ll", "hell" and the
// ChatML specials <|endoftext|> <|im_start|> <|im_end|>, Qwen2's pre-tokenizer.
std::string tiny_tokenizer_json();

// Writes a whole folder: config.json, model.safetensors, tokenizer.json.
void write_tiny_model(const std::filesystem::path& dir, const TinyShape& shape);

struct CliResult {
  int status;
  std::string output;
};
CliResult run_cli(const std::string& args);

}  // namespace qes::test

namespace qes::test {
inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}
}  // namespace qes::test
