#pragma once
// Choosing the next token from logits: greedy, or temperature with top-k and
// top-p, from a per-sequence random stream so each sequence is reproducible on
// its own whatever else runs beside it.
#include "qes/generate.hpp"

#include <cstdint>
#include <utility>
#include <vector>

namespace qes {

// splitmix64: a tiny, well-mixed 64-bit generator; one per sequence.
class SequenceRng {
 public:
  explicit SequenceRng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  float uniform();  // [0, 1), 24 random bits
 private:
  uint64_t state_;
};

// Reusable buffers of one sampler (one per thread or per slot), so sampling
// allocates nothing per token once warm.
struct SamplerScratch {
  std::vector<std::pair<float, int32_t>> candidates;
};

// Index of the largest logit, the lowest on ties.
int32_t argmax(const float* logits, int n);

// `logits` may be overwritten.
int32_t sample_token(float* logits, int n, const SamplingParams& params, SequenceRng& rng, SamplerScratch& scratch);

}  // namespace qes
