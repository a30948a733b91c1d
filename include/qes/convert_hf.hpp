#pragma once
// Hugging Face model folders (config.json, model.safetensors or sharded
// model-*.safetensors with model.safetensors.index.json, tokenizer.json) into GGUF,
// for the architectures qes runs: qwen2 and llama.
//
// What `qes convert --hf DIR --out M.gguf` writes is what llama.cpp's
// convert_hf_to_gguf.py writes for these models:
//  - tensors renamed to ggml's names (model.embed_tokens.weight -> token_embd.weight,
//    model.layers.N.self_attn.q_proj.weight -> blk.N.attn_q.weight, ...), dims
//    reversed (ggml's dims[0] is the row length), 1-D tensors in F32, matrices in
//    the chosen float type; lm_head.weight becomes output.weight unless the
//    embedding is tied;
//  - for llama only, the rows of Q and K (weights and biases) permuted from
//    Hugging Face's rotate-half rope layout into ggml's interleaved-pair layout
//    (llama.cpp runs llama with interleaved rope, qwen2 with NEOX rope, which is
//    Hugging Face's layout, so qwen2 is not permuted);
//  - <arch>.* hyperparameters from config.json, tokenizer.ggml.* from
//    tokenizer.json (byte-level BPE: model gpt2, the pre-tokenizer detected by
//    comparing encodings, tokens, types, merges, special ids) and a ChatML chat
//    template when the vocabulary has <|im_start|> and tokenizer_config.json
//    gives none.
// When DIR holds tokenizer_check.json (written by tools/tiny_model/train.py: a list
// of {"text", "ids"} that the Hugging Face tokenizer produced), the GGUF's own
// vocabulary must encode every text to exactly those ids, or the conversion fails.
//
// Errors name the file and the problem (FormatError for malformed files).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "qes/gguf.hpp"
#include "qes/quant.hpp"

namespace qes::convert {

// ---------------------------------------------------------------- safetensors

// One tensor of a .safetensors file: shape in PyTorch order (shape.back() is the
// row length), raw little-endian bytes inside the mapped file.
struct SafetensorsTensor {
  std::string name;
  std::string dtype;  // safetensors' name: "F32", "F16", "BF16", "I64", ...
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  uint64_t bytes = 0;
  std::string file;

  int64_t n_elements() const;
  // Element i as float; only for F32, F16 and BF16 (check with is_float()).
  bool is_float() const { return dtype == "F32" || dtype == "F16" || dtype == "BF16"; }
  float element(int64_t i) const;
  // Elements [first, first + n) as floats; throws FormatError naming the file and
  // tensor for dtypes other than F32, F16, BF16.
  void read_floats(int64_t first, int64_t n, float* out) const;
};

// A .safetensors file mapped into memory and validated: 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": ...},
// then the data. Every tensor's dtype must be a safetensors dtype, its byte range
// must lie inside the data and match shape x element size.
class SafetensorsFile {
 public:
  static SafetensorsFile open(const std::string& path);

  const std::string& path() const { return path_; }
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }  // file order of the header
  const SafetensorsTensor* find(std::string_view name) const;

 private:
  std::string path_;
  std::shared_ptr<void> mapping_;
  std::vector<SafetensorsTensor> tensors_;
};

// The bytes of one element of a safetensors dtype, 0 when the name is not one.
size_t safetensors_dtype_size(std::string_view dtype);

// ---------------------------------------------------------------- names

// ggml's name for a Hugging Face tensor name of a qwen2/llama model; "" when the
// name is not one of the model's weights.
std::string gguf_tensor_name(std::string_view hf_name);

// llama.cpp's permutation of Q/K rows for llama (rotate-half -> interleaved pairs):
// the source row of output row r, for a tensor of n_heads heads of head_dim rows each.
int64_t llama_rope_permuted_row(int64_t r, int64_t head_dim);

// ---------------------------------------------------------------- conversion

struct HfConvertOptions {
  DType type = DType::F32;     // matrices: F32, F16 or BF16 (1-D tensors always F32)
  std::string name;            // general.name; empty: the folder's name
  bool tokenizer = true;       // false: no tokenizer.ggml.* (weights-only folders)
  std::string pre;             // tokenizer.ggml.pre to write; empty: detected
};

struct HfConvertResult {
  std::string arch;
  size_t n_tensors = 0;
  uint64_t n_parameters = 0;
  std::string pre;                 // the pre-tokenizer written
  size_t tokenizer_checked = 0;    // texts of tokenizer_check.json verified (0 if none)
};

HfConvertResult convert_hf(const std::filesystem::path& dir, const std::string& out_path,
                           const HfConvertOptions& options = {});

}  // namespace qes::convert
