// llama2.c checkpoint -> GGUF must equal llama.cpp's own conversion of the same files.
#include <cstring>

#include "qes/gguf.hpp"
#include "qes/llama2c.hpp"
#include "test_util.hpp"

using namespace qes;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST(Llama2c, ConfigHeader) {
  QES_REQUIRE_SHARED_DATA(data);
  Llama2cConfig c = read_llama2c_config(data + "/stories260K.bin");
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 172);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.seq_len, 512);
  EXPECT_TRUE(c.shared_classifier);
}

// With llama.cpp's default context length (128) the conversion is the reference file, byte for byte.
TEST(Llama2c, ConversionIsByteIdenticalToLlamaCpp) {
  QES_REQUIRE_SHARED_DATA(data);
  Llama2cOptions o;
  o.tokenizer_path = data + "/tok512.bin";
  o.context_length = 128;
  ModelFile mf = load_llama2c(data + "/stories260K.bin", o);
  test::TempDir dir;
  gguf::write_gguf(dir.path("s.gguf"), mf);
  EXPECT_TRUE(test::read_bytes(dir.path("s.gguf")) == test::read_bytes(data + "/stories260K-f32.gguf"));
}

// By default the checkpoint's own seq_len is recorded; everything else is the same.
TEST(Llama2c, DefaultConversionMatchesReferenceTensorsAndMetadata) {
  QES_REQUIRE_SHARED_DATA(data);
  ModelFile ours = load_model_file(data + "/stories260K.bin");  // finds tok512.bin beside it
  ModelFile ref = gguf::read_gguf(data + "/stories260K-f32.gguf");
  EXPECT_EQ(ours.format, "llama2.c");
  EXPECT_EQ(ours.metadata.get_u32("llama.context_length"), 512u);
  gguf::Metadata a = ours.metadata, b = ref.metadata;
  a.erase("llama.context_length");
  b.erase("llama.context_length");
  EXPECT_TRUE(a == b);
  ASSERT_EQ(ours.tensors.size(), ref.tensors.size());
  for (size_t i = 0; i < ref.tensors.size(); ++i) {
    const auto& x = ours.tensors[i];
    const auto& y = ref.tensors[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.dims, y.dims);
    ASSERT_EQ(x.bytes, y.bytes);
    EXPECT_EQ(std::memcmp(x.data, y.data, x.bytes), 0) << x.name << " differs from llama.cpp's conversion";
  }
  // wq is stored unpermuted (llama2.c and ggml's normal RoPE both rotate interleaved pairs).
  auto bin = test::read_bytes(data + "/stories260K.bin");
  const size_t wq_offset = 28 + 4 * (512 * 64 + 5 * 64);
  EXPECT_EQ(std::memcmp(ours.tensor("blk.0.attn_q.weight").data, bin.data() + wq_offset, 64 * 64 * 4), 0);
}

TEST(Llama2c, BadFilesGiveClearErrors) {
  QES_REQUIRE_SHARED_DATA(data);
  test::TempDir dir;
  auto bin = test::read_bytes(data + "/stories260K.bin");
  auto tok = test::read_bytes(data + "/tok512.bin");
  Llama2cOptions o;
  o.tokenizer_path = data + "/tok512.bin";

  for (size_t cut : {size_t{0}, size_t{10}, size_t{27}, size_t{28}, size_t{1000}, bin.size() - 1}) {
    std::string p = dir.path("cut" + std::to_string(cut) + ".bin");
    test::write_bytes(p, std::vector<uint8_t>(bin.begin(), bin.begin() + static_cast<ptrdiff_t>(cut)));
    std::string e = error_of([&] { load_llama2c(p, o); });
    EXPECT_NE(e.find(p), std::string::npos) << e;
    EXPECT_TRUE(e.find("truncated") != std::string::npos || e.find("too short") != std::string::npos) << e;
  }
  auto bad = bin;
  int32_t zero = 0;
  std::memcpy(bad.data() + 12, &zero, 4);  // n_heads = 0
  test::write_bytes(dir.path("heads.bin"), bad);
  EXPECT_NE(error_of([&] { load_llama2c(dir.path("heads.bin"), o); }).find("nor a valid llama2.c checkpoint"), std::string::npos);
  bad = bin;
  bad.push_back(0);
  test::write_bytes(dir.path("long.bin"), bad);
  EXPECT_NE(error_of([&] { load_llama2c(dir.path("long.bin"), o); }).find("not a v0 llama2.c checkpoint"), std::string::npos);

  // Tokenizer: truncated, a token longer than max_token_length, and extra bytes.
  Llama2cOptions t = o;
  t.tokenizer_path = dir.path("tok.bin");
  test::write_bytes(t.tokenizer_path, std::vector<uint8_t>(tok.begin(), tok.begin() + 3000));
  EXPECT_NE(error_of([&] { load_llama2c(data + "/stories260K.bin", t); }).find("llama2.c tokenizer: truncated"), std::string::npos);
  auto tbad = tok;
  int32_t huge = 1 << 30;
  std::memcpy(tbad.data() + 8, &huge, 4);  // length of token 0
  test::write_bytes(t.tokenizer_path, tbad);
  EXPECT_NE(error_of([&] { load_llama2c(data + "/stories260K.bin", t); }).find("outside [0, max_token_length"), std::string::npos);
  tbad = tok;
  tbad.push_back(1);
  test::write_bytes(t.tokenizer_path, tbad);
  EXPECT_NE(error_of([&] { load_llama2c(data + "/stories260K.bin", t); }).find("bytes left after 512 tokens"), std::string::npos);
}

