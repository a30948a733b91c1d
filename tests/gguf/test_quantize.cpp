// qes quantize: type decisions, blocks equal to quantize_row of the source rows,
// and random-like models.
#include <cmath>
#include <cstring>

#include "qes/gguf.hpp"
#include "qes/llama2c.hpp"
#include "qes/quantize_model.hpp"
#include "test_util.hpp"

using namespace qes;

namespace {

std::vector<float> row_as_f32(const TensorView& t, int64_t r) {
  std::vector<float> out(static_cast<size_t>(t.cols()));
  const uint8_t* p = static_cast<const uint8_t*>(t.data) + static_cast<size_t>(r) * row_bytes(t.dtype(), t.cols());
  dequantize_row(t.dtype(), p, out.data(), t.cols());
  return out;
}

// Every row of `q` is exactly quantize_row(type, source row) and dequantizes close to it.
void expect_quantized_from(const TensorView& q, const TensorView& src, double max_rel_rms) {
  ASSERT_EQ(q.dims, src.dims);
  const size_t rb = row_bytes(q.dtype(), q.cols());
  std::vector<uint8_t> expect(rb);
  double err = 0, ref = 0;
  for (int64_t r = 0; r < src.rows(); ++r) {
    std::vector<float> x = row_as_f32(src, r);
    quantize_row(q.dtype(), x.data(), expect.data(), q.cols());
    ASSERT_EQ(std::memcmp(static_cast<const uint8_t*>(q.data) + static_cast<size_t>(r) * rb, expect.data(), rb), 0)
        << q.name << " row " << r;
    std::vector<float> y = row_as_f32(q, r);
    for (size_t i = 0; i < x.size(); ++i) {
      err += (x[i] - y[i]) * (x[i] - y[i]);
      ref += x[i] * x[i];
    }
  }
  EXPECT_LT(std::sqrt(err / ref), max_rel_rms) << q.name;
}

}  // namespace

class QuantizeStories : public ::testing::TestWithParam<DType> {};

TEST_P(QuantizeStories, FromLlama2cCheckpoint) {
  QES_REQUIRE_SHARED_DATA(data);
  const DType type = GetParam();
  ModelFile src = load_model_file(data + "/stories260K.bin");
  test::TempDir dir;
  QuantizeOptions o;
  o.type = type;
  quantize_model(src, dir.path("q.gguf"), o);
  ModelFile q = gguf::read_gguf(dir.path("q.gguf"));
  EXPECT_EQ(q.metadata.get_u32("general.file_type"), llama_file_type(type));
  EXPECT_EQ(q.metadata.get_u32("general.quantization_version"), 2u);
  EXPECT_EQ(q.metadata.get_string_array("tokenizer.ggml.tokens"), src.metadata.get_string_array("tokenizer.ggml.tokens"));
  ASSERT_EQ(q.tensors.size(), src.tensors.size());
  const double tol = type == DType::Q8_0 ? 0.01 : 0.2;
  for (const auto& t : q.tensors) {
    const TensorView& s = src.tensor(t.name);
    if (t.dims.size() == 1 || t.name.find("ffn_down") != std::string::npos) {
      // Norms are F32; ffn_down rows (172) are not a multiple of 32 and stay F32.
      EXPECT_EQ(t.type, 0u) << t.name;
      EXPECT_EQ(std::memcmp(t.data, s.data, t.bytes), 0) << t.name;
    } else if (t.name == "output.weight" && type != DType::Q8_0) {
      EXPECT_EQ(t.dtype(), DType::Q8_0) << "output projection gets q8_0";
      expect_quantized_from(t, s, 0.01);
    } else {
      EXPECT_EQ(t.dtype(), type) << t.name;
      expect_quantized_from(t, s, tol);
    }
  }
  // --pure: the output projection gets the target type too.
  o.pure = true;
  quantize_model(src, dir.path("pure.gguf"), o);
  EXPECT_EQ(gguf::read_gguf(dir.path("pure.gguf")).tensor("output.weight").dtype(), type);
}

