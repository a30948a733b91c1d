// Third-party oracles (DESIGN.md §7): stories260K's golden continuation, in the
// llama2.c checkpoint and in llama.cpp's GGUF conversion; ollama's tiny random GGUF.
#include "qes/generate_text.hpp"
#include "qes/matmul.hpp"
#include "qes/quantize_model.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace qes {
namespace {

std::string data_dir() {
  const char* env = std::getenv("QES_SHARED_DATA");
  return env ? env : QES_SHARED_DATA;
}

#define REQUIRE_DATA(file)                                                                  \
  if (!std::filesystem::exists(data_dir() + "/" + (file)))                                  \
  GTEST_SKIP() << "shared test data not found: " << data_dir() << "/" << (file) << " (set QES_SHARED_DATA)"

// The fenced block after "## Golden output" in the data README.
std::string golden_text() {
  std::ifstream in(data_dir() + "/README.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  const size_t section = readme.find("## Golden output");
  const size_t open = readme.find("```\n", section);
  const size_t close = readme.find("\n```", open + 4);
  if (section == std::string::npos || open == std::string::npos || close == std::string::npos) return {};
  return readme.substr(open + 4, close - open - 4);
}

std::string greedy_from_bos(const std::string& model, const std::string& tokenizer, int batch_copies = 1) {
  ModelBundle b = load_model_bundle(model, tokenizer);
  GenerationRequest r;
  r.prompt = encode_prompt(*b.tokenizer, "");
  r.max_tokens = 256;
  GeneratorOptions opt;
  opt.batch = batch_copies;
  Generator gen(b.model, opt);
  TokenizerDecoder dec(*b.tokenizer);
  std::vector<GenerationRequest> reqs(batch_copies, r);
  const auto out = gen.generate(reqs, nullptr, &dec);
  for (const auto& o : out) EXPECT_EQ(o.text, out[0].text);
  return out[0].text;
}

TEST(Oracles, Stories260KLlama2cGreedyIsGolden) {
  REQUIRE_DATA("stories260K.bin");
  const std::string golden = golden_text();
  ASSERT_GT(golden.size(), 100u) << "golden text not found in README.md";
  EXPECT_EQ(greedy_from_bos(data_dir() + "/stories260K.bin", data_dir() + "/tok512.bin"), golden);
}

TEST(Oracles, Stories260KGgufGreedyIsGolden) {
  REQUIRE_DATA("stories260K-f32.gguf");
  // Its own SPM vocabulary from the GGUF metadata, and a batch of copies of the same request.
  EXPECT_EQ(greedy_from_bos(data_dir() + "/stories260K-f32.gguf", "", 3), golden_text());
}

TEST(Oracles, Stories260KContinuesAPromptLikeFromBos) {
  REQUIRE_DATA("stories260K.bin");
  // Greedy from "Once upon a time" is the golden text from that point (the
  // prompt's tokens are exactly the golden's first tokens).
  ModelBundle b = load_model_bundle(data_dir() + "/stories260K.bin", data_dir() + "/tok512.bin");
  const std::string golden = golden_text();
  GenerationRequest r;
  r.prompt = encode_prompt(*b.tokenizer, "Once upon a time");
  r.max_tokens = 40;
  Generator gen(b.model, {});
  TokenizerDecoder dec(*b.tokenizer);
  const auto out = gen.generate(std::vector{r}, nullptr, &dec)[0];
  EXPECT_EQ("Once upon a time" + out.text, golden.substr(0, 16 + out.text.size()));
}

// Greedy text of stories260K quantized by `qes quantize`'s code path, and how
// many leading characters it shares with the golden text.
size_t quantized_agreement(DType type, std::string* text) {
  const std::string out = (std::filesystem::temp_directory_path() /
                           ("qes_test_stories_" + std::string(dtype_name(type)) + "_" + std::to_string(::getpid()) + ".gguf"))
                              .string();
  LoadOptions lo;
  lo.tokenizer_path = data_dir() + "/tok512.bin";
  QuantizeOptions qo;
  qo.type = type;
  quantize_model(load_model_file(data_dir() + "/stories260K.bin", lo), out, qo);
  *text = greedy_from_bos(out, "");
  std::filesystem::remove(out);
  const std::string golden = golden_text();
  size_t same = 0;
  while (same < text->size() && same < golden.size() && (*text)[same] == golden[same]) same++;
  return same;
}

TEST(Oracles, Stories260KQ8_0KeepsTheGoldenStart) {
  REQUIRE_DATA("stories260K.bin");
  std::string text;
  const size_t same = quantized_agreement(DType::Q8_0, &text);
  std::printf("q8_0: the first %zu characters agree with the golden text\n", same);
  EXPECT_GE(same, 200u) << text;
}

TEST(Oracles, Stories260KQ4_0IsReported) {
  REQUIRE_DATA("stories260K.bin");
  std::string text;
  const size_t same = quantized_agreement(DType::Q4_0, &text);
  std::printf("q4_0: the first %zu characters agree with the golden text:\n%s\n", same, text.substr(0, 300).c_str());
  EXPECT_GE(same, 16u) << "q4_0 should at least start the story";
}

// The Q8_0 oracle on every x86 path this CPU runs, not only the best one: the
// quantized kernels sum in the scalar reference's order on all of them (the
// float ops still sum in each path's own order, so late text may differ).
TEST(Oracles, Stories260KQ8_0KeepsTheGoldenStartOnEveryX86Path) {
  REQUIRE_DATA("stories260K.bin");
  std::vector<Isa> paths;
  for (Isa isa : runnable_isas())
    if (isa == Isa::Avx2 || isa == Isa::Avx512 || isa == Isa::Avx512Vnni) paths.push_back(isa);
  if (paths.empty()) GTEST_SKIP() << "no x86 SIMD path runs here";
  const Isa before = active_isa();
  for (Isa isa : paths) {
    force_isa(isa);
    std::string text;
    const size_t q8 = quantized_agreement(DType::Q8_0, &text);
    const size_t q4 = quantized_agreement(DType::Q4_0, &text);
    std::printf("%s: q8_0 agrees for %zu characters, q4_0 for %zu\n", isa_name(isa).data(), q8, q4);
    EXPECT_GE(q8, 200u) << isa_name(isa);
  }
  force_isa(before);
}

TEST(Oracles, TinyRandomLlamaGgufLoadsAndGenerates) {
  REQUIRE_DATA("llama-2-tiny-random.gguf");
  ModelBundle b = load_model_bundle(data_dir() + "/llama-2-tiny-random.gguf");
  EXPECT_EQ(b.model.config.vocab_size, 32000);
  EXPECT_EQ(b.model.config.n_layers, 1);
  EXPECT_EQ(b.model.config.dim, 8);
  GenerationRequest r;
  r.prompt = encode_prompt(*b.tokenizer, "Hello world");
  r.max_tokens = 12;
  r.ignore_eos = true;
  Generator gen(b.model, {});
  TokenizerDecoder dec(*b.tokenizer);
  GenerationStats st;
  const auto out = gen.generate(std::vector{r, r}, &st, &dec);
  EXPECT_EQ(out[0].tokens.size(), 12u);
  EXPECT_EQ(out[0].tokens, out[1].tokens);
  EXPECT_FALSE(out[0].text.empty());
  EXPECT_EQ(st.generated_tokens, 24);
}

TEST(Oracles, MissingFilesAreClearErrors) {
  EXPECT_THROW(load_model_bundle("/nonexistent/model.gguf"), std::exception);
  try {
    load_model_bundle("/nonexistent/model.gguf");
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qes
