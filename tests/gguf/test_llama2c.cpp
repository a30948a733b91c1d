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
