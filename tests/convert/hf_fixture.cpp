#include "hf_fixture.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sys/wait.h>

#include "qes/quant.hpp"

namespace qes::test {

TempDir::TempDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "qes_convert_XXXXXX").string();
  if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = templ;
}
TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

float fixture_value(int k, int64_t i) {
  return static_cast<float>((i % 17) - 8) * static_cast<float>(k % 5 + 1) / 128.0f;
}

StTensor make_float_tensor(const std::string& name, const std::string& dtype, std::vector<int64_t> shape, int k) {
  StTensor t{name, dtype, std::move(shape), {}};
  int64_t n = 1;
  for (int64_t d : t.shape) n *= d;
  const size_t elem = dtype == "F32" ? 4 : 2;
  t.bytes.resize(static_cast<size_t>(n) * elem);
  for (int64_t i = 0; i < n; ++i) {
    const float v = fixture_value(k, i);
    if (dtype == "F32") {
      std::memcpy(&t.bytes[i * 4], &v, 4);
    } else {
      const uint16_t h = dtype == "F16" ? fp32_to_fp16(v) : fp32_to_bf16(v);
      std::memcpy(&t.bytes[i * 2], &h, 2);
    }
  }
  return t;
}

std::vector<uint8_t> safetensors_bytes(const std::vector<StTensor>& tensors) {
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string h = header.dump();
  while ((8 + h.size()) % 8) h += ' ';  // as safetensors pads it
  std::vector<uint8_t> data;
  for (const auto& t : tensors) data.insert(data.end(), t.bytes.begin(), t.bytes.end());
  return frame_safetensors(h, data);
}

std::vector<uint8_t> frame_safetensors(const std::string& header, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out(8 + header.size() + data.size());
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
  if (!header.empty()) std::memcpy(out.data() + 8, header.data(), header.size());
  if (!data.empty()) std::memcpy(out.data() + 8 + header.size(), data.data(), data.size());
  return out;
}

void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
}

std::vector<StTensor> tiny_model_tensors(const TinyShape& s) {
  const int64_t e = s.hidden, hd = s.hidden / s.heads, kv = hd * s.kv_heads, ff = s.ffn, v = s.vocab;
  std::vector<StTensor> t;
  int k = 0;
  t.push_back(make_float_tensor("model.embed_tokens.weight", "F32", {v, e}, k++));
  for (int l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    t.push_back(make_float_tensor(p + "input_layernorm.weight", "F32", {e}, k++));
    t.push_back(make_float_tensor(p + "self_attn.q_proj.weight", "BF16", {e, e}, k++));
    t.push_back(make_float_tensor(p + "self_attn.k_proj.weight", "F16", {kv, e}, k++));
    t.push_back(make_float_tensor(p + "self_attn.v_proj.weight", "F32", {kv, e}, k++));
    if (s.arch == "qwen2") {
      t.push_back(make_float_tensor(p + "self_attn.q_proj.bias", "F32", {e}, k++));
      t.push_back(make_float_tensor(p + "self_attn.k_proj.bias", "BF16", {kv}, k++));
      t.push_back(make_float_tensor(p + "self_attn.v_proj.bias", "F16", {kv}, k++));
    }
    t.push_back(make_float_tensor(p + "self_attn.o_proj.weight", "F16", {e, e}, k++));
    t.push_back(make_float_tensor(p + "post_attention_layernorm.weight", "BF16", {e}, k++));
    t.push_back(make_float_tensor(p + "mlp.gate_proj.weight", "F32", {ff, e}, k++));
    t.push_back(make_float_tensor(p + "mlp.up_proj.weight", "BF16", {ff, e}, k++));
    t.push_back(make_float_tensor(p + "mlp.down_proj.weight", "F16", {e, ff}, k++));
  }
  t.push_back(make_float_tensor("model.norm.weight", "F32", {e}, k++));
  if (!s.tied) t.push_back(make_float_tensor("lm_head.weight", "F16", {v, e}, k++));
  return t;
}

std::string tiny_config_json(const TinyShape& s) {
  nlohmann::ordered_json c;
  c["architectures"] = {s.arch == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"};
  c["model_type"] = s.arch;
  c["vocab_size"] = s.vocab;
  c["hidden_size"] = s.hidden;
  c["intermediate_size"] = s.ffn;
  c["num_hidden_layers"] = s.layers;
  c["num_attention_heads"] = s.heads;
  c["num_key_value_heads"] = s.kv_heads;
  c["max_position_embeddings"] = 512;
  c["rms_norm_eps"] = 1e-5;
  // transformers 5 keeps rope_theta in rope_parameters.
  c["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 50000.0}};
  c["tie_word_embeddings"] = s.tied;
  c["hidden_act"] = "silu";
  c["bos_token_id"] = 259;
  c["eos_token_id"] = 261;
  c["pad_token_id"] = 259;
  c["dtype"] = "float32";
  return c.dump(2);
}

namespace {
// GPT-2's byte -> printable character map.
std::string byte_char(int b) {
  int cp = b;
  if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255))) {
    int n = 0;
    for (int x = 0; x < b; ++x)
      if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) ++n;
    cp = 256 + n;
  }
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}
}  // namespace

std::string tiny_tokenizer_json() {
  nlohmann::ordered_json vocab;
  for (int b = 0; b < 256; ++b) vocab[byte_char(b)] = b;
  vocab["he"] = 256;
  vocab["ll"] = 257;
  vocab["hell"] = 258;
  // Pairs, as tokenizers >= 0.20 writes merges (an initializer list would make objects).
  nlohmann::ordered_json merges = nlohmann::ordered_json::array();
  for (auto [l, r] : {std::pair{"h", "e"}, std::pair{"l", "l"}, std::pair{"he", "ll"}})
    merges.push_back(nlohmann::ordered_json::array({l, r}));
  nlohmann::ordered_json j;
  j["version"] = "1.0";
  j["added_tokens"] = nlohmann::ordered_json::array();
  int id = 259;
  for (const char* s : {"<|endoftext|>", "<|im_start|>", "<|im_end|>"})
    j["added_tokens"].push_back({{"id", id++}, {"content", s}, {"single_word", false}, {"lstrip", false},
                                 {"rstrip", false}, {"normalized", false}, {"special", true}});
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"},
         {"pattern",
          {{"Regex",
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}}},
         {"behavior", "Isolated"},
         {"invert", false}},
        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}};
  j["post_processor"] = nullptr;
  j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  j["model"] = {{"type", "BPE"},        {"dropout", nullptr},      {"unk_token", nullptr},
                {"continuing_subword_prefix", nullptr},             {"end_of_word_suffix", nullptr},
                {"fuse_unk", false},    {"byte_fallback", false},  {"ignore_merges", false},
                {"vocab", vocab},       {"merges", merges}};
  return j.dump(1);
}

void write_tiny_model(const std::filesystem::path& dir, const TinyShape& shape) {
  std::filesystem::create_directories(dir);
  write_text(dir / "config.json", tiny_config_json(shape));
  write_file(dir / "model.safetensors", safetensors_bytes(tiny_model_tensors(shape)));
  write_text(dir / "tokenizer.json", tiny_tokenizer_json());
}

CliResult run_cli(const std::string& args) {
  const std::string cmd = std::string(QES_CLI) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), out};
}

}  // namespace qes::test
