#include "forward.hpp"

#include "qes/float_ops.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace qes {

namespace mops = model_ops;

namespace {
// One position's key or value into the cache, in the cache's type.
void store_kv_row(uint16_t* dst, const float* src, int n) { ops::f32_to_f16(dst, src, static_cast<size_t>(n)); }
void store_kv_row(float* dst, const float* src, int n) { std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(n)); }
}  // namespace

ForwardPass::ForwardPass(const Model& model, KvCache& cache, int max_rows, int max_logit_rows, double parallel_min_bytes)
    : model_(model),
      cfg_(model.config),
      cache_(cache),
      max_rows_(std::max(max_rows, max_logit_rows)),
      max_logit_rows_(max_logit_rows),
      parallel_min_bytes_(parallel_min_bytes),
      shared_(cfg_, max_rows_) {
  const size_t r = static_cast<size_t>(max_rows_);
  q_.resize(r * cfg_.q_dim());
  k_.resize(r * cfg_.kv_dim());
  v_.resize(r * cfg_.kv_dim());
  att_.resize(r * cfg_.q_dim());
  o_.resize(r * cfg_.dim);
  gate_.resize(r * cfg_.ffn_dim);
  up_.resize(r * cfg_.ffn_dim);
  logit_rows_.reserve(r);
  runs_.reserve(r);
  run_cost_.reserve(r);
  run_order_.reserve(r);

  // RoPE cos/sin for every position of a slot, computed once.
  const int half = cfg_.rope_dim / 2;
  const size_t ctx = static_cast<size_t>(cache.context());
  rope_cos_.resize(ctx * half);
  rope_sin_.resize(ctx * half);
  for (size_t p = 0; p < ctx; p++)
    ops::rope_angles(&rope_cos_[p * half], &rope_sin_[p * half], cfg_.rope_dim, static_cast<int64_t>(p), cfg_.rope_base);
  ensure_threads(omp_get_max_threads());
}

ForwardPass::Activations::Activations(const ModelConfig& c, int rows)
    : x(static_cast<size_t>(rows) * c.dim),
      norm(static_cast<size_t>(rows) * c.dim),
      act(static_cast<size_t>(rows) * std::max(c.ffn_dim, c.q_dim())),
      in_dim(rows),
      in_att(rows),
      in_ffn(rows),
      in_logits(rows) {}

void ForwardPass::Activations::prepare(const float* att, int n, int m, const ModelConfig& c) {
  in_dim.prepare(norm.data(), n, c.dim);
  in_att.prepare(att, n, c.q_dim());
  in_ffn.prepare(act.data(), n, c.ffn_dim);
  if (m > 0) in_logits.prepare(norm.data(), m, c.dim);
}

void ForwardPass::ensure_threads(int threads) {
  while (static_cast<int>(per_thread_.size()) < threads) per_thread_.emplace_back(cfg_, kRedundantRows);
  if (shares_.size() < threads) shares_.resize(threads);
  const size_t need_scores = static_cast<size_t>(threads) * (cfg_.n_heads / cfg_.n_kv_heads) * cache_.context();
  if (scores_.size() < need_scores) scores_.resize(need_scores);
}

size_t ForwardPass::buffer_bytes() const {
  size_t floats = q_.size() + k_.size() + v_.size() + att_.size() + o_.size() + gate_.size() + up_.size() +
                  rope_cos_.size() + rope_sin_.size() + scores_.size();
  auto add = [&](const Activations& a) {
    floats += a.x.size() + a.norm.size() + a.act.size();
    floats += (a.x.size() * 2 + a.act.size()) / 3;  // quantized codes and block scales, roughly
  };
  add(shared_);
  for (const auto& a : per_thread_) add(a);
  return floats * sizeof(float);
}