// A synthetic checkpoint with an unshared classifier (negative vocab_size) and GQA.
TEST(Llama2c, UnsharedClassifierAndTensorOrder) {
  const int32_t dim = 8, hidden = 16, layers = 2, heads = 2, kv_heads = 1, vocab = 5, seq = 4;
  const int64_t hs = dim / heads, kv = hs * kv_heads;
  std::vector<int64_t> sizes = {vocab * dim,  layers * dim,          layers * dim * dim, layers * kv * dim,
                                layers * kv * dim, layers * dim * dim, layers * dim,       layers * hidden * dim,
                                layers * dim * hidden, layers * hidden * dim, dim, seq * hs, vocab * dim};
  std::vector<float> w;
  for (size_t k = 0; k < sizes.size(); ++k)
    for (int64_t i = 0; i < sizes[k]; ++i) w.push_back(static_cast<float>(k * 1000 + i));  // tensor k, element i
  std::vector<uint8_t> bin(28 + w.size() * 4);
  int32_t cfg[7] = {dim, hidden, layers, heads, kv_heads, -vocab, seq};
  std::memcpy(bin.data(), cfg, 28);
  std::memcpy(bin.data() + 28, w.data(), w.size() * 4);
  std::vector<uint8_t> tok;
  auto put = [&](const void* p, size_t n) { tok.insert(tok.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n); };
  int32_t max_len = 16;
  put(&max_len, 4);
  for (std::string s : {"<unk>", "\n<s>\n", "\n</s>\n", "<0x0A>", " hi there"}) {
    float score = -1.5f;
    int32_t len = static_cast<int32_t>(s.size());
    put(&score, 4);
    put(&len, 4);
    put(s.data(), s.size());
  }
  test::TempDir dir;
  test::write_bytes(dir.path("m.bin"), bin);
  test::write_bytes(dir.path("tokenizer.bin"), tok);
  ModelFile mf = load_model_file(dir.path("m.bin"));  // finds tokenizer.bin beside it
  EXPECT_EQ(mf.metadata.get_string_array("tokenizer.ggml.tokens"),
            (std::vector<std::string>{"<unk>", "<s>", "</s>", "<0x0A>", "\xe2\x96\x81hi\xe2\x96\x81there"}));
  EXPECT_EQ(mf.metadata.get_i32_array("tokenizer.ggml.token_type"), (std::vector<int32_t>{2, 3, 3, 6, 1}));
  EXPECT_EQ(mf.metadata.get_u32("llama.context_length"), 4u);
  EXPECT_EQ(mf.metadata.get_u32("llama.rope.dimension_count"), 4u);
  auto first = [&](const char* name) { return static_cast<const float*>(mf.tensor(name).data)[0]; };
  EXPECT_EQ(mf.tensor("blk.1.attn_k.weight").dims, (std::vector<int64_t>{dim, kv}));
  EXPECT_EQ(first("token_embd.weight"), 0.0f);
  EXPECT_EQ(first("blk.1.attn_norm.weight"), 1000.0f + dim);
  EXPECT_EQ(first("blk.1.attn_q.weight"), 2000.0f + dim * dim);
  EXPECT_EQ(first("blk.1.attn_k.weight"), 3000.0f + kv * dim);
  EXPECT_EQ(first("blk.1.attn_v.weight"), 4000.0f + kv * dim);
  EXPECT_EQ(first("blk.1.attn_output.weight"), 5000.0f + dim * dim);
  EXPECT_EQ(first("blk.1.ffn_norm.weight"), 6000.0f + dim);
  EXPECT_EQ(first("blk.1.ffn_gate.weight"), 7000.0f + hidden * dim);
  EXPECT_EQ(first("blk.1.ffn_down.weight"), 8000.0f + dim * hidden);
  EXPECT_EQ(first("blk.1.ffn_up.weight"), 9000.0f + hidden * dim);
  EXPECT_EQ(first("output_norm.weight"), 10000.0f);
  EXPECT_EQ(first("output.weight"), 12000.0f);  // the classifier after the freq_cis tables
  EXPECT_EQ(mf.tensor("blk.0.ffn_down.weight").dims, (std::vector<int64_t>{hidden, dim}));
}
