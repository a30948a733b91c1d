// llama.cpp's tokenizer test vectors: encode must give exactly the expected ids, and decoding
// them must give the text back.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>

#include "qes/gguf.hpp"
#include "qes/gguf_vocab.hpp"
#include "qes/model_file.hpp"
#include "qes/tokenizer.hpp"
#include "test_data.hpp"

namespace qes {
namespace {

std::string show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

void check_vectors(const Tokenizer& tok, const std::filesystem::path& inp) {
  const auto cases = test::read_vectors(inp);
  ASSERT_EQ(cases.size(), 46u) << inp;
  int passed = 0;
  for (const auto& c : cases) {
    const auto ids = tok.encode(c.text, /*add_special=*/false, /*parse_special=*/false);
    EXPECT_EQ(ids, c.ids) << "text '" << c.text << "'\n got:" << show(ids) << "\nwant:" << show(c.ids);
    EXPECT_EQ(tok.decode(ids), c.text) << "decode(encode(text)) differs for '" << c.text << "'";
    if (ids == c.ids) ++passed;
  }
  std::printf("[ vectors  ] %s: %d/%zu texts encode exactly\n", inp.filename().c_str(), passed, cases.size());
}

Tokenizer tokenizer_from_gguf(const std::filesystem::path& path) {
  return Tokenizer(vocab_from_gguf(gguf::read_gguf(path.string()).metadata));
}

TEST(TokenizerVectors, LlamaSpm) {
  QES_REQUIRE_SHARED_FILE(path, "tokenizer/ggml-vocab-llama-spm.gguf");
  const Tokenizer tok = tokenizer_from_gguf(path);
  EXPECT_EQ(tok.vocab().model, VocabModel::Spm);
  EXPECT_EQ(tok.n_tokens(), 32000);
  check_vectors(tok, path.string() + ".inp");
}

TEST(TokenizerVectors, Gpt2) {
  QES_REQUIRE_SHARED_FILE(path, "tokenizer/ggml-vocab-gpt-2.gguf");
  const Tokenizer tok = tokenizer_from_gguf(path);
  EXPECT_EQ(tok.vocab().model, VocabModel::Bpe);
  EXPECT_EQ(tok.n_tokens(), 50257);
  check_vectors(tok, path.string() + ".inp");
}

TEST(TokenizerVectors, Qwen2FromTokenizerJson) {
  QES_REQUIRE_SHARED_FILE(json, "tokenizer/qwen2-tokenizer.json");
  QES_REQUIRE_SHARED_FILE(inp, "tokenizer/ggml-vocab-qwen2.gguf.inp");
  // CPU time as well as wall time: the build machine is shared, wall time includes waiting.
  const auto cpu_ms = [] { return 1e3 * static_cast<double>(std::clock()) / CLOCKS_PER_SEC; };
  const double c0 = cpu_ms();
  const auto t0 = std::chrono::steady_clock::now();
  Vocab vocab = load_hf_tokenizer(json);
  const auto t1 = std::chrono::steady_clock::now();
  const double c1 = cpu_ms();
  const Tokenizer tok(std::move(vocab));
  const auto t2 = std::chrono::steady_clock::now();
  const double c2 = cpu_ms();
  const auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  std::printf("[ timing   ] qwen2 tokenizer.json load: parse %.1f ms (cpu %.1f), tables %.1f ms (cpu %.1f), "
              "total %.1f ms (cpu %.1f)\n", ms(t0, t1), c1 - c0, ms(t1, t2), c2 - c1, ms(t0, t2), c2 - c0);
  EXPECT_EQ(tok.n_tokens(), 151643 + 26);  // 26 added tokens
  EXPECT_EQ(tok.vocab().merges.size(), 151387u);
  EXPECT_EQ(tok.find("<|im_start|>"), 151644);
  EXPECT_EQ(tok.eos(), 151645) << "eos_token of qwen2-tokenizer_config.json is <|im_end|>";
  EXPECT_TRUE(tok.is_end_of_generation(151643));  // <|endoftext|>
  EXPECT_TRUE(tok.is_end_of_generation(151645));  // <|im_end|>
  check_vectors(tok, inp);
}

}  // namespace
}  // namespace qes
