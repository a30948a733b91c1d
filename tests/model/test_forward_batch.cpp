// The forward pass's logits for a sequence are bit-identical whatever shares
// its step: other sequences' rows, prefill chunks, 1 or 2 threads.
#include "forward.hpp"
#include "qes/topology.hpp"
#include "tiny_models.hpp"

#include <gtest/gtest.h>

namespace qes {
namespace {

// Logits of slot 0's tokens fed one per step, with `others` extra slots feeding
// their own tokens in the same steps (all rows want logits).
std::vector<float> slot0_logits(const Model& model, const std::vector<int32_t>& tokens, int others, KvType kv) {
  const int vocab = model.config.vocab_size;
  KvCache cache(model.config, 1 + others, 64, kv);
  ForwardPass fwd(model, cache, 80, 80, /*parallel_min_bytes=*/0);
  std::vector<float> logits(static_cast<size_t>(80) * vocab), out;
  for (size_t p = 0; p < tokens.size(); p++) {
    std::vector<StepRow> rows;
    // Other slots first, so slot 0's row sits at a different batch index (and,
    // with 70 other rows, in the second kernel chunk of 64).
    for (int s = 1; s <= others; s++) rows.push_back({s, static_cast<int>(p), (tokens[p] * 7 + s) % vocab, true});
    rows.push_back({0, static_cast<int>(p), tokens[p], true});
    fwd.run(rows, logits.data());
    out.insert(out.end(), logits.begin() + static_cast<size_t>(others) * vocab, logits.begin() + static_cast<size_t>(others + 1) * vocab);
  }
  return out;
}

class ForwardBatch : public ::testing::TestWithParam<DType> {};

TEST_P(ForwardBatch, LogitsAreBitIdenticalWhateverSharesTheStep) {
  const Model model = make_random_model(testing::tiny_qwen2_config(), GetParam(), 42);
  const std::vector<int32_t> tokens{3, 17, 99, 5, 64, 150, 2, 8};
  const int before = thread_count();
  set_threads(2);
  const auto alone = slot0_logits(model, tokens, 0, KvType::F16);
  EXPECT_EQ(alone, slot0_logits(model, tokens, 3, KvType::F16));
  EXPECT_EQ(alone, slot0_logits(model, tokens, 70, KvType::F16));
  set_threads(1);
  EXPECT_EQ(alone, slot0_logits(model, tokens, 5, KvType::F16));
  set_threads(before);

  // Prefill: all tokens in one step give the same logits as one per step.
  const int vocab = model.config.vocab_size;
  KvCache cache(model.config, 1, 64, KvType::F16);
  ForwardPass fwd(model, cache, 80, 80, 0);
  std::vector<StepRow> rows;
  for (size_t p = 0; p < tokens.size(); p++) rows.push_back({0, static_cast<int>(p), tokens[p], true});
  std::vector<float> prefill(tokens.size() * vocab);
  fwd.run(rows, prefill.data());
  EXPECT_EQ(alone, prefill);
}

INSTANTIATE_TEST_SUITE_P(Types, ForwardBatch, ::testing::Values(DType::F32, DType::F16, DType::Q8_0, DType::Q4_0, DType::Q4_1));

}  // namespace
}  // namespace qes
