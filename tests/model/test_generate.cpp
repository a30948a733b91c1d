// Batched generation: per-sequence results independent of the batch, the
// chunking and the thread count; stopping rules; statistics.
#include "qes/generate.hpp"
#include "qes/matmul.hpp"
#include "qes/topology.hpp"
#include "tiny_models.hpp"

#include <gtest/gtest.h>

namespace qes {
namespace {

std::vector<GenerationRequest> mixed_requests(int n, int vocab, bool sampled) {
  std::vector<GenerationRequest> reqs;
  for (int i = 0; i < n; i++) {
    GenerationRequest r;
    const int len = 1 + (i * 7) % 23;  // prompts of 1..23 tokens
    for (int j = 0; j < len; j++) r.prompt.push_back((i * 13 + j * 5 + 3) % vocab);
    r.max_tokens = 5 + (i * 11) % 30;
    r.ignore_eos = i % 3 == 0;
    if (sampled) {
      r.sampling.temperature = 0.8f + 0.1f * (i % 3);
      r.sampling.top_k = i % 2 ? 20 : 0;
      r.sampling.top_p = i % 4 == 1 ? 0.9f : 1.0f;
      r.sampling.seed = 1000 + i;
    }
    reqs.push_back(r);
  }
  return reqs;
}

std::vector<GenerationResult> run(const Model& m, const std::vector<GenerationRequest>& reqs, int batch, int step_rows,
                                  GenerationStats* stats = nullptr, double parallel_min_bytes = 0) {
  GeneratorOptions opt;
  opt.batch = batch;
  opt.max_step_rows = step_rows;
  opt.parallel_min_bytes = parallel_min_bytes;
  Generator gen(m, opt);
  return gen.generate(reqs, stats);
}

void expect_same_tokens(const std::vector<GenerationResult>& a, const std::vector<GenerationResult>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); i++) {
    EXPECT_EQ(a[i].tokens, b[i].tokens) << "request " << i;
    EXPECT_EQ(a[i].finish, b[i].finish) << "request " << i;
  }
}

class BatchInvariance : public ::testing::TestWithParam<std::tuple<bool, bool, DType>> {};

// A sequence's tokens are the same generated alone, in a full batch with
// continuous refills, and with prefill cut into small chunks.
TEST_P(BatchInvariance, SameTokensAloneOrBatched) {
  const auto [qwen, sampled, type] = GetParam();
  const ModelConfig cfg = qwen ? testing::tiny_qwen2_config() : testing::tiny_llama_config();
  const Model model = make_random_model(cfg, type, 77, qwen);
  const auto reqs = mixed_requests(11, cfg.vocab_size, sampled);

  std::vector<GenerationResult> alone;
  for (const auto& r : reqs) alone.push_back(run(model, {r}, 1, 256)[0]);
  GenerationStats st;
  const auto batched = run(model, reqs, 4, 256, &st);
  expect_same_tokens(alone, batched);
  expect_same_tokens(alone, run(model, reqs, 5, 6));  // prefill in chunks of a few rows beside decode rows
  expect_same_tokens(alone, run(model, reqs, 16, 16));  // more slots than requests
  expect_same_tokens(alone, run(model, reqs, 4, 256, nullptr, 1e300));  // on one thread

  int64_t generated = 0;
  for (const auto& r : batched) {
    EXPECT_GE(r.tokens.size(), 1u);
    generated += static_cast<int64_t>(r.tokens.size());
  }
  EXPECT_GE(st.generated_tokens, generated);
  EXPECT_GT(st.kv_cache_bytes, 0u);
  EXPECT_GT(st.prefill_tokens, 0);
}

INSTANTIATE_TEST_SUITE_P(Model, BatchInvariance,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool(),
                                            ::testing::Values(DType::F32, DType::Q8_0, DType::Q4_0)));

// A prefill step of more rows than one kernel call takes (kMaxBatch) cuts
// each linear layer's input into chunks; the tokens stay those of each
// sequence alone.
TEST(Generate, SameTokensWhenAStepExceedsAKernelBatch) {
  for (const DType type : {DType::Q4_0, DType::F32}) {
    const Model model = make_random_model(testing::tiny_llama_config(), type, 31, false);
    std::vector<GenerationRequest> reqs;
    for (int i = 0; i < 3; i++) {
      GenerationRequest r;
      for (int j = 0; j < 150 - 20 * i; j++) r.prompt.push_back((i * 11 + j * 7 + 2) % model.config.vocab_size);
      r.max_tokens = 12;
      r.ignore_eos = true;
      r.sampling.temperature = 1.0f;  // tokens that depend on every logit
      r.sampling.seed = 100 + i;
      reqs.push_back(r);
    }
    std::vector<GenerationResult> alone;
    for (const auto& r : reqs) alone.push_back(run(model, {r}, 1, 64)[0]);
    const auto together = run(model, reqs, 3, 3 * 150);  // one prefill step of 390 rows
    ASSERT_GT(kMaxBatch, 150);
    ASSERT_LT(kMaxBatch, 390);
    expect_same_tokens(alone, together);
  }
}

