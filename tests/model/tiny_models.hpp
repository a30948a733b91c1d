#pragma once
// Small model shapes for tests: a llama with GQA and a ffn width that is not a
// multiple of 32 (its down projection stays f32, like stories260K's), and a
// qwen2 with QKV bias and half-split RoPE.
#include "qes/model.hpp"

namespace qes::testing {

inline ModelConfig tiny_llama_config() {
  ModelConfig c;
  c.arch = Arch::Llama;
  c.dim = 64;
  c.n_layers = 2;
  c.n_heads = 8;
  c.n_kv_heads = 4;
  c.head_dim = 8;
  c.ffn_dim = 172;
  c.vocab_size = 96;
  c.context_length = 256;
  c.rope_dim = 8;
  c.rope_base = 10000.0f;
  c.rms_eps = 1e-5f;
  c.rope_style = RopeStyle::Interleaved;
  c.bos_id = 1;
  c.eos_id = 2;
  return c;
}

inline ModelConfig tiny_qwen2_config() {
  ModelConfig c;
  c.arch = Arch::Qwen2;
  c.dim = 64;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 16;
  c.ffn_dim = 128;
  c.vocab_size = 160;
  c.context_length = 256;
  c.rope_dim = 16;
  c.rope_base = 1000000.0f;
  c.rms_eps = 1e-6f;
  c.rope_style = RopeStyle::HalfSplit;
  c.qkv_bias = true;
  c.bos_id = 150;
  c.eos_id = 151;
  return c;
}

}  // namespace qes::testing
