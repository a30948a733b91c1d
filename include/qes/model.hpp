#pragma once
// A decoder-only transformer (llama and qwen2 families) whose weights are
// quantized matrices, usually views into a memory-mapped GGUF file.
//
// The model is the weights and the shape; it holds no per-sequence state. The
// batched forward pass, the KV cache and generation live in generate.hpp.
#include "qes/quant.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qes {

enum class Arch { Llama, Qwen2 };

// How RoPE pairs the dimensions of a head. llama.cpp's GGUF llama models rotate
// adjacent pairs (2i, 2i+1) because its converter permuted Q/K; qwen2 (and HF
// checkpoints in general) rotate (i, i + rot/2), the "neox" ordering.
enum class RopeStyle { Interleaved, HalfSplit };

struct ModelConfig {
  Arch arch = Arch::Llama;
  int dim = 0;             // embedding_length
  int n_layers = 0;        // block_count
  int n_heads = 0;         // attention.head_count
  int n_kv_heads = 0;      // attention.head_count_kv (GQA)
  int head_dim = 0;        // dim / n_heads
  int ffn_dim = 0;         // feed_forward_length
  int vocab_size = 0;
  int context_length = 0;  // the longest position the model was trained for
  int rope_dim = 0;        // rope.dimension_count: leading dims of a head that rotate
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  RopeStyle rope_style = RopeStyle::Interleaved;
  bool qkv_bias = false;   // qwen2
  int32_t bos_id = 1;
  int32_t eos_id = 2;
  std::vector<int32_t> extra_eos_ids;  // e.g. <|im_end|> for chat models

  int q_dim() const { return n_heads * head_dim; }
  int kv_dim() const { return n_kv_heads * head_dim; }
  // Throws std::runtime_error naming `source` when a field is missing or inconsistent.
  void validate(const std::string& source) const;
};

struct LayerWeights {
  std::vector<float> attn_norm;       // dim
  QuantMatrix wq, wk, wv, wo;         // q_dim x dim, kv_dim x dim, kv_dim x dim, dim x q_dim
  std::vector<float> bq, bk, bv;      // qwen2 only (empty otherwise)
  std::vector<float> ffn_norm;        // dim
  QuantMatrix w_gate, w_up, w_down;   // ffn x dim, ffn x dim, dim x ffn
};

struct ModelWeights {
  QuantMatrix token_embd;             // vocab x dim (rows are looked up, any type)
  std::vector<float> output_norm;     // dim
  QuantMatrix output;                 // vocab x dim; the same view as token_embd when tied
  std::vector<LayerWeights> layers;
};

struct Model {
  ModelConfig config;
  ModelWeights weights;
  std::string source;                 // file it came from, for messages
  std::shared_ptr<void> storage;      // keeps the mapping / buffers the views point into alive

  // Bytes of weights one token's forward pass reads (every matrix once; the
  // embedding row is negligible). The numerator of the bandwidth bound.
  size_t weight_bytes_per_token() const;
  // Bytes of all weight matrices (token embedding included, tied output counted once).
  size_t weight_bytes() const;
};

class ModelFile;

// A model over a loaded file (GGUF or llama2.c, see model_file.hpp): the shape
// from the llama.* / qwen2.* metadata, the weights as views of its tensors (the
// model shares the file's storage). Throws std::runtime_error naming the file
// and the problem (missing tensor, wrong shape, unsupported architecture).
Model build_model(const ModelFile& file);

// Loads a GGUF file or a llama2.c checkpoint (with its tokenizer file, needed
// for the vocabulary size: empty = llama2.c's defaults beside the model).
Model load_model(const std::string& path, const std::string& tokenizer_path = "");

// A model with the given shape and random weights in `type` (norms near 1,
// small biases), deterministic in `seed`. For tests and speed runs.
Model make_random_model(const ModelConfig& config, DType type, uint64_t seed, bool tied_output = true);

}  // namespace qes