TEST(Generate, SameTokensForAnyThreadCount) {
  const Model model = make_random_model(testing::tiny_qwen2_config(), DType::Q4_0, 5);
  const auto reqs = mixed_requests(9, model.config.vocab_size, true);
  const int before = thread_count();
  set_threads(1);
  const auto one = run(model, reqs, 4, 32);
  set_threads(2);
  const auto two = run(model, reqs, 4, 32);
  set_threads(before);
  expect_same_tokens(one, two);
}

TEST(Generate, SeedsChangeSampledTokensAndAreReproducible) {
  const Model model = make_random_model(testing::tiny_llama_config(), DType::F32, 9);
  GenerationRequest r;
  r.prompt = {1, 5, 7};
  r.max_tokens = 40;
  r.ignore_eos = true;
  r.sampling.temperature = 1.5f;
  r.sampling.seed = 1;
  auto r2 = r;
  r2.sampling.seed = 2;
  const auto out = run(model, {r, r2, r}, 3, 64);
  EXPECT_EQ(out[0].tokens, out[2].tokens);
  EXPECT_NE(out[0].tokens, out[1].tokens);
}

class SpacedDecoder : public TokenDecoder {
 public:
  std::string piece(int32_t, int32_t token) const override { return "<" + std::to_string(token) + ">"; }
};

TEST(Generate, StopsOnStopStringsTokensAndLimits) {
  const Model model = make_random_model(testing::tiny_llama_config(), DType::F32, 21);
  GenerationRequest base;
  base.prompt = {1, 4};
  base.max_tokens = 30;
  base.ignore_eos = true;
  base.sampling.temperature = 1.0f;  // varied tokens
  base.sampling.seed = 4;
  SpacedDecoder dec;
  Generator gen(model, {});
  const auto free_run = gen.generate(std::vector{base}, nullptr, &dec)[0];
  ASSERT_EQ(free_run.tokens.size(), 30u);
  EXPECT_EQ(free_run.finish, FinishReason::MaxTokens);
  EXPECT_EQ(free_run.prompt_tokens, 2);

  // A stop string straddling the pieces of the 5th and 6th tokens.
  const std::string t4 = std::to_string(free_run.tokens[4]), t5 = std::to_string(free_run.tokens[5]);
  const std::string stop = t4 + "><" + t5.substr(0, 1);
  const size_t cut = free_run.text.find(stop);
  size_t tokens_to_stop = 0, covered = 0;
  while (covered < cut + stop.size()) covered += dec.piece(-1, free_run.tokens[tokens_to_stop++]).size();
  auto by_string = base;
  by_string.stop = {"never", stop};
  const auto s = gen.generate(std::vector{by_string}, nullptr, &dec)[0];
  EXPECT_EQ(s.finish, FinishReason::StopString);
  EXPECT_EQ(s.text, free_run.text.substr(0, cut));
  EXPECT_EQ(s.tokens.size(), tokens_to_stop);

  auto by_token = base;
  by_token.stop_tokens = {free_run.tokens[3]};
  const auto t = gen.generate(std::vector{by_token}, nullptr, nullptr)[0];
  EXPECT_EQ(t.finish, FinishReason::Eos);
  ASSERT_LE(t.tokens.size(), 3u);
  for (size_t i = 0; i < t.tokens.size(); i++) EXPECT_EQ(t.tokens[i], free_run.tokens[i]);
  for (int32_t tok : t.tokens) EXPECT_NE(tok, free_run.tokens[3]);

  GeneratorOptions small;
  small.max_context = 10;
  Generator short_gen(model, small);
  const auto c = short_gen.generate(std::vector{base})[0];
  EXPECT_EQ(c.finish, FinishReason::ContextFull);
  EXPECT_EQ(c.tokens.size(), 9u);  // positions 0..9: 2 prompt tokens + 8 fed + the last sampled
}

TEST(Generate, RejectsBadRequests) {
  const Model model = make_random_model(testing::tiny_llama_config(), DType::F32, 1);
  Generator gen(model, {});
  GenerationRequest empty;
  EXPECT_THROW(gen.generate(std::vector{empty}), std::invalid_argument);
  GenerationRequest oov;
  oov.prompt = {1, 1000};
  EXPECT_THROW(gen.generate(std::vector{oov}), std::invalid_argument);
}

}  // namespace
}  // namespace qes

namespace qes {
namespace {

// The trainer may call the generator from inside its own parallel region:
// nested regions get one thread, and the result stays the same.
TEST(Generate, SameTokensFromInsideAParallelRegion) {
  const Model model = make_random_model(testing::tiny_qwen2_config(), DType::Q8_0, 8);
  const auto reqs = mixed_requests(6, model.config.vocab_size, false);
  const auto outside = run(model, reqs, 3, 32);
  std::vector<GenerationResult> inside;
#pragma omp parallel num_threads(2)
  {
#pragma omp single
    inside = run(model, reqs, 3, 32);
  }
  expect_same_tokens(outside, inside);
}

}  // namespace
}  // namespace qes
