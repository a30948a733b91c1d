#include "sampler.hpp"

#include <algorithm>
#include <cmath>

namespace qes {

uint64_t SequenceRng::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

float SequenceRng::uniform() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }

int32_t argmax(const float* logits, int n) {
  int32_t best = 0;
  for (int i = 1; i < n; i++)
    if (logits[i] > logits[best]) best = i;
  return best;
}

int32_t sample_token(float* logits, int n, const SamplingParams& params, SequenceRng& rng, SamplerScratch& scratch) {
  if (params.temperature <= 0.0f) return argmax(logits, n);

  // Probabilities at this temperature (softmax in double for a stable sum).
  float mx = logits[0];
  for (int i = 1; i < n; i++) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int i = 0; i < n; i++) {
    logits[i] = std::exp((logits[i] - mx) / params.temperature);
    sum += logits[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int i = 0; i < n; i++) logits[i] *= inv;

  const bool use_top_k = params.top_k > 0 && params.top_k < n;
  const bool use_top_p = params.top_p > 0.0f && params.top_p < 1.0f;
  const float r = rng.uniform();
  if (!use_top_k && !use_top_p) {
    float cdf = 0;
    for (int i = 0; i < n; i++) {
      cdf += logits[i];
      if (r < cdf) return i;
    }
    return n - 1;  // rounding: the sum fell just short of 1
  }

  // Candidates, most probable first (id breaks ties, so the order is total).
  auto& cand = scratch.candidates;
  cand.clear();
  // A token with p < (1 - top_p) / (n - 1) cannot be in the nucleus (llama2.c's
  // observation): dropping those first keeps the sort small.
  const float floor_p = use_top_p && !use_top_k ? (1.0f - params.top_p) / static_cast<float>(n - 1) : 0.0f;
  for (int i = 0; i < n; i++)
    if (logits[i] >= floor_p) cand.emplace_back(logits[i], i);
  auto by_prob = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  size_t keep = cand.size();
  if (use_top_k && static_cast<size_t>(params.top_k) < cand.size()) {
    keep = static_cast<size_t>(params.top_k);
    std::partial_sort(cand.begin(), cand.begin() + keep, cand.end(), by_prob);
    cand.resize(keep);
  } else {
    std::sort(cand.begin(), cand.end(), by_prob);
  }
  float total = 0;
  for (const auto& c : cand) total += c.first;
  if (use_top_p) {
    // Smallest prefix whose mass (relative to the kept candidates) reaches top_p.
    float cum = 0;
    size_t cut = cand.size();
    for (size_t i = 0; i < cand.size(); i++) {
      cum += cand[i].first;
      if (cum >= params.top_p * total) {
        cut = i + 1;
        break;
      }
    }
    cand.resize(cut);
    total = cum;
  }
  const float target = r * total;
  float cdf = 0;
  for (const auto& c : cand) {
    cdf += c.first;
    if (target < cdf) return c.second;
  }
  return cand.back().second;
}

}  // namespace qes