INSTANTIATE_TEST_SUITE_P(Types, QuantizeStories, ::testing::Values(DType::Q4_0, DType::Q4_1, DType::Q8_0),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(Quantize, F16AndBF16Inputs) {
  QES_REQUIRE_SHARED_DATA(data);
  test::TempDir dir;
  ModelFile f16 = gguf::read_gguf(data + "/llama-2-tiny-random.gguf");
  quantize_model(f16, dir.path("q8.gguf"), {DType::Q8_0, false});
  ModelFile q = gguf::read_gguf(dir.path("q8.gguf"));
  // Rows of 8 cannot be blocked: those stay F16; ffn_down has rows of 32.
  EXPECT_EQ(q.tensor("token_embd.weight").type, 1u);
  EXPECT_EQ(q.tensor("blk.0.attn_q.weight").type, 1u);
  EXPECT_EQ(q.tensor("blk.0.ffn_down.weight").dtype(), DType::Q8_0);
  expect_quantized_from(q.tensor("blk.0.ffn_down.weight"), f16.tensor("blk.0.ffn_down.weight"), 0.01);

  std::vector<uint16_t> bf(64 * 4);
  for (size_t i = 0; i < bf.size(); ++i) bf[i] = fp32_to_bf16(std::sin(static_cast<float>(i)) * 3.0f);
  std::vector<uint16_t> norm(64, fp32_to_bf16(1.5f));
  gguf::write_gguf(dir.path("bf16.gguf"), gguf::Metadata(),
                   {{"w.weight", 30, {64, 4}, bf.data(), {}}, {"n.weight", 30, {64}, norm.data(), {}}});
  ModelFile b = gguf::read_gguf(dir.path("bf16.gguf"));
  quantize_model(b, dir.path("bq.gguf"), {DType::Q4_1, false});
  ModelFile bq = gguf::read_gguf(dir.path("bq.gguf"));
  expect_quantized_from(bq.tensor("w.weight"), b.tensor("w.weight"), 0.2);
  EXPECT_EQ(bq.tensor("n.weight").type, 0u);  // 1-D tensors become F32
  EXPECT_EQ(static_cast<const float*>(bq.tensor("n.weight").data)[5], 1.5f);

  // Quantized input is refused with a clear message.
  try {
    quantize_model(q, dir.path("again.gguf"), {DType::Q4_0, false});
    FAIL();
  } catch (const gguf::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("is already q8_0"), std::string::npos) << e.what();
  }
}

TEST(RandomLike, KnownShapes) {
  const ModelShape& s = find_model_shape("qwen2.5-0.5b");
  EXPECT_EQ(s.arch, "qwen2");
  EXPECT_EQ(s.n_layer, 24u);
  EXPECT_EQ(s.n_embd, 896u);
  EXPECT_EQ(s.n_ff, 4864u);
  EXPECT_EQ(s.n_head, 14u);
  EXPECT_EQ(s.n_head_kv, 2u);
  EXPECT_EQ(s.n_vocab, 151936u);
  EXPECT_TRUE(s.tied_embeddings);
  EXPECT_TRUE(s.qkv_bias);
  EXPECT_EQ(s.rope_theta, 1e6f);
  EXPECT_EQ(s.rms_eps, 1e-6f);
  try {
    find_model_shape("gpt-5");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("qwen2.5-1.5b"), std::string::npos);
  }
}

