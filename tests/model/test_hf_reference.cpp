// Logits of tiny random Hugging Face Qwen2 and Llama models (fixtures made by
// tools/make_hf_reference.py on a machine with PyTorch) against qes's, after
// converting the weights to GGUF with qes's own writer. Skips while the
// fixtures are not committed.
#include "qes/generate.hpp"
#include "qes/gguf.hpp"
#include "qes/model_file.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

namespace qes {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// QES_HF_FIXTURES overrides the folder (to check fixtures before committing them).
fs::path fixtures() {
  if (const char* env = std::getenv("QES_HF_FIXTURES")) return env;
  return fs::path(QES_SOURCE_DIR) / "tests" / "model" / "fixtures";
}

std::vector<float> read_floats(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

// Hugging Face parameter name -> GGUF tensor name (llama.cpp's convert_hf_to_gguf mapping).
std::string gguf_name(const std::string& hf) {
  static const std::map<std::string, std::string> top{
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"}};
  if (auto it = top.find(hf); it != top.end()) return it->second;
  static const std::map<std::string, std::string> layer{
      {"input_layernorm.weight", "attn_norm.weight"},   {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},         {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.k_proj.bias", "attn_k.bias"},         {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.v_proj.bias", "attn_v.bias"},         {"self_attn.o_proj.weight", "attn_output.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"}, {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},          {"mlp.down_proj.weight", "ffn_down.weight"}};
  const std::string prefix = "model.layers.";
  if (hf.rfind(prefix, 0) == 0) {
    const size_t dot = hf.find('.', prefix.size());
    const std::string n = hf.substr(prefix.size(), dot - prefix.size());
    if (auto it = layer.find(hf.substr(dot + 1)); it != layer.end()) return "blk." + n + "." + it->second;
  }
  throw std::runtime_error("unexpected Hugging Face tensor " + hf);
}

// llama.cpp's converter reorders each head's Q/K rows from Hugging Face's
// half-split RoPE layout to the interleaved one: new row 2i+j = old row j*(hd/2)+i.
std::vector<float> permute_rows_for_interleaved_rope(const float* w, int64_t rows, int64_t cols, int heads) {
  const int64_t hd = rows / heads;
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int h = 0; h < heads; h++)
    for (int64_t i = 0; i < hd / 2; i++)
      for (int j = 0; j < 2; j++)
        std::memcpy(&out[(h * hd + 2 * i + j) * cols], &w[(h * hd + j * (hd / 2) + i) * cols], sizeof(float) * cols);
  return out;
}

// Writes the fixture's model as an F32 GGUF with qes's writer; returns its path.
std::string convert_to_gguf(const json& meta, const std::vector<float>& weights, const std::string& out_path) {
  const std::string arch = meta.at("arch");
  const json& c = meta.at("config");
  gguf::Metadata md;
  md.set("general.architecture", arch);
  md.set("general.name", std::string("hf tiny ") + arch);
  md.set(arch + ".context_length", c.at("max_position_embeddings").get<uint32_t>());
  md.set(arch + ".embedding_length", c.at("hidden_size").get<uint32_t>());
  md.set(arch + ".block_count", c.at("num_hidden_layers").get<uint32_t>());
  md.set(arch + ".feed_forward_length", c.at("intermediate_size").get<uint32_t>());
  md.set(arch + ".attention.head_count", c.at("num_attention_heads").get<uint32_t>());
  md.set(arch + ".attention.head_count_kv", c.at("num_key_value_heads").get<uint32_t>());
  md.set(arch + ".attention.layer_norm_rms_epsilon", c.at("rms_norm_eps").get<float>());
  md.set(arch + ".rope.freq_base", c.at("rope_theta").get<float>());
  const int n_head = c.at("num_attention_heads"), n_kv = c.at("num_key_value_heads");

  std::vector<std::vector<float>> keep;  // permuted copies outlive the writer call
  std::vector<gguf::OutTensor> tensors;
  for (const json& t : meta.at("tensors")) {
    const std::string hf = t.at("name");
    const std::vector<int64_t> shape = t.at("shape");
    const float* data = weights.data() + t.at("offset").get<size_t>() / 4;
    gguf::OutTensor o;
    o.name = gguf_name(hf);
    o.type = 0;  // F32
    o.dims.assign(shape.rbegin(), shape.rend());  // ggml order: row length first
    o.data = data;
    const bool q = o.name.ends_with("attn_q.weight"), k = o.name.ends_with("attn_k.weight");
    if (arch == "llama" && (q || k)) {
      keep.push_back(permute_rows_for_interleaved_rope(data, shape[0], shape[1], q ? n_head : n_kv));
      o.data = keep.back().data();
    }
    tensors.push_back(std::move(o));
  }
  gguf::write_gguf(out_path, md, tensors);
  return out_path;
}

void compare_with_hf(const std::string& name, double tolerance) {
  const fs::path dir = fixtures();
  const fs::path json_path = dir / (name + ".json");
  if (!fs::exists(json_path))
    GTEST_SKIP() << "fixture " << json_path << " not there yet: run tools/make_hf_reference.py where PyTorch is";
  std::ifstream in(json_path);
  const json meta = json::parse(in);
  const auto weights = read_floats(dir / (name + ".weights.bin"));
  const auto want = read_floats(dir / (name + ".logits.bin"));
  const std::vector<int32_t> tokens = meta.at("tokens");
  const int vocab = meta.at("config").at("vocab_size");
  ASSERT_EQ(want.size(), tokens.size() * vocab);

  const std::string gguf_path = (fs::temp_directory_path() / ("qes_test_" + name + "_" + std::to_string(::getpid()) + ".gguf")).string();
  convert_to_gguf(meta, weights, gguf_path);
  const ModelFile file = load_model_file(gguf_path);
  const Model model = build_model(file);
  fs::remove(gguf_path);  // the mapping stays valid

  GeneratorOptions opt;
  opt.kv_type = KvType::F32;
  Generator gen(model, opt);
  const auto got = gen.prompt_logits(tokens);
  // Per position: max |qes - hf| relative to that position's largest |logit|.
  double worst = 0;
  int argmax_agree = 0;
  for (size_t p = 0; p < tokens.size(); p++) {
    double err = 0, scale = 1e-9;
    int a = 0, b = 0;
    for (int v = 0; v < vocab; v++) {
      const double g = got[p * vocab + v], w = want[p * vocab + v];
      err = std::max(err, std::abs(g - w));
      scale = std::max(scale, std::abs(w));
      if (g > got[p * vocab + a]) a = v;
      if (w > want[p * vocab + b]) b = v;
    }
    worst = std::max(worst, err / scale);
    argmax_agree += a == b;
  }
  std::printf("%s: worst relative logit error %.3g over %zu positions, argmax agrees at %d\n", name.c_str(), worst,
              tokens.size(), argmax_agree);
  EXPECT_LT(worst, tolerance);
  EXPECT_EQ(argmax_agree, static_cast<int>(tokens.size()));
}

// f32 weights, f32 KV cache: float summation order only.
TEST(HfReference, Qwen2LogitsMatchTransformers) { compare_with_hf("hf_qwen2_tiny", 1e-4); }
TEST(HfReference, LlamaLogitsMatchTransformers) { compare_with_hf("hf_llama_tiny", 1e-4); }

}  // namespace
}  // namespace qes
