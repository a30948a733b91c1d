// Continuous batching over a fixed set of KV cache slots (see generate.hpp).
#include "forward.hpp"
#include "kv_cache.hpp"
#include "qes/generate.hpp"
#include "sampler.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

namespace qes {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::Eos: return "eos";
    case FinishReason::StopString: return "stop";
    case FinishReason::MaxTokens: return "length";
    case FinishReason::ContextFull: return "context";
  }
  return "?";
}

size_t Generator::kv_cache_bytes(const ModelConfig& config, int slots, int context, KvType type) {
  return KvCache::bytes_for(config, slots, context, type);
}

namespace {

struct Slot {
  int request = -1;          // index into the requests, -1 when free
  int pos = 0;               // tokens of this sequence already in the KV cache
  size_t prompt_fed = 0;     // prompt tokens already scheduled
  int32_t next_token = 0;    // the sampled token to feed next (decoding)
  size_t text_checked = 0;   // stop strings were searched up to here
  SequenceRng rng{0};
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

struct Generator::Impl {
  const Model& model;
  GeneratorOptions options;
  std::unique_ptr<KvCache> cache;
  std::unique_ptr<ForwardPass> forward;
  std::vector<float> logits;             // [slot-order logit rows][vocab]
  std::vector<StepRow> rows;
  std::vector<int> logit_slot;           // slot of each logit row of the step
  std::vector<SamplerScratch> scratch;   // one per slot
  std::vector<int32_t> sampled;          // one per logit row

  Impl(const Model& m, GeneratorOptions o) : model(m), options(o) {
    if (options.batch < 1) throw std::invalid_argument("generator: batch must be at least 1");
    options.max_step_rows = std::max(options.max_step_rows, options.batch);
  }

  // Buffers for `slots` sequences of `context` positions; reallocated only when a
  // call needs more than the last one.
  void ensure_capacity(int slots, int context) {
    if (cache && cache->slots() >= slots && cache->context() >= context) return;
    if (cache) {
      slots = std::max(slots, cache->slots());
      context = std::max(context, cache->context());
    }
    forward.reset();
    cache.reset();
    cache = std::make_unique<KvCache>(model.config, slots, context, options.kv_type);
    const int max_rows = std::max(options.max_step_rows, slots);
    forward = std::make_unique<ForwardPass>(model, *cache, max_rows, slots, options.parallel_min_bytes);
    logits.assign(static_cast<size_t>(slots) * model.config.vocab_size, 0.0f);
    rows.reserve(max_rows);
    logit_slot.reserve(slots);
    scratch.resize(slots);
    sampled.resize(slots);
  }

  int context_for(std::span<const GenerationRequest> requests) const {
    if (options.max_context > 0) return options.max_context;
    size_t longest = 1;
    for (const auto& r : requests) longest = std::max(longest, r.prompt.size() + static_cast<size_t>(std::max(r.max_tokens, 0)));
    return static_cast<int>(longest);
  }

  void validate(std::span<const GenerationRequest> requests, int context) const {
    for (size_t i = 0; i < requests.size(); i++) {
      const auto& r = requests[i];
      if (r.prompt.empty()) throw std::invalid_argument("generate: request " + std::to_string(i) + " has an empty prompt");
      if (static_cast<int>(r.prompt.size()) > context)
        throw std::invalid_argument("generate: request " + std::to_string(i) + " has a prompt of " +
                                    std::to_string(r.prompt.size()) + " tokens, longer than the context of " +
                                    std::to_string(context));
      for (int32_t t : r.prompt)
        if (t < 0 || t >= model.config.vocab_size)
          throw std::invalid_argument("generate: request " + std::to_string(i) + " has token id " + std::to_string(t) +
                                      " outside the vocabulary of " + std::to_string(model.config.vocab_size));
    }
  }

  bool is_stop_token(const GenerationRequest& req, int32_t t) const {
    if (std::find(req.stop_tokens.begin(), req.stop_tokens.end(), t) != req.stop_tokens.end()) return true;
    if (req.ignore_eos) return false;
    // A sampled BOS ends a text too: llama2.c's stories stop there.
    const ModelConfig& c = model.config;
    if (t == c.eos_id || t == c.bos_id) return true;
    return std::find(c.extra_eos_ids.begin(), c.extra_eos_ids.end(), t) != c.extra_eos_ids.end();
  }

  // Appends the sampled token; returns true when the sequence is finished.
  bool accept(const GenerationRequest& req, GenerationResult& res, Slot& slot, int32_t t, const TokenDecoder* decoder) {
    if (is_stop_token(req, t)) {
      res.finish = FinishReason::Eos;
      return true;
    }
    const int32_t previous = res.tokens.empty() ? req.prompt.back() : res.tokens.back();
    res.tokens.push_back(t);
    if (decoder) {
      res.text += decoder->piece(previous, t);
      if (!req.stop.empty()) {
        size_t longest = 0;
        for (const auto& s : req.stop) longest = std::max(longest, s.size());
        // A stop string may straddle the previous end: search from there, less its length.
        const size_t from = slot.text_checked >= longest ? slot.text_checked - longest + 1 : 0;
        size_t cut = std::string::npos;
        for (const auto& s : req.stop) {
          if (s.empty()) continue;
          const size_t at = res.text.find(s, from);
          if (at != std::string::npos) cut = std::min(cut, at);
        }
        slot.text_checked = res.text.size();
        if (cut != std::string::npos) {
          res.text.resize(cut);
          res.finish = FinishReason::StopString;
          return true;
        }
      }
    }
    if (static_cast<int>(res.tokens.size()) >= req.max_tokens) {
      res.finish = FinishReason::MaxTokens;
      return true;
    }
    if (slot.pos >= cache->context()) {
      res.finish = FinishReason::ContextFull;
      return true;
    }
    slot.next_token = t;
    return false;
  }

