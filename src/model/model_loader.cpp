// Builds a Model from a ModelFile (GGUF or llama2.c): the shape from the
// llama.* / qwen2.* metadata, the weights as views of the file's tensors.
#include "qes/gguf.hpp"
#include "qes/model.hpp"
#include "qes/model_file.hpp"

#include <stdexcept>
#include <string>

namespace qes {

namespace {

std::string blk(int l, const char* name) { return "blk." + std::to_string(l) + "." + name; }

[[noreturn]] void fail(const ModelFile& f, const std::string& what) { throw std::runtime_error(f.path + ": " + what); }

// The matrix named `name`, checked to be rows x cols.
QuantMatrix matrix(const ModelFile& f, const std::string& name, int64_t rows, int64_t cols) {
  const TensorView& t = f.tensor(name);
  QuantMatrix m = t.matrix();
  if (m.rows != rows || m.cols != cols)
    fail(f, "tensor '" + name + "' has shape " + std::to_string(m.rows) + " x " + std::to_string(m.cols) +
                ", expected " + std::to_string(rows) + " x " + std::to_string(cols));
  return m;
}

// A vector (norm weight or bias) of n floats, converted from whatever float type it is stored in.
std::vector<float> vector(const ModelFile& f, const std::string& name, int64_t n) {
  const TensorView& t = f.tensor(name);
  if (t.n_elements() != n)
    fail(f, "tensor '" + name + "' has " + std::to_string(t.n_elements()) + " elements, expected " + std::to_string(n));
  QuantMatrix m = t.matrix();
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t r = 0; r < m.rows; r++) dequantize_row(m.type, m.row_ptr(r), out.data() + r * m.cols, m.cols);
  return out;
}

}  // namespace

Model build_model(const ModelFile& file) {
  const gguf::Metadata& md = file.metadata;
  const std::string arch = md.get_string_or("general.architecture", "");
  Model model;
  model.source = file.path;
  ModelConfig& c = model.config;
  if (arch == "llama") {
    c.arch = Arch::Llama;
    c.rope_style = RopeStyle::Interleaved;
    c.rms_eps = 1e-5f;
  } else if (arch == "qwen2") {
    c.arch = Arch::Qwen2;
    c.rope_style = RopeStyle::HalfSplit;
    c.qkv_bias = true;
    c.rms_eps = 1e-6f;
  } else {
    fail(file, "unsupported architecture '" + arch + "' (general.architecture); qes runs llama and qwen2");
  }
  const std::string p = arch + ".";
  c.dim = static_cast<int>(md.get_u32(p + "embedding_length"));
  c.n_layers = static_cast<int>(md.get_u32(p + "block_count"));
  c.ffn_dim = static_cast<int>(md.get_u32(p + "feed_forward_length"));
  c.n_heads = static_cast<int>(md.get_u32(p + "attention.head_count"));
  c.n_kv_heads = static_cast<int>(md.get_u32_or(p + "attention.head_count_kv", static_cast<uint32_t>(c.n_heads)));
  c.context_length = static_cast<int>(md.get_u32_or(p + "context_length", 0));
  c.rms_eps = md.get_f32_or(p + "attention.layer_norm_rms_epsilon", c.rms_eps);
  c.rope_base = md.get_f32_or(p + "rope.freq_base", 10000.0f);
  c.head_dim = c.n_heads > 0 ? c.dim / c.n_heads : 0;
  c.rope_dim = static_cast<int>(md.get_u32_or(p + "rope.dimension_count", static_cast<uint32_t>(c.head_dim)));

  const TensorView& embd = file.tensor("token_embd.weight");
  c.vocab_size = static_cast<int>(embd.rows());
  c.bos_id = static_cast<int32_t>(md.get_u32_or("tokenizer.ggml.bos_token_id", 1));
  c.eos_id = static_cast<int32_t>(md.get_u32_or("tokenizer.ggml.eos_token_id", 2));
  c.validate(file.path);

  ModelWeights& w = model.weights;
  w.token_embd = matrix(file, "token_embd.weight", c.vocab_size, c.dim);
  w.output_norm = vector(file, "output_norm.weight", c.dim);
  w.output = file.find("output.weight") ? matrix(file, "output.weight", c.vocab_size, c.dim) : w.token_embd;
  for (int l = 0; l < c.n_layers; l++) {
    LayerWeights lw;
    lw.attn_norm = vector(file, blk(l, "attn_norm.weight"), c.dim);
    lw.wq = matrix(file, blk(l, "attn_q.weight"), c.q_dim(), c.dim);
    lw.wk = matrix(file, blk(l, "attn_k.weight"), c.kv_dim(), c.dim);
    lw.wv = matrix(file, blk(l, "attn_v.weight"), c.kv_dim(), c.dim);
    lw.wo = matrix(file, blk(l, "attn_output.weight"), c.dim, c.q_dim());
    if (c.qkv_bias) {
      lw.bq = vector(file, blk(l, "attn_q.bias"), c.q_dim());
      lw.bk = vector(file, blk(l, "attn_k.bias"), c.kv_dim());
      lw.bv = vector(file, blk(l, "attn_v.bias"), c.kv_dim());
    }
    lw.ffn_norm = vector(file, blk(l, "ffn_norm.weight"), c.dim);
    lw.w_gate = matrix(file, blk(l, "ffn_gate.weight"), c.ffn_dim, c.dim);
    lw.w_up = matrix(file, blk(l, "ffn_up.weight"), c.ffn_dim, c.dim);
    lw.w_down = matrix(file, blk(l, "ffn_down.weight"), c.dim, c.ffn_dim);
    w.layers.push_back(std::move(lw));
  }
  model.storage = file.storage;
  return model;
}

Model load_model(const std::string& path, const std::string& tokenizer_path) {
  LoadOptions options;
  options.tokenizer_path = tokenizer_path;
  return build_model(load_model_file(path, options));
}

}  // namespace qes
