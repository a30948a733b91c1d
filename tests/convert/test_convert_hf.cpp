// qes convert --hf on tiny folders built in C++: every tensor's name, shape and value,
// the metadata, the tokenizer, llama's Q/K permutation, and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "hf_fixture.hpp"
#include "qes/chat_template.hpp"
#include "qes/convert_hf.hpp"
#include "qes/gguf_vocab.hpp"
#include "qes/model_file.hpp"
#include "qes/quantize_model.hpp"
#include "qes/tokenizer.hpp"

namespace qes::test {
namespace {

using convert::convert_hf;

std::vector<float> floats_of(const TensorView& t) {
  std::vector<float> out(static_cast<size_t>(t.n_elements()));
  for (int64_t r = 0; r < t.rows(); ++r)
    dequantize_row(t.dtype(), static_cast<const uint8_t*>(t.data) + r * row_bytes(t.dtype(), t.cols()), &out[r * t.cols()], t.cols());
  return out;
}

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL() << "no error; expected one mentioning " << parts.front();
  } catch (const std::exception& e) {
    for (const auto& p : parts) EXPECT_TRUE(contains(e.what(), p)) << "'" << e.what() << "' lacks '" << p << "'";
  }
}

TEST(ConvertHf, Qwen2TinyTensorsAndMetadata) {
  TempDir dir;
  TinyShape shape;
  write_tiny_model(dir / "tiny-qwen", shape);
  const auto out = (dir / "tiny.gguf").string();
  const auto r = convert_hf(dir / "tiny-qwen", out);
  EXPECT_EQ(r.arch, "qwen2");
  EXPECT_EQ(r.pre, "qwen2");
  const auto hf = tiny_model_tensors(shape);
  EXPECT_EQ(r.n_tensors, hf.size());

  const ModelFile m = load_model_file(out);
  const auto& md = m.metadata;
  EXPECT_EQ(md.get_string("general.architecture"), "qwen2");
  EXPECT_EQ(md.get_string("general.name"), "tiny-qwen");
  EXPECT_EQ(md.get_u32("qwen2.block_count"), 2u);
  EXPECT_EQ(md.get_u32("qwen2.context_length"), 512u);
  EXPECT_EQ(md.get_u32("qwen2.embedding_length"), 64u);
  EXPECT_EQ(md.get_u32("qwen2.feed_forward_length"), 96u);
  EXPECT_EQ(md.get_u32("qwen2.attention.head_count"), 4u);
  EXPECT_EQ(md.get_u32("qwen2.attention.head_count_kv"), 2u);
  EXPECT_FLOAT_EQ(md.get_f32("qwen2.rope.freq_base"), 50000.0f);  // from rope_parameters
  EXPECT_FLOAT_EQ(md.get_f32("qwen2.attention.layer_norm_rms_epsilon"), 1e-5f);
  EXPECT_EQ(md.get_u32("general.file_type"), 0u);  // all F32
  EXPECT_FALSE(md.has("qwen2.attention.key_length"));

  // Every tensor: ggml name, reversed dims, F32, the same values (F16/BF16 sources are exact).
  EXPECT_EQ(m.find("output.weight"), nullptr);  // tied
  for (size_t k = 0; k < hf.size(); ++k) {
    const std::string g = convert::gguf_tensor_name(hf[k].name);
    ASSERT_FALSE(g.empty()) << hf[k].name;
    const TensorView* t = m.find(g);
    ASSERT_NE(t, nullptr) << g;
    std::vector<int64_t> reversed(hf[k].shape.rbegin(), hf[k].shape.rend());
    EXPECT_EQ(t->dims, reversed) << g;
    EXPECT_EQ(t->type, static_cast<uint32_t>(DType::F32)) << g;
    const auto v = floats_of(*t);
    for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], fixture_value(static_cast<int>(k), static_cast<int64_t>(i))) << g << " element " << i;
  }
  EXPECT_NE(m.find("blk.1.attn_q.bias"), nullptr);
  EXPECT_NE(m.find("blk.0.ffn_down.weight"), nullptr);
  EXPECT_EQ(m.tensor("blk.0.ffn_down.weight").dims, (std::vector<int64_t>{96, 64}));

  // Tokenizer: gpt2 model, padded to vocab_size, specials, ChatML template, same encodings.
  EXPECT_EQ(md.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(md.get_string("tokenizer.ggml.pre"), "qwen2");
  const auto tokens = md.get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 262u);
  EXPECT_EQ(tokens[258], "hell");
  EXPECT_EQ(tokens[261], "<|im_end|>");
  EXPECT_EQ(md.get_u32("tokenizer.ggml.eos_token_id"), 261u);
  EXPECT_EQ(md.get_u32("tokenizer.ggml.bos_token_id"), 259u);
  EXPECT_EQ(md.get_u32("tokenizer.ggml.padding_token_id"), 259u);
  EXPECT_EQ(md.get_i32_array("tokenizer.ggml.token_type")[260], 3);  // control
  EXPECT_EQ(md.get_string_array("tokenizer.ggml.merges"), (std::vector<std::string>{"h e", "l l", "he ll"}));

  const Tokenizer from_gguf(vocab_from_gguf(md));
  const Tokenizer from_json(load_hf_tokenizer(dir / "tiny-qwen" / "tokenizer.json"));
  const std::string text = "<|im_start|>user\nhello, hell 12345 it's\n\n ok<|im_end|>\n";
  const auto ids = from_gguf.encode(text, false, true);
  EXPECT_EQ(ids, from_json.encode(text, false, true));
  EXPECT_EQ(ids[0], 260);
  EXPECT_NE(std::find(ids.begin(), ids.end(), 258), ids.end());  // "hell" of "hello" in one token
  EXPECT_EQ(from_gguf.decode(ids, /*render_special=*/true), text);

  const ChatTemplate tmpl = chat_template_for(from_gguf);
  EXPECT_EQ(tmpl.style, ChatStyle::ChatML);
  EXPECT_TRUE(tmpl.default_system.empty());
}