// One work item per (run of a slot's rows, KV head group): for each row in
// order, bias and RoPE for the group's heads, store its key and value, then
// softmax attention of each of the group's query heads over positions 0..pos.
// A row's result is computed the same way whatever else is in the step.
void ForwardPass::attention(std::span<const StepRow> rows, int layer) {
  const int hd = cfg_.head_dim, kv_dim = cfg_.kv_dim(), q_dim = cfg_.q_dim();
  const int group = cfg_.n_heads / cfg_.n_kv_heads;
  const int half = cfg_.rope_dim / 2;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int ctx = cache_.context();
  const bool f16 = cache_.type() == KvType::F16;
  const auto style = cfg_.rope_style == RopeStyle::Interleaved ? ops::RopeStyle::Interleaved : ops::RopeStyle::HalfSplit;
  const LayerWeights& lw = model_.weights.layers[layer];
  const int items = static_cast<int>(runs_.size()) * cfg_.n_kv_heads;

#pragma omp for schedule(dynamic, 1) nowait
  for (int item = 0; item < items; item++) {
    const Run run = runs_[run_order_[item / cfg_.n_kv_heads]];
    const int g = item % cfg_.n_kv_heads;
    float* scores = &scores_[static_cast<size_t>(omp_get_thread_num()) * group * ctx];  // [group][ctx]
    const int slot = rows[run.first].slot;
    const size_t kv_off = static_cast<size_t>(g) * hd;
    for (int r = run.first; r < run.first + run.count; r++) {
      const int pos = rows[r].pos;
      float* q = &q_[static_cast<size_t>(r) * q_dim + static_cast<size_t>(g) * group * hd];
      float* k = &k_[static_cast<size_t>(r) * kv_dim + kv_off];
      float* v = &v_[static_cast<size_t>(r) * kv_dim + kv_off];
      if (cfg_.qkv_bias) {
        for (int i = 0; i < group * hd; i++) q[i] += lw.bq[static_cast<size_t>(g) * group * hd + i];
        for (int i = 0; i < hd; i++) k[i] += lw.bk[kv_off + i], v[i] += lw.bv[kv_off + i];
      }
      const float* c = &rope_cos_[static_cast<size_t>(pos) * half];
      const float* s = &rope_sin_[static_cast<size_t>(pos) * half];
      ops::rope_apply(q, group, hd, cfg_.rope_dim, c, s, style);
      ops::rope_apply(k, 1, hd, cfg_.rope_dim, c, s, style);

      // Store this position's key and value, then attend with all the group's
      // query heads at once: each cached key and value is read once for them.
      const size_t at = static_cast<size_t>(pos) * hd;
      const size_t n_keys = static_cast<size_t>(pos) + 1;
      float* out = &att_[static_cast<size_t>(r) * q_dim + static_cast<size_t>(g) * group * hd];
      // Same steps for both KV types; only the store differs.
      auto attend = [&](auto* keys, auto* values) {
        store_kv_row(keys + at, k, hd);
        store_kv_row(values + at, v, hd);
        ops::attn_scores_heads(scores, ctx, q, group, keys, hd, n_keys, hd, scale);
        for (int j = 0; j < group; j++) ops::softmax(scores + static_cast<size_t>(j) * ctx, n_keys);
        ops::attn_weighted_sum_heads(out, scores, ctx, group, values, hd, n_keys, hd);
      };
      if (f16)
        attend(static_cast<uint16_t*>(cache_.keys(layer, slot, g)), static_cast<uint16_t*>(cache_.values(layer, slot, g)));
      else
        attend(static_cast<float*>(cache_.keys(layer, slot, g)), static_cast<float*>(cache_.values(layer, slot, g)));
    }
  }
}

