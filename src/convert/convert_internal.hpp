#pragma once
// Pieces of the Hugging Face converter shared by its source files.
#include <cstdint>
#include <filesystem>
#include <string>

#include "qes/convert_hf.hpp"
#include "qes/gguf.hpp"

namespace qes::convert {

// The hyperparameters of config.json that a qwen2/llama GGUF records.
struct HfModelConfig {
  std::string arch;  // "qwen2" or "llama"
  uint32_t vocab_size = 0, hidden_size = 0, intermediate_size = 0, n_layers = 0;
  uint32_t n_heads = 0, n_kv_heads = 0, head_dim = 0, context_length = 0;
  float rms_eps = 1e-6f, rope_theta = 10000.0f;
  bool tied_embeddings = false;
  int64_t bos_token_id = -1, eos_token_id = -1, pad_token_id = -1;  // -1: not given
};

// Reads and checks config.json; throws FormatError naming the file.
HfModelConfig read_hf_config(const std::filesystem::path& config_json);

// tokenizer.ggml.* and tokenizer.chat_template from DIR/tokenizer.json (and
// tokenizer_config.json beside it). Returns the pre-tokenizer name written.
std::string add_tokenizer_metadata(gguf::Metadata& meta, const std::filesystem::path& dir, const HfModelConfig& config,
                                   const std::string& forced_pre);

// Encodes every text of a tokenizer_check.json ([{"text": ..., "ids": [...]}, ...]) with
// the vocabulary in `meta` and compares with the ids; throws naming the first
// mismatch. Returns the number of texts checked.
size_t verify_tokenizer_check(const gguf::Metadata& meta, const std::filesystem::path& check_json);

}  // namespace qes::convert