TEST(ConvertHf, F16OutputQuantizesToQ4_0) {
  TempDir dir;
  TinyShape shape;
  shape.tied = false;
  write_tiny_model(dir / "m", shape);
  convert::HfConvertOptions o;
  o.type = DType::F16;
  o.name = "given name";
  convert_hf(dir / "m", (dir / "m.gguf").string(), o);
  const ModelFile m = load_model_file((dir / "m.gguf").string());
  EXPECT_EQ(m.metadata.get_string("general.name"), "given name");
  EXPECT_EQ(m.metadata.get_u32("general.file_type"), 1u);  // mostly F16
  EXPECT_EQ(m.tensor("blk.0.attn_q.weight").type, static_cast<uint32_t>(DType::F16));
  EXPECT_EQ(m.tensor("blk.0.attn_norm.weight").type, static_cast<uint32_t>(DType::F32));  // 1-D stays F32
  EXPECT_EQ(m.tensor("blk.0.attn_q.bias").type, static_cast<uint32_t>(DType::F32));
  ASSERT_NE(m.find("output.weight"), nullptr);  // untied: lm_head
  EXPECT_EQ(m.tensor("output.weight").dims, (std::vector<int64_t>{64, 262}));

  QuantizeOptions q;
  q.type = DType::Q4_0;
  quantize_model(m, (dir / "m-q4_0.gguf").string(), q);
  const ModelFile mq = load_model_file((dir / "m-q4_0.gguf").string());
  EXPECT_EQ(mq.tensor("blk.1.ffn_up.weight").type, static_cast<uint32_t>(DType::Q4_0));
  EXPECT_EQ(mq.tensor("output.weight").type, static_cast<uint32_t>(DType::Q8_0));
  // Quantized values stay near the originals (fixture values are at most 40/128).
  const auto v = floats_of(mq.tensor("blk.1.ffn_up.weight"));
  const int k_up = 1 + 12 + 10;  // index of layer 1's up_proj in tiny_model_tensors (qwen2)
  double worst = 0;
  for (size_t i = 0; i < v.size(); ++i) worst = std::max(worst, std::fabs(double{v[i]} - fixture_value(k_up, static_cast<int64_t>(i))));
  EXPECT_LT(worst, 0.05);
}

