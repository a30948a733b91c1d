// config.json of a Hugging Face qwen2/llama model: the hyperparameters a GGUF records.
#include <fstream>
#include <nlohmann/json.hpp>

#include "convert_internal.hpp"

namespace qes::convert {
namespace {

using gguf::FormatError;
using nlohmann::json;

uint32_t positive_u32(const json& j, const char* key, const std::string& file) {
  if (!j.contains(key)) throw FormatError(file + ": \"" + key + "\" is missing");
  const json& v = j.at(key);
  if (!v.is_number_unsigned() || v.get<uint64_t>() == 0 || v.get<uint64_t>() > 0xFFFFFFFFull)
    throw FormatError(file + ": \"" + key + "\" must be a positive integer, got " + v.dump());
  return static_cast<uint32_t>(v.get<uint64_t>());
}

// A token id: an integer, or a list whose first element is one (llama-3's eos list); -1 if absent.
int64_t token_id(const json& j, const char* key) {
  if (!j.contains(key)) return -1;
  const json& v = j.at(key);
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return v.get<int64_t>();
  if (v.is_array() && !v.empty() && v.at(0).is_number_integer()) return v.at(0).get<int64_t>();
  return -1;
}

// The default rope (no scaling) is all qes implements: refuse any other.
void check_rope(const json& j, const std::string& file, float& theta) {
  if (j.contains("rope_theta") && j.at("rope_theta").is_number()) theta = j.at("rope_theta").get<float>();
  for (const char* key : {"rope_parameters", "rope_scaling"}) {
    if (!j.contains(key) || j.at(key).is_null()) continue;
    const json& r = j.at(key);
    if (!r.is_object()) throw FormatError(file + ": \"" + key + "\" must be an object");
    // transformers 5 keeps rope_theta inside rope_parameters.
    if (r.contains("rope_theta") && r.at("rope_theta").is_number()) theta = r.at("rope_theta").get<float>();
    const std::string type = r.value("rope_type", r.value("type", "default"));
    if (type != "default")
      throw FormatError(file + ": rope scaling '" + type + "' is not supported (qes runs the default rope only)");
  }
  if (!(theta > 0)) throw FormatError(file + ": rope_theta must be positive");
}

}  // namespace

HfModelConfig read_hf_config(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::ifstream in(path);
  if (!in) throw FormatError(file + ": cannot open (a Hugging Face model folder needs config.json)");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw FormatError(file + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw FormatError(file + ": not a JSON object");

  HfModelConfig c;
  std::string type = j.value("model_type", "");
  if (type.empty() && j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty()) {
    const std::string a = j["architectures"][0].get<std::string>();
    if (a == "Qwen2ForCausalLM") type = "qwen2";
    if (a == "LlamaForCausalLM") type = "llama";
  }
  if (type != "qwen2" && type != "llama")
    throw FormatError(file + ": model_type '" + type + "' is not supported (qes converts qwen2 and llama)");
  c.arch = type;
  c.vocab_size = positive_u32(j, "vocab_size", file);
  c.hidden_size = positive_u32(j, "hidden_size", file);
  c.intermediate_size = positive_u32(j, "intermediate_size", file);
  c.n_layers = positive_u32(j, "num_hidden_layers", file);
  c.n_heads = positive_u32(j, "num_attention_heads", file);
  c.n_kv_heads = j.contains("num_key_value_heads") && !j["num_key_value_heads"].is_null()
                     ? positive_u32(j, "num_key_value_heads", file)
                     : c.n_heads;
  c.context_length = j.contains("max_position_embeddings") ? positive_u32(j, "max_position_embeddings", file) : 2048;
  if (j.contains("head_dim") && !j["head_dim"].is_null()) {
    c.head_dim = positive_u32(j, "head_dim", file);
  } else {
    if (c.hidden_size % c.n_heads != 0)
      throw FormatError(file + ": hidden_size " + std::to_string(c.hidden_size) + " is not a multiple of num_attention_heads " +
                        std::to_string(c.n_heads));
    c.head_dim = c.hidden_size / c.n_heads;
  }
  if (c.n_heads % c.n_kv_heads != 0)
    throw FormatError(file + ": num_attention_heads " + std::to_string(c.n_heads) + " is not a multiple of num_key_value_heads " +
                      std::to_string(c.n_kv_heads));
  if (c.head_dim % 2 != 0) throw FormatError(file + ": head dimension " + std::to_string(c.head_dim) + " is odd (rope needs pairs)");
  if (j.contains("rms_norm_eps") && j["rms_norm_eps"].is_number()) c.rms_eps = j["rms_norm_eps"].get<float>();
  check_rope(j, file, c.rope_theta);
  // Both architectures default to untied embeddings in transformers.
  c.tied_embeddings = j.value("tie_word_embeddings", false);
  if (j.value("use_sliding_window", false))
    throw FormatError(file + ": use_sliding_window is true; qes runs full attention only");
  if (j.value("mlp_bias", false)) throw FormatError(file + ": mlp_bias is not supported");
  const std::string act = j.value("hidden_act", "silu");
  if (act != "silu") throw FormatError(file + ": hidden_act '" + act + "' is not supported (qwen2/llama use silu)");
  c.bos_token_id = token_id(j, "bos_token_id");
  c.eos_token_id = token_id(j, "eos_token_id");
  c.pad_token_id = token_id(j, "pad_token_id");
  return c;
}

}  // namespace qes::convert
