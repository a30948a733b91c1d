// `qes convert --hf DIR`: a Hugging Face qwen2/llama folder into one GGUF file.
//
// Tensors are produced row by row from the mapped safetensors files while the
// GGUF writer streams them out, so converting a model needs no more memory than
// one chunk of rows, whatever its size.
#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "convert_internal.hpp"
#include "qes/quantize_model.hpp"

namespace qes::convert {
namespace {

using gguf::FormatError;
namespace fs = std::filesystem;

// The safetensors files of a folder: model.safetensors, or the shards that
// model.safetensors.index.json names.
std::vector<SafetensorsFile> open_weights(const fs::path& dir) {
  const fs::path single = dir / "model.safetensors", index = dir / "model.safetensors.index.json";
  std::vector<SafetensorsFile> files;
  if (fs::exists(single)) {
    files.push_back(SafetensorsFile::open(single.string()));
    return files;
  }
  if (!fs::exists(index))
    throw FormatError(dir.string() + ": no model.safetensors (nor model.safetensors.index.json) in the folder");
  std::ifstream in(index);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(index.string() + ": not valid JSON: " + e.what());
  }
  if (!j.contains("weight_map") || !j["weight_map"].is_object())
    throw FormatError(index.string() + ": \"weight_map\" (tensor -> file) is missing");
  std::set<std::string> shards;
  for (const auto& [name, shard] : j["weight_map"].items()) {
    if (!shard.is_string()) throw FormatError(index.string() + ": weight_map entry '" + name + "' is not a file name");
    const std::string s = shard.get<std::string>();
    if (s.find('/') != std::string::npos || s == ".." || s.empty())
      throw FormatError(index.string() + ": weight_map entry '" + name + "' names '" + s + "', not a file of the folder");
    shards.insert(s);
  }
  for (const auto& s : shards) files.push_back(SafetensorsFile::open((dir / s).string()));
  return files;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// One GGUF tensor to write: where it comes from and the PyTorch shape it must have.
struct Planned {
  std::string gguf_name;
  const SafetensorsTensor* source = nullptr;
  std::vector<int64_t> hf_shape;
  int64_t permute_head_dim = 0;  // llama Q/K: rows permuted within heads of this size
};

std::vector<Planned> plan_tensors(const HfModelConfig& c, const std::map<std::string, const SafetensorsTensor*>& by_gguf_name,
                                  bool& write_output) {
  const int64_t e = c.hidden_size, ff = c.intermediate_size, v = c.vocab_size;
  const int64_t q = int64_t{c.n_heads} * c.head_dim, kv = int64_t{c.n_kv_heads} * c.head_dim;
  const bool llama = c.arch == "llama";
  std::vector<Planned> plan;
  auto want = [&](const std::string& name, std::vector<int64_t> shape, bool required, int64_t permute = 0) {
    auto it = by_gguf_name.find(name);
    if (it == by_gguf_name.end()) {
      if (required) throw FormatError("the model has no tensor for '" + name + "' (expected shape " + shape_text(shape) + ")");
      return;
    }
    plan.push_back({name, it->second, std::move(shape), permute});
  };
  // llama.cpp's order: token_embd, output_norm, output, then the blocks.
  want("token_embd.weight", {v, e}, true);
  want("output_norm.weight", {e}, true);
  // A tied model may still carry lm_head.weight (a copy): the GGUF leaves it out, as llama.cpp does.
  write_output = !c.tied_embeddings && by_gguf_name.count("output.weight");
  if (write_output) want("output.weight", {v, e}, true);
  for (uint32_t i = 0; i < c.n_layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    want(b + "attn_norm.weight", {e}, true);
    want(b + "attn_q.weight", {q, e}, true, llama ? c.head_dim : 0);
    want(b + "attn_q.bias", {q}, c.arch == "qwen2", llama ? c.head_dim : 0);
    want(b + "attn_k.weight", {kv, e}, true, llama ? c.head_dim : 0);
    want(b + "attn_k.bias", {kv}, c.arch == "qwen2", llama ? c.head_dim : 0);
    want(b + "attn_v.weight", {kv, e}, true);
    want(b + "attn_v.bias", {kv}, c.arch == "qwen2");
    want(b + "attn_output.weight", {e, q}, true);
    want(b + "attn_output.bias", {e}, false);
    want(b + "ffn_norm.weight", {e}, true);
    want(b + "ffn_gate.weight", {ff, e}, true);
    want(b + "ffn_up.weight", {ff, e}, true);
    want(b + "ffn_down.weight", {e, ff}, true);
  }
  return plan;
}

void set_model_metadata(gguf::Metadata& m, const HfModelConfig& c, const std::string& name, DType type) {
  ModelShape shape{name, c.arch, c.n_layers, c.hidden_size, c.intermediate_size, c.n_heads, c.n_kv_heads,
                   c.vocab_size, c.context_length, c.tied_embeddings, c.arch == "qwen2", c.rope_theta, c.rms_eps,
                   c.head_dim};
  add_architecture_metadata(m, shape, name, type);
}

}  // namespace

HfConvertResult convert_hf(const fs::path& dir, const std::string& out_path, const HfConvertOptions& options) {
  if (options.type != DType::F32 && options.type != DType::F16 && options.type != DType::BF16)
    throw std::invalid_argument("convert: the output type must be f32, f16 or bf16 (quantize the result with qes quantize)");
  if (!fs::is_directory(dir)) throw FormatError(dir.string() + ": not a folder (--hf wants a Hugging Face model folder)");
  const HfModelConfig config = read_hf_config(dir / "config.json");
  const std::vector<SafetensorsFile> files = open_weights(dir);

  // Every stored tensor must be a weight of the model: an unknown name means an
  // architecture variant the runtime would silently ignore.
  std::map<std::string, const SafetensorsTensor*> by_gguf_name;
  for (const auto& f : files) {
    for (const auto& t : f.tensors()) {
      if (t.name.size() >= 29 && t.name.ends_with("self_attn.rotary_emb.inv_freq")) continue;  // recomputed
      const std::string g = gguf_tensor_name(t.name);
      if (g.empty()) throw FormatError(t.file + ": tensor '" + t.name + "' is not a " + config.arch + " weight qes knows");
      if (!by_gguf_name.emplace(g, &t).second) throw FormatError(t.file + ": tensor '" + t.name + "' is stored twice");
    }
  }
  bool write_output = false;
  std::vector<Planned> plan = plan_tensors(config, by_gguf_name, write_output);
  if (plan.size() + (config.tied_embeddings && by_gguf_name.count("output.weight") ? 1 : 0) != by_gguf_name.size()) {
    for (const auto& [g, t] : by_gguf_name) {
      const bool planned = std::any_of(plan.begin(), plan.end(), [&](const Planned& p) { return p.gguf_name == g; });
      if (!planned && !(g == "output.weight" && config.tied_embeddings))
        throw FormatError(t->file + ": tensor '" + t->name + "' does not belong to a model of " + std::to_string(config.n_layers) +
                          " layers as config.json describes");
    }
  }

  HfConvertResult result;
  result.arch = config.arch;
  gguf::Metadata meta(out_path);
  set_model_metadata(meta, config, options.name.empty() ? fs::absolute(dir).lexically_normal().filename().string() : options.name,
                     options.type);
  if (options.tokenizer) {
    result.pre = add_tokenizer_metadata(meta, dir, config, options.pre);
    if (fs::exists(dir / "tokenizer_check.json")) result.tokenizer_checked = verify_tokenizer_check(meta, dir / "tokenizer_check.json");
  } else {
    meta.set("tokenizer.ggml.model", "none");  // llama.cpp needs the key; "none" = weights only
  }

  std::vector<gguf::OutTensor> out;
  for (const Planned& p : plan) {
    const SafetensorsTensor& t = *p.source;
    if (t.shape != p.hf_shape)
      throw FormatError(t.file + ": tensor '" + t.name + "' has shape " + shape_text(t.shape) + ", config.json implies " +
                        shape_text(p.hf_shape));
    if (!t.is_float())
      throw FormatError(t.file + ": tensor '" + t.name + "' has dtype " + t.dtype + "; qes converts F32, F16 and BF16 tensors only");
    const int64_t cols = t.shape.size() == 2 ? t.shape[1] : t.shape[0];
    const int64_t rows = t.shape.size() == 2 ? t.shape[0] : 1;
    const DType to = t.shape.size() == 2 ? options.type : DType::F32;
    gguf::OutTensor o;
    o.name = p.gguf_name;
    o.type = static_cast<uint32_t>(to);
    o.dims = t.shape.size() == 2 ? std::vector<int64_t>{cols, rows} : std::vector<int64_t>{cols};
    const SafetensorsTensor* src = &t;
    const int64_t head_dim = p.permute_head_dim;
    o.produce = [src, rows, cols, to, head_dim](const gguf::EmitBytes& emit) {
      std::vector<float> row(static_cast<size_t>(cols)), tmp;
      std::vector<uint8_t> bytes(row_bytes(to, cols));
      for (int64_t r = 0; r < rows; ++r) {
        if (head_dim > 0 && rows > 1) {
          src->read_floats(llama_rope_permuted_row(r, head_dim) * cols, cols, row.data());
        } else if (head_dim > 0) {  // a bias: its elements are the rows of the matrix
          tmp.resize(static_cast<size_t>(cols));
          src->read_floats(0, cols, tmp.data());
          for (int64_t k = 0; k < cols; ++k) row[k] = tmp[llama_rope_permuted_row(k, head_dim)];
        } else {
          src->read_floats(r * cols, cols, row.data());
        }
        quantize_row(to, row.data(), bytes.data(), cols);
        emit(bytes.data(), bytes.size());
      }
    };
    out.push_back(std::move(o));
    result.n_parameters += static_cast<uint64_t>(t.n_elements());
  }
  result.n_tensors = out.size();
  gguf::write_gguf(out_path, meta, out);
  return result;
}

}  // namespace qes::convert
