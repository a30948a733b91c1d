#pragma once
// Batched generation: the evaluator QES calls for every population member.
//
//   // once (generate_text.hpp): copy-on-write mapping, so codes can be perturbed in place
//   qes::ModelBundle b = qes::load_model_bundle(path, "", true, qes::gguf::MapMode::CopyOnWrite);
//   qes::Generator gen(b.model, {.batch = 32});
//   qes::TokenizerDecoder decoder(*b.tokenizer);
//   std::vector<qes::GenerationRequest> reqs = ...;   // encode_prompt()/encode_chat() ids, limits, sampling
//   // per member: apply its perturbation to the codes, then
//   qes::GenerationStats stats;
//   std::vector<qes::GenerationResult> out = gen.generate(reqs, &stats, &decoder);  // texts, tokens
//   // restore the codes; reward from out[i].text
//
// The Generator keeps its KV cache and buffers between calls (one call at a
// time per Generator). Weights are read through the model's views on every
// step, so codes changed between calls are seen by the next call.
//
// Up to `batch` sequences run at once. Each step feeds one token per decoding
// sequence plus chunks of the prompts of newly admitted sequences through the
// batched GEMM (continuous batching: a finished slot is refilled from the queue
// at once, so the batch stays full). Every sequence stops on its own: an EOS id,
// a stop string, max_tokens, or the end of its KV cache slot.
//
// Determinism: a sequence's tokens depend only on its request (prompt, sampling,
// seed), never on the thread count or on which other sequences share the batch.
// The kernels are row-parallel, attention is computed per (sequence, head) in a
// fixed order, and each sequence draws from its own random stream.
#include "qes/model.hpp"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace qes {

enum class KvType { F16, F32 };

struct SamplingParams {
  float temperature = 0.0f;  // 0 = greedy (argmax, lowest id on ties)
  int top_k = 0;             // 0 = off
  float top_p = 1.0f;        // 1 = off
  uint64_t seed = 0;         // per sequence: the same seed gives the same tokens
};

struct GenerationRequest {
  std::vector<int32_t> prompt;          // token ids, BOS included if the model wants one; not empty
  int max_tokens = 256;                 // new tokens at most
  SamplingParams sampling;
  std::vector<std::string> stop;        // stop strings (need a TokenDecoder); not part of the text
  std::vector<int32_t> stop_tokens;     // in addition to the model's EOS ids
  bool ignore_eos = false;              // benchmarks: always run max_tokens
};

enum class FinishReason { Eos, StopString, MaxTokens, ContextFull };
const char* finish_reason_name(FinishReason r);

struct GenerationResult {
  std::vector<int32_t> tokens;          // generated ids (the stopping EOS excluded)
  std::string text;                     // decoded text, cut before a stop string (empty without a decoder)
  int prompt_tokens = 0;
  FinishReason finish = FinishReason::MaxTokens;
};

struct GenerationStats {
  int64_t prefill_tokens = 0;           // prompt tokens fed
  int64_t decode_tokens = 0;            // tokens fed after their prompt (one per generated token but the last)
  int64_t generated_tokens = 0;         // tokens sampled
  double prefill_seconds = 0;           // step time shared between prefill and decode rows by row count
  double decode_seconds = 0;
  double total_seconds = 0;             // wall time of generate()
  int64_t steps = 0;
  size_t kv_cache_bytes = 0;
  size_t activation_bytes = 0;          // per-step buffers (activations + logits)
  double prefill_tokens_per_s() const { return prefill_seconds > 0 ? prefill_tokens / prefill_seconds : 0; }
  double decode_tokens_per_s() const { return decode_seconds > 0 ? decode_tokens / decode_seconds : 0; }
  double generated_tokens_per_s() const { return total_seconds > 0 ? generated_tokens / total_seconds : 0; }
};

// Turns token ids into bytes, for texts and stop strings. The tokenizer adapts
// to it (TokenizerDecoder in generate_text.hpp), so the generator does
// not depend on a tokenizer implementation.
class TokenDecoder {
 public:
  virtual ~TokenDecoder() = default;
  // The bytes `token` adds after `previous` (the last prompt token for the first generated one).
  virtual std::string piece(int32_t previous, int32_t token) const = 0;
};

struct GeneratorOptions {
  int batch = 16;             // sequences decoded at once (KV cache slots)
  // Positions per slot; 0 = the longest prompt + max_tokens of the requests. Not
  // capped at the model's context_length (llama.cpp's llama2.c converter records
  // 128 for stories260K, whose golden text runs to 256): callers warn instead.
  int max_context = 0;
  int max_step_rows = 256;    // tokens per forward step (prefill chunks + decode rows); at least batch
  KvType kv_type = KvType::F16;
  // A step runs on all threads only when it reads at least this many weight
  // bytes (weights per token x rows): tiny models are faster on one thread
  // than through barriers. Tests set 0 to exercise the parallel path.
  double parallel_min_bytes = 4e6;
};

class Generator {
 public:
  Generator(const Model& model, GeneratorOptions options);
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Runs every request to completion; results in request order. Buffers and the
  // KV cache are sized on the first call (and grown only if a later call needs
  // longer contexts), never per token.
  std::vector<GenerationResult> generate(std::span<const GenerationRequest> requests,
                                         GenerationStats* stats = nullptr,
                                         const TokenDecoder* decoder = nullptr);

  // KV cache bytes for `slots` sequences of `context` positions.
  static size_t kv_cache_bytes(const ModelConfig& config, int slots, int context, KvType type);

  // Logits of every position of one sequence (vocab floats per token), computed
  // through the same batched path. For tests against reference implementations.
  std::vector<float> prompt_logits(std::span<const int32_t> tokens);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qes
