#pragma once
// Model quantization (`qes quantize`) and random-weight models with the shapes
// of real ones (`qes quantize --random-like`).
//
// Which tensors are quantized (choose_tensor_type):
//  - tensors with fewer than 2 dimensions (norms, biases) are stored as F32;
//  - with a float target (f32/f16/bf16: a plain conversion, e.g. of a llama2.c
//    checkpoint) every matrix gets that type; the rules below are for block types;
//  - a matrix whose row length is not a multiple of 32 keeps its float type
//    (stories260K's ffn_down, 172 columns), as llama.cpp does;
//  - the output projection (output.weight, or token_embd.weight when the
//    embedding is tied) gets Q8_0 when the target is Q4_0/Q4_1: llama.cpp gives
//    it Q6_K there, a k-quant qes does not implement, so the nearest supported
//    higher-precision type stands in. `pure` disables this (llama.cpp's --pure);
//  - every other matrix, token_embd.weight included, gets the target type
//    (llama.cpp's default for q4_0/q4_1/q8_0).
// Input tensors may be F32/F16/BF16; quantized input is accepted only for a
// float target (dequantized) or when it already has the target type (copied).
// Blocks come from quantize_row, bit-identical to ggml's reference quantizers.
#include <cstdint>
#include <string>
#include <vector>

#include "qes/model_file.hpp"
#include "qes/quant.hpp"

namespace qes {

struct QuantizeOptions {
  DType type = DType::Q4_0;  // Q4_0, Q4_1, Q8_0, or F32 / F16 / BF16 (conversion)
  bool pure = false;         // every 2-D matrix in `type`, output projection included
};

struct TensorDecision {
  std::string name;
  uint32_t from = 0;  // ggml type id
  DType to = DType::F32;
  std::string reason;
};

// llama.cpp's general.file_type (llama_ftype) for a model whose matrices are `t`.
uint32_t llama_file_type(DType t);

// The type one tensor gets; `tied_output` says token_embd.weight doubles as the output projection.
TensorDecision choose_tensor_type(const TensorView& t, const QuantizeOptions& options, bool tied_output);

// Quantizes (or converts) `in` into a new GGUF at `out_path` (temporary name +
// rename), setting general.file_type (and general.quantization_version for block
// types). Returns what happened to each tensor. Throws FormatError on unsupported
// input tensor types and on re-quantization between block types.
std::vector<TensorDecision> quantize_model(const ModelFile& in, const std::string& out_path, const QuantizeOptions& options);

// ---------------------------------------------------------------- random-like models

struct ModelShape {
  std::string name;  // "qwen2.5-0.5b"
  std::string arch;  // "qwen2", "llama"
  uint32_t n_layer, n_embd, n_ff, n_head, n_head_kv, n_vocab, n_ctx;
  bool tied_embeddings, qkv_bias;
  float rope_theta, rms_eps;
  uint32_t head_dim = 0;  // 0: n_embd / n_head
};

// general.architecture / name / file_type and the <arch>.* hyperparameters
// llama.cpp reads (block_count, context_length, embedding_length, head counts,
// rope base, rms eps; key/value_length when head_dim is not n_embd / n_head;
// llama's rope.dimension_count and vocab_size). One writer for every producer
// of model files (random-like models, Hugging Face conversion).
void add_architecture_metadata(gguf::Metadata& m, const ModelShape& s, const std::string& name, DType file_type);

const std::vector<ModelShape>& known_model_shapes();
const ModelShape& find_model_shape(const std::string& name);  // throws listing the known names

struct RandomModelOptions {
  QuantizeOptions quant;
  uint64_t seed = 0;
  // Optional Hugging Face tokenizer.json of the model (byte-level BPE): when
  // given, its vocabulary and merges become the tokenizer.ggml.* metadata.
  std::string tokenizer_json;
};

// tokenizer.ggml.* (model "gpt2", pre-tokenizer `pre`, tokens, token types, merges) from a
// Hugging Face byte-level BPE tokenizer.json, padded to `n_vocab` tokens with "[PAD<id>]" as
// llama.cpp's converter does. For arch "qwen2" also the special ids (<|endoftext|> begins and
// pads, <|im_end|> ends, looked up by text) and add_bos_token = false. Throws FormatError
// naming the file on malformed input or a token id outside n_vocab.
void add_hf_bpe_tokenizer(gguf::Metadata& meta, const std::string& tokenizer_json, uint32_t n_vocab,
                          const std::string& arch, const std::string& pre);

// Writes a model with exactly the tensor names, shapes and metadata of `shape`
// and random weights, generated and quantized row by row (never the whole float
// model in memory). Same seed -> same file.
std::vector<TensorDecision> write_random_model(const ModelShape& shape, const std::string& out_path,
                                               const RandomModelOptions& options);

}  // namespace qes