void ForwardPass::run(std::span<const StepRow> rows, float* logits) {
  const int n = static_cast<int>(rows.size());
  if (n == 0) return;
  if (n > max_rows_) throw std::logic_error("ForwardPass::run: more rows than the buffers hold");
  logit_rows_.clear();
  runs_.clear();
  for (int r = 0; r < n; r++) {
    const StepRow& row = rows[r];
    if (row.pos >= cache_.context() || row.slot < 0 || row.slot >= cache_.slots() || row.token < 0 ||
        row.token >= cfg_.vocab_size)
      throw std::logic_error("ForwardPass::run: row outside the KV cache or the vocabulary");
    if (row.want_logits) logit_rows_.push_back(r);
    if (!runs_.empty() && rows[runs_.back().first].slot == row.slot) {
      if (rows[r - 1].pos + 1 != row.pos) throw std::logic_error("ForwardPass::run: a slot's positions must follow each other");
      runs_.back().count++;
    } else {
      for (const Run& earlier : runs_)
        if (rows[earlier.first].slot == row.slot) throw std::logic_error("ForwardPass::run: a slot's rows must be adjacent");
      runs_.push_back({r, 1});
    }
  }
  // Attention work items, largest first: a prompt chunk attends over many
  // more positions than a decode row, and taken last it would keep one thread
  // busy while the others wait at the barrier.
  run_cost_.resize(runs_.size());
  run_order_.resize(runs_.size());
  for (size_t i = 0; i < runs_.size(); i++) {
    int64_t cost = 0;
    for (int r = runs_[i].first; r < runs_[i].first + runs_[i].count; r++) cost += rows[r].pos + 1;
    run_cost_[i] = cost;
    run_order_[i] = static_cast<int>(i);
  }
  std::stable_sort(run_order_.begin(), run_order_.end(), [this](int a, int b) { return run_cost_[a] > run_cost_[b]; });
  if (static_cast<int>(logit_rows_.size()) > max_logit_rows_)
    throw std::logic_error("ForwardPass::run: more logit rows than the buffer holds");

  const bool parallel = static_cast<double>(model_.weight_bytes_per_token()) * n >= parallel_min_bytes_;
  ensure_threads(parallel ? omp_get_max_threads() : 1);
  const bool shared = n > kRedundantRows || !parallel || omp_get_max_threads() == 1;
  if (shared) shared_.prepare(att_.data(), n, static_cast<int>(logit_rows_.size()), cfg_);
  const int team = parallel ? omp_get_max_threads() : 1;
  barrier_.reset(team);
#pragma omp parallel num_threads(team) if (parallel)
  {
    // The barrier must count the actual team (smaller when called from inside
    // another parallel region, or under a thread limit).
    if (omp_get_num_threads() != team) {
#pragma omp single
      barrier_.reset(omp_get_num_threads());
    }
    step(rows, logits, shared);
  }
}

