// Hugging Face -> ggml tensor names for qwen2 and llama (llama.cpp's gguf-py
// tensor_mapping.py for these two architectures), and llama's Q/K row permutation.
#include <array>
#include <string>

#include "qes/convert_hf.hpp"

namespace qes::convert {

std::string gguf_tensor_name(std::string_view hf) {
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";

  constexpr std::string_view kLayers = "model.layers.";
  if (hf.substr(0, kLayers.size()) != kLayers) return "";
  std::string_view rest = hf.substr(kLayers.size());
  size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
  if (digits == 0 || digits > 6 || digits >= rest.size() || rest[digits] != '.') return "";
  if (digits > 1 && rest[0] == '0') return "";  // "01" is not a layer number Hugging Face writes
  const std::string block = "blk." + std::string(rest.substr(0, digits)) + ".";
  const std::string_view part = rest.substr(digits + 1);

  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kParts = {{
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.o_proj.bias", "attn_output.bias"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
      {"input_layernorm.weight", "attn_norm.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"self_attn.rotary_emb.inv_freq", ""},  // recomputed from rope_theta, never stored in GGUF
  }};
  for (const auto& [from, to] : kParts)
    if (part == from) return to.empty() ? "" : block + std::string(to);
  return "";
}

// Hugging Face keeps each head's rope pairs as (i, i + head_dim/2); ggml's llama
// rope pairs rows (2i, 2i + 1). llama.cpp's converter reorders each head's rows so
// that output row 2i + j is input row j * head_dim/2 + i.
int64_t llama_rope_permuted_row(int64_t r, int64_t head_dim) {
  const int64_t head = r / head_dim, within = r % head_dim;
  const int64_t i = within / 2, j = within % 2;
  return head * head_dim + j * (head_dim / 2) + i;
}

}  // namespace qes::convert
