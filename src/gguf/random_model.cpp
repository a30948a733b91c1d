// Random-weight models with the exact tensor shapes and metadata of real ones,
// for speed runs (real weights cannot be downloaded here). Weights are made and
// quantized one row at a time, so memory stays at a few MiB whatever the size.
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_set>

#include "qes/gguf.hpp"
#include "qes/quantize_model.hpp"
#include "row_emitter.hpp"

namespace qes {
namespace {

// Published configurations (config.json of each model on Hugging Face).
const std::vector<ModelShape> kShapes = {
    // name           arch     layers embd   ff    heads kv  vocab   ctx    tied  qkv_bias theta    eps
    {"qwen2.5-0.5b", "qwen2", 24, 896, 4864, 14, 2, 151936, 32768, true, true, 1000000.0f, 1e-6f},
    {"qwen2.5-1.5b", "qwen2", 28, 1536, 8960, 12, 2, 151936, 32768, true, true, 1000000.0f, 1e-6f},
    {"qwen2.5-3b", "qwen2", 36, 2048, 11008, 16, 2, 151936, 32768, true, true, 1000000.0f, 1e-6f},
    {"qwen2.5-7b", "qwen2", 28, 3584, 18944, 28, 4, 152064, 32768, false, true, 1000000.0f, 1e-6f},
    {"tinyllama-1.1b", "llama", 22, 2048, 5632, 32, 4, 32000, 2048, false, false, 10000.0f, 1e-5f},
    {"smollm2-135m", "llama", 30, 576, 1536, 9, 3, 49152, 8192, true, false, 100000.0f, 1e-5f},
    {"llama-3.2-1b", "llama", 16, 2048, 8192, 32, 8, 128256, 131072, true, false, 500000.0f, 1e-5f},
};

// splitmix64: a counter-based hash, so row r of tensor k is the same numbers
// whatever the thread count or the order rows are made in.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Uniform values in [-scale, scale) for one row.
void random_row(uint64_t seed, uint64_t tensor, int64_t row, float scale, float* out, int64_t n) {
  uint64_t state = mix(mix(seed ^ mix(tensor + 1)) ^ static_cast<uint64_t>(row));
  for (int64_t i = 0; i < n; ++i) {
    state = mix(state);
    float u = static_cast<float>(state >> 40) * (1.0f / 16777216.0f);  // 24 bits in [0, 1)
    out[i] = (2.0f * u - 1.0f) * scale;
  }
}

struct PlannedTensor {
  std::string name;
  std::vector<int64_t> dims;
  enum Kind { Matrix, Norm, Bias } kind;
};

std::vector<PlannedTensor> plan_tensors(const ModelShape& s) {
  const int64_t e = s.n_embd, kv = static_cast<int64_t>(s.n_embd / s.n_head) * s.n_head_kv, ff = s.n_ff;
  std::vector<PlannedTensor> t;
  // llama.cpp's order: token_embd, output_norm, output, then the blocks.
  t.push_back({"token_embd.weight", {e, s.n_vocab}, PlannedTensor::Matrix});
  t.push_back({"output_norm.weight", {e}, PlannedTensor::Norm});
  if (!s.tied_embeddings) t.push_back({"output.weight", {e, s.n_vocab}, PlannedTensor::Matrix});
  for (uint32_t i = 0; i < s.n_layer; ++i) {
    std::string b = "blk." + std::to_string(i) + ".";
    t.push_back({b + "attn_norm.weight", {e}, PlannedTensor::Norm});
    t.push_back({b + "attn_q.weight", {e, e}, PlannedTensor::Matrix});
    if (s.qkv_bias) t.push_back({b + "attn_q.bias", {e}, PlannedTensor::Bias});
    t.push_back({b + "attn_k.weight", {e, kv}, PlannedTensor::Matrix});
    if (s.qkv_bias) t.push_back({b + "attn_k.bias", {kv}, PlannedTensor::Bias});
    t.push_back({b + "attn_v.weight", {e, kv}, PlannedTensor::Matrix});
    if (s.qkv_bias) t.push_back({b + "attn_v.bias", {kv}, PlannedTensor::Bias});
    t.push_back({b + "attn_output.weight", {e, e}, PlannedTensor::Matrix});
    t.push_back({b + "ffn_norm.weight", {e}, PlannedTensor::Norm});
    t.push_back({b + "ffn_gate.weight", {e, ff}, PlannedTensor::Matrix});
    t.push_back({b + "ffn_up.weight", {e, ff}, PlannedTensor::Matrix});
    t.push_back({b + "ffn_down.weight", {ff, e}, PlannedTensor::Matrix});
  }
  return t;
}

}  // namespace

// tokenizer.ggml.* from a Hugging Face byte-level BPE tokenizer.json, padded to
// the model's vocabulary size with "[PAD<id>]" entries as llama.cpp's converter does.
void add_hf_bpe_tokenizer(gguf::Metadata& m, const std::string& path, uint32_t n_vocab, const std::string& arch,
                          const std::string& pre) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open tokenizer.json");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const std::exception& ex) {
    throw gguf::FormatError(path + ": not valid JSON: " + ex.what());
  }
  std::vector<std::string> tokens(n_vocab);
  try {
    const auto& model = j.at("model");
    std::vector<int32_t> types(n_vocab, 4);  // USER_DEFINED for padding
    std::vector<bool> seen(n_vocab, false);
    auto put = [&](const std::string& text, int64_t id, int32_t type) {
      if (id < 0 || id >= static_cast<int64_t>(n_vocab))
        throw gguf::FormatError(path + ": token id " + std::to_string(id) + " is outside the model's vocabulary of " +
                                std::to_string(n_vocab) + " tokens");
      tokens[id] = text;
      types[id] = type;
      seen[id] = true;
    };
    for (const auto& [text, id] : model.at("vocab").items()) put(text, id.get<int64_t>(), 1);
    if (j.contains("added_tokens"))
      for (const auto& a : j.at("added_tokens")) put(a.at("content"), a.at("id").get<int64_t>(), a.value("special", false) ? 3 : 4);
    for (uint32_t i = 0; i < n_vocab; ++i)
      if (!seen[i]) tokens[i] = "[PAD" + std::to_string(i) + "]";
    std::vector<std::string> merges;
    for (const auto& mg : model.at("merges")) {
      if (mg.is_string()) merges.push_back(mg.get<std::string>());
      else merges.push_back(mg.at(0).get<std::string>() + " " + mg.at(1).get<std::string>());
    }
    m.set("tokenizer.ggml.model", "gpt2");
    m.set("tokenizer.ggml.pre", pre);
    m.set("tokenizer.ggml.tokens", gguf::make_string_array(tokens));
    m.set("tokenizer.ggml.token_type", gguf::make_i32_array(types));
    m.set("tokenizer.ggml.merges", gguf::make_string_array(merges));
  } catch (const nlohmann::json::exception& ex) {
    throw gguf::FormatError(path + ": unexpected tokenizer.json layout: " + ex.what());
  }
  if (arch == "qwen2") {
    // Qwen2.5(-Instruct): <|endoftext|> pads and begins, <|im_end|> ends (151643 and 151645
    // in Qwen's own vocabulary; looked up by text so that smaller vocabularies work too).
    auto id_of = [&](std::string_view text) -> int64_t {
      for (uint32_t i = 0; i < n_vocab; ++i)
        if (tokens[i] == text) return i;
      return -1;
    };
    const int64_t end_of_text = id_of("<|endoftext|>"), im_end = id_of("<|im_end|>");
    if (im_end >= 0 || end_of_text >= 0)
      m.set("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(im_end >= 0 ? im_end : end_of_text));
    if (end_of_text >= 0) {
      m.set("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(end_of_text));
      m.set("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(end_of_text));
    }
    m.set("tokenizer.ggml.add_bos_token", false);
  }
}

const std::vector<ModelShape>& known_model_shapes() { return kShapes; }

const ModelShape& find_model_shape(const std::string& name) {
  for (const auto& s : kShapes)
    if (s.name == name) return s;
  std::string known;
  for (const auto& s : kShapes) known += (known.empty() ? "" : ", ") + s.name;
  throw std::invalid_argument("unknown model shape '" + name + "' (known: " + known + ")");
}

void add_architecture_metadata(gguf::Metadata& m, const ModelShape& s, const std::string& name, DType file_type) {
  const std::string& a = s.arch;
  const uint32_t head_dim = s.head_dim ? s.head_dim : s.n_embd / s.n_head;
  m.set("general.architecture", a);
  m.set("general.name", name);
  m.set(a + ".block_count", s.n_layer);
  m.set(a + ".context_length", s.n_ctx);
  m.set(a + ".embedding_length", s.n_embd);
  m.set(a + ".feed_forward_length", s.n_ff);
  m.set(a + ".attention.head_count", s.n_head);
  m.set(a + ".attention.head_count_kv", s.n_head_kv);
  m.set(a + ".rope.freq_base", s.rope_theta);
  m.set(a + ".attention.layer_norm_rms_epsilon", s.rms_eps);
  if (head_dim * s.n_head != s.n_embd) {
    m.set(a + ".attention.key_length", head_dim);
    m.set(a + ".attention.value_length", head_dim);
  }
  if (a == "llama") {
    m.set(a + ".rope.dimension_count", head_dim);
    m.set(a + ".vocab_size", s.n_vocab);
  }
  m.set("general.file_type", llama_file_type(file_type));
}

std::vector<TensorDecision> write_random_model(const ModelShape& s, const std::string& out_path,
                                               const RandomModelOptions& options) {
  gguf::Metadata m(out_path);
  add_architecture_metadata(m, s, "random-like " + s.name, options.quant.type);
  m.set("general.quantization_version", uint32_t{2});
  if (!options.tokenizer_json.empty())
    add_hf_bpe_tokenizer(m, options.tokenizer_json, s.n_vocab, s.arch, s.arch == "qwen2" ? "qwen2" : "default");
  else
    m.set("tokenizer.ggml.model", "none");  // llama.cpp needs the key; "none" = weights only

  std::vector<TensorDecision> decisions;
  std::vector<gguf::OutTensor> out;
  const auto plan = plan_tensors(s);
  for (size_t k = 0; k < plan.size(); ++k) {
    const PlannedTensor& p = plan[k];
    TensorView view;  // only for the type decision
    view.name = p.name;
    view.type = static_cast<uint32_t>(DType::F32);
    view.dims = p.dims;
    TensorDecision d = choose_tensor_type(view, options.quant, s.tied_embeddings);
    const int64_t cols = p.dims[0];
    const int64_t rows = p.dims.size() > 1 ? p.dims[1] : 1;
    const DType to = d.to;
    const uint64_t seed = options.seed, id = k;
    const auto kind = p.kind;
    // Scale 1/sqrt(cols) keeps activations of a random network bounded.
    const float scale = kind == PlannedTensor::Bias ? 0.02f : 1.0f / std::sqrt(static_cast<float>(cols));
    gguf::OutTensor o{p.name, static_cast<uint32_t>(to), p.dims, nullptr, {}};
    o.produce = [=](const gguf::EmitBytes& emit) {
      // Norms are ones; each other row depends only on (seed, tensor, row), so any thread may make it.
      gguf::emit_rows(to, rows, cols, emit, [&](int64_t r, float* x) {
        if (kind == PlannedTensor::Norm) std::fill(x, x + cols, 1.0f);
        else random_row(seed, id, r, scale, x, cols);
      });
    };
    out.push_back(std::move(o));
    decisions.push_back(std::move(d));
  }
  gguf::write_gguf(out_path, m, out);
  return decisions;
}

}  // namespace qes