// The whole step, executed by every thread of the region.
void ForwardPass::step(std::span<const StepRow> rows, float* logits, bool shared) {
  const int n = static_cast<int>(rows.size());
  const int m = static_cast<int>(logit_rows_.size());
  const int dim = cfg_.dim, ffn = cfg_.ffn_dim;
  const ModelWeights& w = model_.weights;
  const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
  Activations& a = shared ? shared_ : per_thread_[tid];
  if (!shared) a.prepare(att_.data(), n, m, cfg_);
  // This thread's rows: a contiguous share when shared, else all of them.
  const int r0 = shared ? static_cast<int>(static_cast<int64_t>(n) * tid / nth) : 0;
  const int r1 = shared ? static_cast<int>(static_cast<int64_t>(n) * (tid + 1) / nth) : n;
  auto sync = [this, shared] {
    if (shared) barrier_.wait();
  };
  auto quantized = [](const QuantMatrix& q) { return is_quantized(q.type); };
  // Decode-sized steps share each linear layer out by RowShares, so a thread
  // knows where its part of the next layer begins: while it waits at the
  // barrier before that layer, it asks for the first 64 KiB of it (epyc2, 2
  // threads: decode steps 0.4-0.6 % faster, on top of the kernels asking for
  // a call's first lines themselves).
  const bool decode = n <= mops::kShareMaxRows;
  auto wait_before = [&](const QuantMatrix& next) {
    barrier_.wait(decode && quantized(next) ? mops::share_front(next, tid, nth, size_t{64} << 10) : PrefetchRange{});
  };
  auto row = [](auto& v, int r, int width) { return &v[static_cast<size_t>(r) * width]; };

  for (int r = r0; r < r1; r++) mops::embedding_row(w.token_embd, rows[r].token, row(a.x, r, dim));

  for (int l = 0; l < cfg_.n_layers; l++) {
    const LayerWeights& lw = w.layers[l];
    for (int r = r0; r < r1; r++) {
      if (l > 0) {  // the previous layer's down projection joins the residual stream
        float* x = row(a.x, r, dim);
        const float* o = row(o_, r, dim);
        for (int i = 0; i < dim; i++) x[i] += o[i];
      }
      ops::rmsnorm(row(a.norm, r, dim), row(a.x, r, dim), lw.attn_norm.data(), dim, cfg_.rms_eps);
    }
    if (quantized(lw.wq) || quantized(lw.wk) || quantized(lw.wv)) a.in_dim.quantize_rows(r0, r1);
    sync();
    mops::linear({{&lw.wq, q_.data()}, {&lw.wk, k_.data()}, {&lw.wv, v_.data()}}, a.in_dim, &shares_);
    barrier_.wait();
    attention(rows, l);
    wait_before(lw.wo);

    if (quantized(lw.wo)) a.in_att.quantize_rows(r0, r1);
    sync();
    mops::linear({{&lw.wo, o_.data()}}, a.in_att, &shares_);
    wait_before(lw.w_gate);
    for (int r = r0; r < r1; r++) {
      float* x = row(a.x, r, dim);
      const float* o = row(o_, r, dim);
      for (int i = 0; i < dim; i++) x[i] += o[i];
      ops::rmsnorm(row(a.norm, r, dim), x, lw.ffn_norm.data(), dim, cfg_.rms_eps);
    }
    if (quantized(lw.w_gate) || quantized(lw.w_up)) a.in_dim.quantize_rows(r0, r1);
    sync();
    mops::linear({{&lw.w_gate, gate_.data()}, {&lw.w_up, up_.data()}}, a.in_dim, &shares_);
    wait_before(lw.w_down);

    for (int r = r0; r < r1; r++) ops::silu_mul(row(a.act, r, ffn), row(gate_, r, ffn), row(up_, r, ffn), ffn);
    if (quantized(lw.w_down)) a.in_ffn.quantize_rows(r0, r1);
    sync();
    mops::linear({{&lw.w_down, o_.data()}}, a.in_ffn, &shares_);
    wait_before(l + 1 < cfg_.n_layers ? w.layers[l + 1].wq : w.output);
  }
  for (int r = r0; r < r1; r++) {
    float* x = row(a.x, r, dim);
    const float* o = row(o_, r, dim);
    for (int i = 0; i < dim; i++) x[i] += o[i];
  }

  // Only rows that sample need the final norm and the (large) output projection.
  if (m == 0) return;
  sync();  // logit rows gather from every thread's rows of x
  const int j0 = shared ? static_cast<int>(static_cast<int64_t>(m) * tid / nth) : 0;
  const int j1 = shared ? static_cast<int>(static_cast<int64_t>(m) * (tid + 1) / nth) : m;
  for (int j = j0; j < j1; j++)
    ops::rmsnorm(row(a.norm, j, dim), row(a.x, logit_rows_[j], dim), w.output_norm.data(), dim, cfg_.rms_eps);
  if (quantized(w.output)) a.in_logits.quantize_rows(j0, j1);
  sync();
  mops::linear({{&w.output, logits}}, a.in_logits, &shares_);
  // The region's closing barrier (OpenMP's) ends the step.
}

}  // namespace qes