TEST(RandomLike, SmallQwen2ShapeIsCompleteAndDeterministic) {
  ModelShape s{"tiny-qwen2", "qwen2", 2, 64, 96, 4, 2, 300, 512, true, true, 1e6f, 1e-6f};
  test::TempDir dir;
  RandomModelOptions o;
  o.quant.type = DType::Q4_0;
  o.seed = 42;
  write_random_model(s, dir.path("a.gguf"), o);
  write_random_model(s, dir.path("b.gguf"), o);
  o.seed = 43;
  write_random_model(s, dir.path("c.gguf"), o);
  EXPECT_TRUE(test::read_bytes(dir.path("a.gguf")) == test::read_bytes(dir.path("b.gguf")));
  EXPECT_FALSE(test::read_bytes(dir.path("a.gguf")) == test::read_bytes(dir.path("c.gguf")));

  ModelFile m = gguf::read_gguf(dir.path("a.gguf"));
  EXPECT_EQ(m.metadata.get_string("general.architecture"), "qwen2");
  EXPECT_EQ(m.metadata.get_u32("qwen2.block_count"), 2u);
  EXPECT_EQ(m.metadata.get_u32("qwen2.attention.head_count_kv"), 2u);
  EXPECT_EQ(m.metadata.get_f32("qwen2.rope.freq_base"), 1e6f);
  EXPECT_EQ(m.metadata.get_u32("general.file_type"), 2u);
  EXPECT_EQ(m.find("output.weight"), nullptr);  // tied embeddings
  EXPECT_EQ(m.tensor("token_embd.weight").dims, (std::vector<int64_t>{64, 300}));
  EXPECT_EQ(m.tensor("token_embd.weight").dtype(), DType::Q8_0);  // tied: it is the output projection
  EXPECT_EQ(m.tensor("blk.1.attn_k.weight").dims, (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(m.tensor("blk.1.attn_k.weight").dtype(), DType::Q4_0);
  EXPECT_EQ(m.tensor("blk.1.attn_k.bias").dims, (std::vector<int64_t>{32}));
  EXPECT_EQ(m.tensor("blk.1.attn_k.bias").type, 0u);
  EXPECT_EQ(m.tensor("blk.0.ffn_down.weight").dims, (std::vector<int64_t>{96, 64}));
  EXPECT_EQ(static_cast<const float*>(m.tensor("blk.0.ffn_norm.weight").data)[3], 1.0f);
  EXPECT_EQ(m.tensors.size(), 2u + 2u * 12u);
  // Weights are finite and not all equal.
  std::vector<float> row(64);
  dequantize_row(DType::Q4_0, m.tensor("blk.0.attn_q.weight").data, row.data(), 64);
  float lo = row[0], hi = row[0];
  for (float v : row) {
    ASSERT_TRUE(std::isfinite(v));
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_LT(lo, hi);
}

TEST(RandomLike, VocabularyFromTokenizerJson) {
  QES_REQUIRE_SHARED_DATA(data);
  ModelShape s = find_model_shape("qwen2.5-0.5b");
  s.n_layer = 1;
  s.n_embd = 32;
  s.n_ff = 32;
  s.n_head = 2;
  s.n_head_kv = 1;
  test::TempDir dir;
  RandomModelOptions o;
  o.quant.type = DType::Q8_0;
  o.tokenizer_json = data + "/tokenizer/qwen2-tokenizer.json";
  write_random_model(s, dir.path("t.gguf"), o);
  ModelFile m = gguf::read_gguf(dir.path("t.gguf"));
  auto tokens = m.metadata.get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 151936u);
  EXPECT_EQ(tokens[151645], "<|im_end|>");
  EXPECT_EQ(tokens[151935], "[PAD151935]");
  EXPECT_EQ(m.metadata.get_string("tokenizer.ggml.pre"), "qwen2");
  EXPECT_EQ(m.metadata.get_string_array("tokenizer.ggml.merges").size(), 151387u);
  EXPECT_EQ(m.metadata.get_i32_array("tokenizer.ggml.token_type")[151644], 3);
}

// `qes quantize X.bin OUT --type f32` is the llama2.c conversion: llama.cpp's
// file plus general.file_type.
TEST(QuantizeCli, ConvertLlama2cToF32) {
  QES_REQUIRE_SHARED_DATA(data);
  test::TempDir dir;
  auto r = test::run_cli("quantize " + data + "/stories260K.bin " + dir.path("f32.gguf") +
                         " --type f32 --context-length 128 --tokenizer " + data + "/tok512.bin");
  ASSERT_EQ(r.status, 0) << r.output;
  ModelFile ours = gguf::read_gguf(dir.path("f32.gguf"));
  ModelFile ref = gguf::read_gguf(data + "/stories260K-f32.gguf");
  EXPECT_EQ(ours.metadata.get_u32("general.file_type"), 0u);
  gguf::Metadata m = ours.metadata;
  m.erase("general.file_type");
  EXPECT_TRUE(m == ref.metadata);
  ASSERT_EQ(ours.tensors.size(), ref.tensors.size());
  for (size_t i = 0; i < ours.tensors.size(); ++i) {
    EXPECT_EQ(ours.tensors[i].name, ref.tensors[i].name);
    ASSERT_EQ(ours.tensors[i].bytes, ref.tensors[i].bytes);
    EXPECT_EQ(std::memcmp(ours.tensors[i].data, ref.tensors[i].data, ref.tensors[i].bytes), 0);
  }
}

TEST(QuantizeCli, Q8ThenBackToF32AndErrors) {
  QES_REQUIRE_SHARED_DATA(data);
  test::TempDir dir;
  auto r = test::run_cli("quantize " + data + "/stories260K.bin " + dir.path("q8.gguf") + " --type q8_0");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("ffn_down.weight"), std::string::npos) << "kept-float tensors are listed";
  r = test::run_cli("quantize " + dir.path("q8.gguf") + " " + dir.path("back.gguf") + " --type f32");
  ASSERT_EQ(r.status, 0) << r.output;
  ModelFile q8 = gguf::read_gguf(dir.path("q8.gguf"));
  ModelFile back = gguf::read_gguf(dir.path("back.gguf"));
  const TensorView& t = back.tensor("blk.2.attn_v.weight");
  EXPECT_EQ(t.type, 0u);
  for (int64_t row = 0; row < t.rows(); ++row) {
    std::vector<float> x = row_as_f32(q8.tensor("blk.2.attn_v.weight"), row);
    EXPECT_EQ(std::memcmp(static_cast<const float*>(t.data) + row * t.cols(), x.data(), x.size() * 4), 0);
  }
  r = test::run_cli("quantize " + dir.path("q8.gguf") + " " + dir.path("q4.gguf") + " --type q4_0");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("is already q8_0"), std::string::npos) << r.output;
  r = test::run_cli("quantize " + dir.path("q8.gguf") + " " + dir.path("x.gguf") + " --type q5_K");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("--type must be"), std::string::npos) << r.output;
  r = test::run_cli("quantize --random-like nonesuch " + dir.path("x.gguf"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("unknown model shape 'nonesuch'"), std::string::npos) << r.output;
}