// HF rotate-half rope on a head, then llama.cpp's row permutation, equals the permutation
// then ggml's interleaved-pair rope: the reason llama's Q and K are permuted.
TEST(ConvertHf, LlamaPermutationTurnsRotateHalfIntoInterleavedRope) {
  const int hd = 8;
  std::vector<float> q(hd);
  for (int i = 0; i < hd; ++i) q[i] = 0.3f * static_cast<float>(i) - 1.0f;
  const float pos = 5;
  auto theta = [&](int i) { return pos * std::pow(10000.0f, -2.0f * static_cast<float>(i) / hd); };
  std::vector<float> hf_rot(hd), perm(hd), perm_rot(hd);
  for (int i = 0; i < hd / 2; ++i) {  // HF: pairs (i, i + hd/2)
    const float c = std::cos(theta(i)), s = std::sin(theta(i));
    hf_rot[i] = q[i] * c - q[i + hd / 2] * s;
    hf_rot[i + hd / 2] = q[i] * s + q[i + hd / 2] * c;
  }
  for (int r = 0; r < hd; ++r) perm[r] = q[convert::llama_rope_permuted_row(r, hd)];
  for (int i = 0; i < hd / 2; ++i) {  // ggml llama: pairs (2i, 2i + 1)
    const float c = std::cos(theta(i)), s = std::sin(theta(i));
    perm_rot[2 * i] = perm[2 * i] * c - perm[2 * i + 1] * s;
    perm_rot[2 * i + 1] = perm[2 * i] * s + perm[2 * i + 1] * c;
  }
  for (int r = 0; r < hd; ++r) EXPECT_NEAR(perm_rot[r], hf_rot[convert::llama_rope_permuted_row(r, hd)], 1e-6) << r;
  // The second head is permuted within itself.
  EXPECT_EQ(convert::llama_rope_permuted_row(hd + 1, hd), hd + hd / 2);
}

TEST(ConvertHf, LlamaQKRowsPermutedOthersNot) {
  TempDir dir;
  TinyShape shape;
  shape.arch = "llama";
  write_tiny_model(dir / "l", shape);
  const auto r = convert_hf(dir / "l", (dir / "l.gguf").string());
  EXPECT_EQ(r.arch, "llama");
  const ModelFile m = load_model_file((dir / "l.gguf").string());
  EXPECT_EQ(m.metadata.get_u32("llama.rope.dimension_count"), 16u);
  EXPECT_EQ(m.metadata.get_u32("llama.vocab_size"), 262u);
  EXPECT_EQ(m.find("blk.0.attn_q.bias"), nullptr);
  const auto hf = tiny_model_tensors(shape);
  const int64_t cols = 64, hd = 16;
  for (size_t k = 0; k < hf.size(); ++k) {
    const std::string g = convert::gguf_tensor_name(hf[k].name);
    const bool permuted = contains(g, "attn_q.weight") || contains(g, "attn_k.weight");
    const auto v = floats_of(m.tensor(g));
    const int64_t rows = static_cast<int64_t>(v.size()) / m.tensor(g).cols();
    for (int64_t row = 0; row < rows; ++row) {
      const int64_t src = permuted ? convert::llama_rope_permuted_row(row, hd) : row;
      for (int64_t c = 0; c < m.tensor(g).cols(); ++c) {
        ASSERT_EQ(v[row * m.tensor(g).cols() + c], fixture_value(static_cast<int>(k), src * m.tensor(g).cols() + c)) << g;
      }
    }
    if (permuted) {
      EXPECT_EQ(m.tensor(g).cols(), cols);
    }
  }
}

TEST(ConvertHf, TokenizerCheckFilePassesAndCatchesMismatches) {
  TempDir dir;
  write_tiny_model(dir / "m", TinyShape{});
  const Tokenizer hf(load_hf_tokenizer(dir / "m" / "tokenizer.json"));
  nlohmann::json check = nlohmann::json::array();
  for (const std::string t : {"hello world", "<|im_start|>assistant\n<think> 1 + 2 = 3 </think><|im_end|>", "ll he hell\n\n"})
    check.push_back({{"text", t}, {"ids", hf.encode(t, false, true)}});
  write_text(dir / "m" / "tokenizer_check.json", check.dump());
  EXPECT_EQ(convert_hf(dir / "m", (dir / "a.gguf").string()).tokenizer_checked, 3u);

  check[1]["ids"][2] = 7;
  write_text(dir / "m" / "tokenizer_check.json", check.dump());
  expect_error([&] { convert_hf(dir / "m", (dir / "b.gguf").string()); },
               {"tokenizer_check.json", "entry 1", "encodes the text differently at token 2"});
  EXPECT_FALSE(std::filesystem::exists(dir / "b.gguf"));  // nothing written on failure
}

TEST(ConvertHf, NoTokenizerFolder) {
  TempDir dir;
  write_tiny_model(dir / "m", TinyShape{});
  std::filesystem::remove(dir / "m" / "tokenizer.json");
  expect_error([&] { convert_hf(dir / "m", (dir / "a.gguf").string()); }, {"tokenizer.json", "missing", "--no-tokenizer"});
  convert::HfConvertOptions o;
  o.tokenizer = false;
  convert_hf(dir / "m", (dir / "a.gguf").string(), o);
  EXPECT_FALSE(load_model_file((dir / "a.gguf").string()).metadata.has("tokenizer.ggml.tokens"));
}

