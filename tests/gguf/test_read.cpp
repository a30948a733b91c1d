// Reading real third-party GGUF files: metadata getters, tensor views, vocab-only files.
#include <cstring>

#include "qes/gguf.hpp"
#include "qes/model_file.hpp"
#include "test_util.hpp"

using namespace qes;
using gguf::FormatError;

TEST(GgufRead, Stories260KMetadataAndTensors) {
  QES_REQUIRE_SHARED_DATA(data);
  ModelFile mf = gguf::read_gguf(data + "/stories260K-f32.gguf");
  EXPECT_EQ(mf.gguf_version, 3u);
  EXPECT_EQ(mf.alignment, 32u);
  EXPECT_EQ(mf.data_offset, 14176u);
  const auto& m = mf.metadata;
  EXPECT_EQ(m.size(), 19u);
  EXPECT_EQ(m.get_string("general.architecture"), "llama");
  EXPECT_EQ(m.get_u32("llama.block_count"), 5u);
  EXPECT_EQ(m.get_u32("llama.embedding_length"), 64u);
  EXPECT_EQ(m.get_i64("llama.attention.head_count_kv"), 4);
  EXPECT_FLOAT_EQ(m.get_f32("llama.attention.layer_norm_rms_epsilon"), 1e-5f);
  EXPECT_EQ(m.get_u32("tokenizer.ggml.seperator_token_id"), 0xFFFFFFFFu);
  auto tokens = m.get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 512u);
  EXPECT_EQ(tokens[1], "<s>");
  EXPECT_EQ(tokens[259], "\xe2\x96\x81t");
  auto scores = m.get_f32_array("tokenizer.ggml.scores");
  EXPECT_EQ(scores[260], -1.0f);
  auto types = m.get_i32_array("tokenizer.ggml.token_type");
  EXPECT_EQ(types[0], 2);
  EXPECT_EQ(types[3], 6);

  ASSERT_EQ(mf.tensors.size(), 48u);
  const TensorView& q = mf.tensor("blk.0.attn_k.weight");
  EXPECT_EQ(q.dims, (std::vector<int64_t>{64, 32}));
  QuantMatrix qm = q.matrix();
  EXPECT_EQ(qm.type, DType::F32);
  EXPECT_EQ(qm.rows, 32);
  EXPECT_EQ(qm.cols, 64);
  EXPECT_EQ(qm.size_bytes(), 8192u);
  // In place: the view points into the mapping at data_offset + offset.
  auto bytes = test::read_bytes(data + "/stories260K-f32.gguf");
  EXPECT_EQ(std::memcmp(qm.data, bytes.data() + mf.data_offset + q.offset, qm.size_bytes()), 0);
  EXPECT_EQ(mf.total_tensor_bytes(), 1171200u);
}

TEST(GgufRead, GetterErrorsNameFileAndKey) {
  QES_REQUIRE_SHARED_DATA(data);
  ModelFile mf = gguf::read_gguf(data + "/stories260K-f32.gguf");
  const auto& m = mf.metadata;
  try {
    m.get_u32("llama.nope");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("stories260K-f32.gguf: metadata key 'llama.nope': missing"), std::string::npos) << e.what();
  }
  EXPECT_THROW(m.get_string("llama.block_count"), FormatError);
  EXPECT_THROW(m.get_u32("general.name"), FormatError);
  EXPECT_THROW(m.get_f32_array("tokenizer.ggml.tokens"), FormatError);
  EXPECT_THROW(m.get_i32("tokenizer.ggml.padding_token_id"), FormatError);  // 0xFFFFFFFF does not fit i32
  EXPECT_EQ(m.get_u32_or("llama.nope", 7), 7u);
  try {
    mf.tensor("blk.9.attn_q.weight");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("missing tensor 'blk.9.attn_q.weight'"), std::string::npos);
  }
}

TEST(GgufRead, OllamaF16File) {
  QES_REQUIRE_SHARED_DATA(data);
  ModelFile mf = load_model_file(data + "/llama-2-tiny-random.gguf");
  EXPECT_EQ(mf.metadata.get_u32("general.file_type"), 1u);
  EXPECT_EQ(mf.metadata.get_string_array("tokenizer.ggml.tokens").size(), 32000u);
  ASSERT_EQ(mf.tensors.size(), 12u);
  QuantMatrix e = mf.matrix("token_embd.weight");
  EXPECT_EQ(e.type, DType::F16);
  EXPECT_EQ(e.rows, 32000);
  EXPECT_EQ(e.cols, 8);
  EXPECT_EQ(mf.matrix("output_norm.weight").type, DType::F32);
}

TEST(GgufRead, VocabOnlyFilesLoad) {
  QES_REQUIRE_SHARED_DATA(data);
  ModelFile spm = gguf::read_gguf(data + "/tokenizer/ggml-vocab-llama-spm.gguf");
  EXPECT_TRUE(spm.tensors.empty());
  EXPECT_EQ(spm.metadata.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_TRUE(spm.metadata.get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_FALSE(spm.metadata.get_bool("tokenizer.ggml.add_eos_token"));
  ModelFile gpt2 = gguf::read_gguf(data + "/tokenizer/ggml-vocab-gpt-2.gguf");
  EXPECT_EQ(gpt2.metadata.get_string_array("tokenizer.ggml.tokens").size(), 50257u);
  auto merges = gpt2.metadata.get_string_array("tokenizer.ggml.merges");
  ASSERT_EQ(merges.size(), 50000u);
  EXPECT_EQ(merges[0], "\xc4\xa0 t");
}

TEST(GgufRead, CopyOnWriteNeverTouchesTheFile) {
  QES_REQUIRE_SHARED_DATA(data);
  test::TempDir dir;
  std::string path = dir.path("m.gguf");
  test::write_bytes(path, test::read_bytes(data + "/stories260K-f32.gguf"));
  auto before = test::read_bytes(path);
  {
    ModelFile mf = gguf::read_gguf(path, gguf::MapMode::CopyOnWrite);
    QuantMatrix m = mf.matrix("blk.0.attn_q.weight");
    static_cast<float*>(m.data)[0] = 12345.0f;
    EXPECT_EQ(static_cast<float*>(m.data)[0], 12345.0f);
  }
  EXPECT_EQ(test::read_bytes(path), before);
}
