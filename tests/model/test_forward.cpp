// The batched forward pass against the plain one-token-at-a-time reference.
#include "qes/generate.hpp"
#include "reference_forward.hpp"
#include "tiny_models.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace qes {
namespace {

std::vector<int32_t> some_tokens(int n, int vocab, int salt) {
  std::vector<int32_t> t;
  for (int i = 0; i < n; i++) t.push_back((i * 37 + salt * 11 + 5) % vocab);
  return t;
}

// max |a - b| / max |b| over one row of logits, the worst row.
double worst_relative_error(const std::vector<float>& got, const std::vector<std::vector<float>>& want, int vocab) {
  double worst = 0;
  for (size_t p = 0; p < want.size(); p++) {
    double err = 0, scale = 1e-6;
    for (int v = 0; v < vocab; v++) {
      err = std::max(err, std::abs(static_cast<double>(got[p * vocab + v]) - want[p][v]));
      scale = std::max(scale, std::abs(static_cast<double>(want[p][v])));
    }
    worst = std::max(worst, err / scale);
  }
  return worst;
}

void compare_with_reference(const ModelConfig& config, DType type, KvType kv, double tolerance) {
  Model model = make_random_model(config, type, 1234, /*tied_output=*/config.arch == Arch::Qwen2);
  const auto tokens = some_tokens(40, config.vocab_size, 3);
  testing::ReferenceForward ref(model);
  std::vector<std::vector<float>> want;
  for (int32_t t : tokens) want.push_back(ref.step(t));

  GeneratorOptions opt;
  opt.batch = 1;
  opt.kv_type = kv;
  Generator gen(model, opt);
  const auto got = gen.prompt_logits(tokens);
  const double err = worst_relative_error(got, want, config.vocab_size);
  EXPECT_LT(err, tolerance) << dtype_name(type) << (kv == KvType::F16 ? " f16 KV" : " f32 KV");
}

TEST(Forward, LlamaF32MatchesReference) { compare_with_reference(testing::tiny_llama_config(), DType::F32, KvType::F32, 1e-4); }
TEST(Forward, Qwen2F32MatchesReference) { compare_with_reference(testing::tiny_qwen2_config(), DType::F32, KvType::F32, 1e-4); }
TEST(Forward, LlamaF32WithF16CacheIsClose) { compare_with_reference(testing::tiny_llama_config(), DType::F32, KvType::F16, 5e-3); }
// Quantized weights: the kernels quantize activations to 8 bits per 32-block (as
// llama.cpp does), the reference does not: a few percent of the largest logit.
TEST(Forward, LlamaQ8_0IsClose) { compare_with_reference(testing::tiny_llama_config(), DType::Q8_0, KvType::F16, 6e-2); }
TEST(Forward, Qwen2Q4_0IsClose) { compare_with_reference(testing::tiny_qwen2_config(), DType::Q4_0, KvType::F16, 6e-2); }

TEST(Forward, RejectsOutOfVocabularyTokens) {
  Model model = make_random_model(testing::tiny_llama_config(), DType::F32, 1);
  Generator gen(model, {});
  std::vector<int32_t> bad{1, 96};
  EXPECT_THROW(gen.prompt_logits(bad), std::invalid_argument);
}

}  // namespace
}  // namespace qes