TEST(ConvertHf, BadFoldersGiveClearErrors) {
  TempDir dir;
  TinyShape shape;
  const auto folder = dir / "m";
  const auto out = (dir / "o.gguf").string();
  write_tiny_model(folder, shape);

  // config.json problems
  auto config = nlohmann::json::parse(tiny_config_json(shape));
  auto with_config = [&](nlohmann::json c) { write_text(folder / "config.json", c.dump()); };
  auto c = config;
  c["model_type"] = "gemma";
  c.erase("architectures");
  with_config(c);
  expect_error([&] { convert_hf(folder, out); }, {"config.json", "model_type 'gemma' is not supported"});
  c = config;
  c.erase("hidden_size");
  with_config(c);
  expect_error([&] { convert_hf(folder, out); }, {"config.json", "\"hidden_size\" is missing"});
  c = config;
  c["rope_parameters"]["rope_type"] = "yarn";
  with_config(c);
  expect_error([&] { convert_hf(folder, out); }, {"config.json", "rope scaling 'yarn'"});
  c = config;
  c["intermediate_size"] = 100;  // the tensors say 96
  with_config(c);
  expect_error([&] { convert_hf(folder, out); }, {"model.safetensors", "mlp.gate_proj.weight", "shape [96, 64]", "[100, 64]"});
  c = config;
  c["num_hidden_layers"] = 3;
  with_config(c);
  expect_error([&] { convert_hf(folder, out); }, {"no tensor for 'blk.2.attn_norm.weight'"});
  c = config;
  c["num_hidden_layers"] = 1;
  with_config(c);
  expect_error([&] { convert_hf(folder, out); }, {"model.safetensors", "model.layers.1.", "does not belong to a model of 1 layers"});
  std::filesystem::remove(folder / "config.json");
  expect_error([&] { convert_hf(folder, out); }, {"config.json", "cannot open"});
  with_config(config);

  // weights problems
  auto tensors = tiny_model_tensors(shape);
  auto with_tensors = [&](const std::vector<StTensor>& ts) { write_file(folder / "model.safetensors", safetensors_bytes(ts)); };
  auto t = tensors;
  t.push_back(make_float_tensor("model.layers.0.self_attn.q_norm.weight", "F32", {16}, 0));
  with_tensors(t);
  expect_error([&] { convert_hf(folder, out); }, {"model.safetensors", "'model.layers.0.self_attn.q_norm.weight' is not a qwen2 weight"});
  t = tensors;
  t[1] = StTensor{t[1].name, "I64", t[1].shape, std::vector<uint8_t>(t[1].bytes.size() * 2, 0)};
  with_tensors(t);
  expect_error([&] { convert_hf(folder, out); }, {"model.safetensors", "input_layernorm.weight' has dtype I64"});
  auto bytes = safetensors_bytes(tensors);
  bytes.resize(bytes.size() / 2);
  write_file(folder / "model.safetensors", bytes);
  expect_error([&] { convert_hf(folder, out); }, {"model.safetensors", "truncated file?"});
  std::filesystem::remove(folder / "model.safetensors");
  expect_error([&] { convert_hf(folder, out); }, {"no model.safetensors"});
  EXPECT_FALSE(std::filesystem::exists(out));
  expect_error([&] { convert_hf(dir / "absent", out); }, {"absent", "not a folder"});
}

TEST(ConvertHf, ShardedFolder) {
  TempDir dir;
  TinyShape shape;
  write_tiny_model(dir / "m", shape);
  std::filesystem::remove(dir / "m" / "model.safetensors");
  auto tensors = tiny_model_tensors(shape);
  const size_t half = tensors.size() / 2;
  std::vector<StTensor> a(tensors.begin(), tensors.begin() + static_cast<long>(half)), b(tensors.begin() + static_cast<long>(half), tensors.end());
  write_file(dir / "m" / "model-00001-of-00002.safetensors", safetensors_bytes(a));
  write_file(dir / "m" / "model-00002-of-00002.safetensors", safetensors_bytes(b));
  nlohmann::json index;
  for (const auto& t : a) index["weight_map"][t.name] = "model-00001-of-00002.safetensors";
  for (const auto& t : b) index["weight_map"][t.name] = "model-00002-of-00002.safetensors";
  write_text(dir / "m" / "model.safetensors.index.json", index.dump());
  const auto r = convert_hf(dir / "m", (dir / "s.gguf").string());
  EXPECT_EQ(r.n_tensors, tensors.size());
}

