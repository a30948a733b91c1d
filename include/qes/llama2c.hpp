#pragma once
// llama2.c checkpoints (Karpathy's run.c "v0" legacy format) and their tokenizer.
//
// Model file: a Config of 7 int32 (dim, hidden_dim, n_layers, n_heads,
// n_kv_heads, vocab_size, seq_len; a negative vocab_size means the classifier is
// stored separately), then float32 tensors in this order: token embedding,
// attention norms, wq, wk, wv, wo, ffn norms, w1, w2, w3, final norm, the
// freq_cis tables (unused here), and the classifier when unshared.
// Tokenizer file: int32 max_token_length, then per token: float score, int32
// length, bytes.
//
// The loaded model uses llama.cpp's names, layout and metadata, exactly as
// llama.cpp's convert-llama2c-to-ggml writes them: arch "llama", token_embd /
// output / blk.N.* tensors, llama.* keys and an SPM vocabulary with tokens,
// scores and token types. wq and wk are NOT permuted: llama2.c rotates
// interleaved pairs, which is ggml's normal RoPE mode, and the reference
// conversion stories260K-f32.gguf holds them unchanged.
#include <cstdint>
#include <string>

#include "qes/model_file.hpp"

namespace qes {

struct Llama2cConfig {
  int32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0, seq_len = 0;
  bool shared_classifier = true;
};

struct Llama2cOptions {
  std::string tokenizer_path;  // required
  // llama.context_length to record; 0 = the checkpoint's seq_len. (llama.cpp's
  // converter records its own default of 128 instead.)
  uint32_t context_length = 0;
};

// Reads and validates the header of a llama2.c checkpoint (throws FormatError naming the file).
Llama2cConfig read_llama2c_config(const std::string& model_path);

ModelFile load_llama2c(const std::string& model_path, const Llama2cOptions& options);

}  // namespace qes
