#include "forward.hpp"

#include "ops.hpp"
#include "qes/float_ops.hpp"

#include <omp.h>

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace qes {

namespace mops = model_ops;

ForwardPass::ForwardPass(const Model& model, KvCache& cache, int max_rows, int max_logit_rows, double parallel_min_bytes)
    : model_(model),
      cfg_(model.config),
      cache_(cache),
      max_rows_(max_rows),
      max_logit_rows_(max_logit_rows),
      parallel_min_bytes_(parallel_min_bytes),
      in_(std::max(max_rows, max_logit_rows)) {
  const size_t r = static_cast<size_t>(max_rows);
  x_.resize(r * cfg_.dim);
  xb_.resize(r * cfg_.dim);
  q_.resize(r * cfg_.q_dim());
  k_.resize(r * cfg_.kv_dim());
  v_.resize(r * cfg_.kv_dim());
  att_.resize(r * cfg_.q_dim());
  hb_.resize(r * cfg_.ffn_dim);
  hb2_.resize(r * cfg_.ffn_dim);
  logit_in_.resize(static_cast<size_t>(max_logit_rows) * cfg_.dim);
  logit_rows_.reserve(max_logit_rows);

  // RoPE cos/sin for every position of a slot, computed once.
  const int half = cfg_.rope_dim / 2;
  const size_t ctx = static_cast<size_t>(cache.context());
  rope_cos_.resize(ctx * half);
  rope_sin_.resize(ctx * half);
  for (size_t p = 0; p < ctx; p++)
    ops::rope_angles(&rope_cos_[p * half], &rope_sin_[p * half], cfg_.rope_dim, static_cast<int64_t>(p), cfg_.rope_base);
}

size_t ForwardPass::buffer_bytes() const {
  const size_t floats = x_.size() + xb_.size() + q_.size() + k_.size() + v_.size() + att_.size() + hb_.size() +
                        hb2_.size() + logit_in_.size() + rope_cos_.size() + rope_sin_.size() + scores_.size();
  return floats * sizeof(float);
}

// Stores this step's keys and values (rows of one slot attend to each other),
// then computes softmax attention of each (row, head) over its slot's positions
// 0..pos in a fixed order: a row's result never depends on other rows or threads.
void ForwardPass::attention(std::span<const StepRow> rows, int layer) {
  const int n = static_cast<int>(rows.size());
  const int hd = cfg_.head_dim, kv_dim = cfg_.kv_dim(), q_dim = cfg_.q_dim();
  const int group = cfg_.n_heads / cfg_.n_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int ctx = cache_.context();
  const bool f16 = cache_.type() == KvType::F16;

#pragma omp for schedule(static)
  for (int r = 0; r < n; r++) {
    const StepRow& row = rows[r];
    const size_t off = static_cast<size_t>(row.pos) * kv_dim;
    const float* kr = &k_[static_cast<size_t>(r) * kv_dim];
    const float* vr = &v_[static_cast<size_t>(r) * kv_dim];
    if (f16) {
      uint16_t* kd = static_cast<uint16_t*>(cache_.keys(layer, row.slot)) + off;
      uint16_t* vd = static_cast<uint16_t*>(cache_.values(layer, row.slot)) + off;
      for (int i = 0; i < kv_dim; i++) kd[i] = fp32_to_fp16(kr[i]), vd[i] = fp32_to_fp16(vr[i]);
    } else {
      std::memcpy(static_cast<float*>(cache_.keys(layer, row.slot)) + off, kr, sizeof(float) * kv_dim);
      std::memcpy(static_cast<float*>(cache_.values(layer, row.slot)) + off, vr, sizeof(float) * kv_dim);
    }
  }

  const int items = n * cfg_.n_heads;
#pragma omp for schedule(dynamic, 1)
  for (int item = 0; item < items; item++) {
    const int r = item / cfg_.n_heads, h = item % cfg_.n_heads;
    const StepRow& row = rows[r];
    float* scores = &scores_[static_cast<size_t>(omp_get_thread_num()) * ctx];
    const float* q = &q_[static_cast<size_t>(r) * q_dim + static_cast<size_t>(h) * hd];
    float* out = &att_[static_cast<size_t>(r) * q_dim + static_cast<size_t>(h) * hd];
    const size_t kv_off = static_cast<size_t>(h / group) * hd;
    const size_t n_keys = static_cast<size_t>(row.pos) + 1;
    if (f16) {
      const auto* keys = static_cast<const uint16_t*>(cache_.keys(layer, row.slot)) + kv_off;
      const auto* values = static_cast<const uint16_t*>(cache_.values(layer, row.slot)) + kv_off;
      ops::attn_scores(scores, q, keys, kv_dim, n_keys, hd, scale);
      ops::softmax(scores, n_keys);
      ops::attn_weighted_sum(out, scores, values, kv_dim, n_keys, hd);
    } else {
      const auto* keys = static_cast<const float*>(cache_.keys(layer, row.slot)) + kv_off;
      const auto* values = static_cast<const float*>(cache_.values(layer, row.slot)) + kv_off;
      ops::attn_scores(scores, q, keys, kv_dim, n_keys, hd, scale);
      ops::softmax(scores, n_keys);
      ops::attn_weighted_sum(out, scores, values, kv_dim, n_keys, hd);
    }
  }
}

void ForwardPass::run(std::span<const StepRow> rows, float* logits) {
  const int n = static_cast<int>(rows.size());
  if (n == 0) return;
  if (n > max_rows_) throw std::logic_error("ForwardPass::run: more rows than the buffers hold");
  logit_rows_.clear();
  for (int r = 0; r < n; r++) {
    if (rows[r].pos >= cache_.context() || rows[r].slot >= cache_.slots() || rows[r].token < 0 ||
        rows[r].token >= cfg_.vocab_size)
      throw std::logic_error("ForwardPass::run: row outside the KV cache or the vocabulary");
    if (rows[r].want_logits) logit_rows_.push_back(r);
  }
  if (static_cast<int>(logit_rows_.size()) > max_logit_rows_)
    throw std::logic_error("ForwardPass::run: more logit rows than the buffer holds");
  const size_t need_scores = static_cast<size_t>(omp_get_max_threads()) * cache_.context();
  if (scores_.size() < need_scores) scores_.resize(need_scores);

  // Small models (stories260K) run faster on one thread than with barriers.
  const bool parallel = static_cast<double>(model_.weight_bytes_per_token()) * n >= parallel_min_bytes_;
#pragma omp parallel if (parallel)
  step(rows, logits);
}

// The whole step, executed by every thread of the region: each loop is a
// work-shared `omp for` ending in a barrier.
void ForwardPass::step(std::span<const StepRow> rows, float* logits) {
  const int n = static_cast<int>(rows.size());
  const int dim = cfg_.dim, q_dim = cfg_.q_dim(), kv_dim = cfg_.kv_dim(), ffn = cfg_.ffn_dim, hd = cfg_.head_dim;
  const int half = cfg_.rope_dim / 2;
  const ModelWeights& w = model_.weights;
  const auto style = cfg_.rope_style == RopeStyle::Interleaved ? ops::RopeStyle::Interleaved : ops::RopeStyle::HalfSplit;
  auto quantized = [](const QuantMatrix& m) { return is_quantized(m.type); };

#pragma omp for schedule(static)
  for (int r = 0; r < n; r++) mops::embedding_row(w.token_embd, rows[r].token, &x_[static_cast<size_t>(r) * dim]);

  for (int l = 0; l < cfg_.n_layers; l++) {
    const LayerWeights& lw = w.layers[l];
#pragma omp for schedule(static)
    for (int r = 0; r < n; r++)
      ops::rmsnorm(&xb_[static_cast<size_t>(r) * dim], &x_[static_cast<size_t>(r) * dim], lw.attn_norm.data(), dim,
                   cfg_.rms_eps);
    in_.set(xb_.data(), n, dim, quantized(lw.wq) || quantized(lw.wk) || quantized(lw.wv));
    mops::linear({{&lw.wq, q_.data()}, {&lw.wk, k_.data()}, {&lw.wv, v_.data()}}, in_);

#pragma omp for schedule(static)
    for (int r = 0; r < n; r++) {
      float* q = &q_[static_cast<size_t>(r) * q_dim];
      float* k = &k_[static_cast<size_t>(r) * kv_dim];
      if (cfg_.qkv_bias) {
        float* v = &v_[static_cast<size_t>(r) * kv_dim];
        for (int i = 0; i < q_dim; i++) q[i] += lw.bq[i];
        for (int i = 0; i < kv_dim; i++) k[i] += lw.bk[i];
        for (int i = 0; i < kv_dim; i++) v[i] += lw.bv[i];
      }
      const float* c = &rope_cos_[static_cast<size_t>(rows[r].pos) * half];
      const float* s = &rope_sin_[static_cast<size_t>(rows[r].pos) * half];
      ops::rope_apply(q, cfg_.n_heads, hd, cfg_.rope_dim, c, s, style);
      ops::rope_apply(k, cfg_.n_kv_heads, hd, cfg_.rope_dim, c, s, style);
    }

    attention(rows, l);

    in_.set(att_.data(), n, q_dim, quantized(lw.wo));
    mops::linear({{&lw.wo, xb_.data()}}, in_);
#pragma omp for schedule(static)
    for (int r = 0; r < n; r++) {
      float* x = &x_[static_cast<size_t>(r) * dim];
      float* xb = &xb_[static_cast<size_t>(r) * dim];
      for (int i = 0; i < dim; i++) x[i] += xb[i];
      ops::rmsnorm(xb, x, lw.ffn_norm.data(), dim, cfg_.rms_eps);
    }

    in_.set(xb_.data(), n, dim, quantized(lw.w_gate) || quantized(lw.w_up));
    mops::linear({{&lw.w_gate, hb_.data()}, {&lw.w_up, hb2_.data()}}, in_);
#pragma omp for schedule(static)
    for (int r = 0; r < n; r++)
      ops::silu_mul(&hb_[static_cast<size_t>(r) * ffn], &hb_[static_cast<size_t>(r) * ffn], &hb2_[static_cast<size_t>(r) * ffn], ffn);
    in_.set(hb_.data(), n, ffn, quantized(lw.w_down));
    mops::linear({{&lw.w_down, xb_.data()}}, in_);
#pragma omp for schedule(static)
    for (int r = 0; r < n; r++) {
      float* x = &x_[static_cast<size_t>(r) * dim];
      const float* xb = &xb_[static_cast<size_t>(r) * dim];
      for (int i = 0; i < dim; i++) x[i] += xb[i];
    }
  }

  // Only rows that sample need the final norm and the (large) output projection.
  const int m = static_cast<int>(logit_rows_.size());
  if (m == 0) return;
#pragma omp for schedule(static)
  for (int j = 0; j < m; j++)
    ops::rmsnorm(&logit_in_[static_cast<size_t>(j) * dim], &x_[static_cast<size_t>(logit_rows_[j]) * dim],
                 w.output_norm.data(), dim, cfg_.rms_eps);
  in_.set(logit_in_.data(), m, dim, quantized(w.output));
  mops::linear({{&w.output, logits}}, in_);
}

}  // namespace qes