TEST(ConvertHf, TensorNames) {
  using convert::gguf_tensor_name;
  EXPECT_EQ(gguf_tensor_name("model.embed_tokens.weight"), "token_embd.weight");
  EXPECT_EQ(gguf_tensor_name("lm_head.weight"), "output.weight");
  EXPECT_EQ(gguf_tensor_name("model.norm.weight"), "output_norm.weight");
  EXPECT_EQ(gguf_tensor_name("model.layers.17.self_attn.k_proj.bias"), "blk.17.attn_k.bias");
  EXPECT_EQ(gguf_tensor_name("model.layers.3.self_attn.o_proj.weight"), "blk.3.attn_output.weight");
  EXPECT_EQ(gguf_tensor_name("model.layers.3.mlp.down_proj.weight"), "blk.3.ffn_down.weight");
  EXPECT_EQ(gguf_tensor_name("model.layers.0.post_attention_layernorm.weight"), "blk.0.ffn_norm.weight");
  EXPECT_EQ(gguf_tensor_name("model.layers.0.input_layernorm.weight"), "blk.0.attn_norm.weight");
  EXPECT_EQ(gguf_tensor_name("model.layers.x.mlp.up_proj.weight"), "");
  EXPECT_EQ(gguf_tensor_name("model.layers.01.mlp.up_proj.weight"), "");
  EXPECT_EQ(gguf_tensor_name("model.layers.1.mlp.up_proj"), "");
  EXPECT_EQ(gguf_tensor_name("model.layers.1.self_attn.rotary_emb.inv_freq"), "");
}

}  // namespace
}  // namespace qes::test

namespace qes::test {
namespace {

// Qwen's own tokenizer.json (151k tokens): the pre-tokenizer is detected as qwen2, the
// ids and template come from tokenizer_config.json, and the GGUF vocabulary encodes
// llama.cpp's test texts exactly as the tokenizer.json does.
TEST(ConvertHf, RealQwen2Tokenizer) {
  const char* env = std::getenv("QES_SHARED_DATA");
  const std::filesystem::path data = env && *env ? env : QES_SHARED_DATA;
  const auto tok_dir = data / "tokenizer";
  if (!std::filesystem::exists(tok_dir / "qwen2-tokenizer.json"))
    GTEST_SKIP() << "shared test data not found (set QES_SHARED_DATA to ../shared/data)";
  TempDir dir;
  TinyShape shape;
  shape.vocab = 151936;
  shape.hidden = 32;
  shape.heads = 2;
  shape.kv_heads = 1;
  shape.ffn = 32;
  shape.layers = 1;
  std::filesystem::create_directories(dir / "q");
  write_text(dir / "q" / "config.json", tiny_config_json(shape));
  auto tensors = tiny_model_tensors(shape);
  tensors[0] = make_float_tensor("model.embed_tokens.weight", "BF16", {shape.vocab, shape.hidden}, 0);
  write_file(dir / "q" / "model.safetensors", safetensors_bytes(tensors));
  std::filesystem::copy_file(tok_dir / "qwen2-tokenizer.json", dir / "q" / "tokenizer.json");
  std::filesystem::copy_file(tok_dir / "qwen2-tokenizer_config.json", dir / "q" / "tokenizer_config.json");

  const auto r = convert_hf(dir / "q", (dir / "q.gguf").string());
  EXPECT_EQ(r.pre, "qwen2");
  const ModelFile m = load_model_file((dir / "q.gguf").string());
  const auto& md = m.metadata;
  EXPECT_EQ(md.get_string_array("tokenizer.ggml.tokens").size(), 151936u);
  EXPECT_EQ(md.get_u32("tokenizer.ggml.eos_token_id"), 151645u);  // tokenizer_config: <|im_end|>
  EXPECT_EQ(md.get_u32("tokenizer.ggml.padding_token_id"), 151643u);
  EXPECT_FALSE(md.get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_TRUE(contains(md.get_string("tokenizer.chat_template"), "<|im_start|>"));

  const Tokenizer from_gguf(vocab_from_gguf(md));
  const Tokenizer from_json(load_hf_tokenizer(dir / "q" / "tokenizer.json"));
  std::ifstream in(tok_dir / "ggml-vocab-qwen2.gguf.inp");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string sep = "\n__ggml_vocab_test__\n";
  size_t start = 0, n = 0;
  while (start < all.size()) {
    size_t end = all.find(sep, start);
    if (end == std::string::npos) end = all.size();
    const std::string text = all.substr(start, end - start);
    EXPECT_EQ(from_gguf.encode(text, false, true), from_json.encode(text, false, true)) << text;
    ++n;
    start = end + sep.size();
  }
  EXPECT_GT(n, 20u);
}

}  // namespace
}  // namespace qes::test