  std::vector<GenerationResult> generate(std::span<const GenerationRequest> requests, GenerationStats* stats,
                                         const TokenDecoder* decoder) {
    const auto t_start = std::chrono::steady_clock::now();
    std::vector<GenerationResult> results(requests.size());
    if (requests.empty()) return results;
    const int context = context_for(requests);
    validate(requests, context);
    const int n_slots = std::min<int>(options.batch, static_cast<int>(requests.size()));
    ensure_capacity(n_slots, context);
    const int vocab = model.config.vocab_size;
    const int slot_count = std::min(n_slots, cache->slots());

    GenerationStats st;
    st.kv_cache_bytes = cache->bytes();
    st.activation_bytes = forward->buffer_bytes() + logits.size() * sizeof(float);

    std::vector<Slot> slots(slot_count);
    size_t next_request = 0;
    int active = 0;

    while (next_request < requests.size() || active > 0) {
      // Refill free slots from the queue.
      for (auto& s : slots) {
        while (s.request < 0 && next_request < requests.size()) {
          const int id = static_cast<int>(next_request++);
          results[id].prompt_tokens = static_cast<int>(requests[id].prompt.size());
          if (requests[id].max_tokens <= 0) {
            results[id].finish = FinishReason::MaxTokens;
            continue;
          }
          s = Slot{};
          s.request = id;
          s.rng = SequenceRng(requests[id].sampling.seed);
          active++;
        }
      }
      if (active == 0) break;

      // One decode row per decoding slot, then prompt chunks within the row budget.
      rows.clear();
      logit_slot.clear();
      int64_t decode_rows = 0;
      for (int i = 0; i < slot_count; i++) {
        Slot& s = slots[i];
        if (s.request < 0 || s.prompt_fed < requests[s.request].prompt.size()) continue;
        rows.push_back({i, s.pos, s.next_token, true});
        logit_slot.push_back(i);
        decode_rows++;
      }
      int budget = forward->max_rows() - static_cast<int>(rows.size());
      for (int i = 0; i < slot_count && budget > 0; i++) {
        Slot& s = slots[i];
        if (s.request < 0) continue;
        const auto& prompt = requests[s.request].prompt;
        if (s.prompt_fed >= prompt.size()) continue;
        const int take = static_cast<int>(std::min<size_t>(budget, prompt.size() - s.prompt_fed));
        for (int j = 0; j < take; j++) {
          const size_t p = s.prompt_fed + j;
          const bool last = p + 1 == prompt.size();
          rows.push_back({i, static_cast<int>(p), prompt[p], last});
          if (last) logit_slot.push_back(i);
        }
        s.prompt_fed += take;
        budget -= take;
      }
      const int64_t prefill_rows = static_cast<int64_t>(rows.size()) - decode_rows;

      const auto t_step = std::chrono::steady_clock::now();
      forward->run(rows, logits.data());
      // Advance positions (the forward pass has stored every row's keys and values).
      for (const StepRow& r : rows) slots[r.slot].pos = r.pos + 1;

      // Sample every sequence that produced logits (rows are independent).
      const int m = static_cast<int>(logit_slot.size());
#pragma omp parallel for schedule(dynamic, 1) if (m > 1)
      for (int j = 0; j < m; j++) {
        const int i = logit_slot[j];
        sampled[j] = sample_token(&logits[static_cast<size_t>(j) * vocab], vocab,
                                  requests[slots[i].request].sampling, slots[i].rng, scratch[i]);
      }
      const double dt = seconds_since(t_step);
      const double total_rows = static_cast<double>(rows.size());
      st.prefill_seconds += dt * prefill_rows / total_rows;
      st.decode_seconds += dt * decode_rows / total_rows;
      st.prefill_tokens += prefill_rows;
      st.decode_tokens += decode_rows;
      st.generated_tokens += m;
      st.steps++;

      for (int j = 0; j < m; j++) {
        Slot& s = slots[logit_slot[j]];
        const auto& req = requests[s.request];
        if (accept(req, results[s.request], s, sampled[j], decoder)) {
          s.request = -1;
          active--;
        }
      }
    }
    st.total_seconds = seconds_since(t_start);
    if (stats) *stats = st;
    return results;
  }

  std::vector<float> prompt_logits(std::span<const int32_t> tokens) {
    const int vocab = model.config.vocab_size;
    const int n = static_cast<int>(tokens.size());
    ensure_capacity(1, std::max(n, 1));
    for (int32_t t : tokens)
      if (t < 0 || t >= vocab) throw std::invalid_argument("prompt_logits: token id " + std::to_string(t) + " outside the vocabulary");
    std::vector<float> out(static_cast<size_t>(n) * vocab);
    const int chunk = forward->max_logit_rows();
    for (int start = 0; start < n; start += chunk) {
      const int len = std::min(chunk, n - start);
      rows.clear();
      for (int j = 0; j < len; j++) rows.push_back({0, start + j, tokens[start + j], true});
      forward->run(rows, &out[static_cast<size_t>(start) * vocab]);
    }
    return out;
  }
};

Generator::Generator(const Model& model, GeneratorOptions options) : impl_(std::make_unique<Impl>(model, options)) {}
Generator::~Generator() = default;

std::vector<GenerationResult> Generator::generate(std::span<const GenerationRequest> requests, GenerationStats* stats,
                                                  const TokenDecoder* decoder) {
  return impl_->generate(requests, stats, decoder);
}

std::vector<float> Generator::prompt_logits(std::span<const int32_t> tokens) { return impl_->prompt_logits(tokens); }

}  // namespace qes
