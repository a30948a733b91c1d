#include "forward.hpp"

#include "ops.hpp"

#include <omp.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <type_traits>

namespace qes {

namespace mops = model_ops;

ForwardPass::ForwardPass(const Model& model, KvCache& cache, int max_rows, int max_logit_rows)
    : model_(model), cfg_(model.config), cache_(cache), max_rows_(max_rows), max_logit_rows_(max_logit_rows) {
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

  // RoPE angles: theta_i = pos * base^(-2i/rope_dim), in float as llama2.c and
  // Hugging Face compute them, so greedy continuations match theirs.
  const int half = cfg_.rope_dim / 2;
  const size_t ctx = static_cast<size_t>(cache.context());
  rope_cos_.resize(ctx * half);
  rope_sin_.resize(ctx * half);
  for (int i = 0; i < half; i++) {
    const float freq = 1.0f / std::pow(cfg_.rope_base, static_cast<float>(2 * i) / static_cast<float>(cfg_.rope_dim));
    for (size_t p = 0; p < ctx; p++) {
      const float angle = static_cast<float>(p) * freq;
      rope_cos_[p * half + i] = std::cos(angle);
      rope_sin_[p * half + i] = std::sin(angle);
    }
  }
}

size_t ForwardPass::buffer_bytes() const {
  const size_t floats = x_.size() + xb_.size() + q_.size() + k_.size() + v_.size() + att_.size() + hb_.size() +
                        hb2_.size() + logit_in_.size() + rope_cos_.size() + rope_sin_.size() + scores_.size();
  return floats * sizeof(float);
}

// Softmax attention of each (row, head) over its slot's positions 0..pos, in a
// fixed order, so a row's result never depends on the other rows or threads.
template <typename KvT>
static void attend_one(const float* q, const KvT* keys, const KvT* values, int pos, int head_dim, int kv_stride,
                       float scale, float* scores, float* out) {
  for (int t = 0; t <= pos; t++) {
    float s;
    if constexpr (std::is_same_v<KvT, uint16_t>)
      s = mops::dot_f16(q, keys + static_cast<size_t>(t) * kv_stride, head_dim);
    else
      s = mops::dot_f32(q, keys + static_cast<size_t>(t) * kv_stride, head_dim);
    scores[t] = s * scale;
  }
  mops::softmax(scores, pos + 1);
  std::memset(out, 0, sizeof(float) * head_dim);
  for (int t = 0; t <= pos; t++) {
    if constexpr (std::is_same_v<KvT, uint16_t>)
      mops::axpy_f16(out, scores[t], values + static_cast<size_t>(t) * kv_stride, head_dim);
    else
      mops::axpy_f32(out, scores[t], values + static_cast<size_t>(t) * kv_stride, head_dim);
  }
}

void ForwardPass::attention(std::span<const StepRow> rows, int layer) {
  const int n = static_cast<int>(rows.size());
  const int hd = cfg_.head_dim, kv_dim = cfg_.kv_dim(), q_dim = cfg_.q_dim();
  const int group = cfg_.n_heads / cfg_.n_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int ctx = cache_.context();
  const bool f16 = cache_.type() == KvType::F16;

  // Store this step's keys and values first: rows of one slot attend to each other.
#pragma omp parallel for schedule(static) if (n > 8)
  for (int r = 0; r < n; r++) {
    const StepRow& row = rows[r];
    const size_t off = static_cast<size_t>(row.pos) * kv_dim;
    const float* kr = &k_[static_cast<size_t>(r) * kv_dim];
    const float* vr = &v_[static_cast<size_t>(r) * kv_dim];
    if (f16) {
      mops::f32_to_f16(kr, static_cast<uint16_t*>(cache_.keys(layer, row.slot)) + off, kv_dim);
      mops::f32_to_f16(vr, static_cast<uint16_t*>(cache_.values(layer, row.slot)) + off, kv_dim);
    } else {
      std::memcpy(static_cast<float*>(cache_.keys(layer, row.slot)) + off, kr, sizeof(float) * kv_dim);
      std::memcpy(static_cast<float*>(cache_.values(layer, row.slot)) + off, vr, sizeof(float) * kv_dim);
    }
  }

  const int items = n * cfg_.n_heads;
#pragma omp parallel for schedule(dynamic, 1) if (items > 1)
  for (int item = 0; item < items; item++) {
    const int r = item / cfg_.n_heads, h = item % cfg_.n_heads;
    const StepRow& row = rows[r];
    float* scores = &scores_[static_cast<size_t>(omp_get_thread_num()) * ctx];
    const float* q = &q_[static_cast<size_t>(r) * q_dim + static_cast<size_t>(h) * hd];
    float* out = &att_[static_cast<size_t>(r) * q_dim + static_cast<size_t>(h) * hd];
    const size_t kv_off = static_cast<size_t>(h / group) * hd;
    if (f16) {
      attend_one(q, static_cast<const uint16_t*>(cache_.keys(layer, row.slot)) + kv_off,
                 static_cast<const uint16_t*>(cache_.values(layer, row.slot)) + kv_off, row.pos, hd, kv_dim, scale,
                 scores, out);
    } else {
      attend_one(q, static_cast<const float*>(cache_.keys(layer, row.slot)) + kv_off,
                 static_cast<const float*>(cache_.values(layer, row.slot)) + kv_off, row.pos, hd, kv_dim, scale,
                 scores, out);
    }
  }
}

void ForwardPass::run(std::span<const StepRow> rows, float* logits) {
  const int n = static_cast<int>(rows.size());
  if (n == 0) return;
  if (n > max_rows_) throw std::logic_error("ForwardPass::run: more rows than the buffers hold");
  const int dim = cfg_.dim, q_dim = cfg_.q_dim(), kv_dim = cfg_.kv_dim(), ffn = cfg_.ffn_dim, hd = cfg_.head_dim;
  const int half = cfg_.rope_dim / 2;
  const ModelWeights& w = model_.weights;

  const size_t need_scores = static_cast<size_t>(omp_get_max_threads()) * cache_.context();
  if (scores_.size() < need_scores) scores_.resize(need_scores);

  for (int r = 0; r < n; r++) {
    if (rows[r].pos >= cache_.context() || rows[r].slot >= cache_.slots())
      throw std::logic_error("ForwardPass::run: row outside the KV cache");
    mops::embedding_row(w.token_embd, rows[r].token, &x_[static_cast<size_t>(r) * dim]);
  }

  for (int l = 0; l < cfg_.n_layers; l++) {
    const LayerWeights& lw = w.layers[l];
#pragma omp parallel for schedule(static) if (n > 8)
    for (int r = 0; r < n; r++)
      mops::rmsnorm(&xb_[static_cast<size_t>(r) * dim], &x_[static_cast<size_t>(r) * dim], lw.attn_norm.data(), dim,
                   cfg_.rms_eps);

    mops::linear(lw.wq, xb_.data(), n, q_.data());
    mops::linear(lw.wk, xb_.data(), n, k_.data());
    mops::linear(lw.wv, xb_.data(), n, v_.data());

#pragma omp parallel for schedule(static) if (n > 8)
    for (int r = 0; r < n; r++) {
      float* q = &q_[static_cast<size_t>(r) * q_dim];
      float* k = &k_[static_cast<size_t>(r) * kv_dim];
      if (cfg_.qkv_bias) {
        for (int i = 0; i < q_dim; i++) q[i] += lw.bq[i];
        for (int i = 0; i < kv_dim; i++) k[i] += lw.bk[i];
        float* v = &v_[static_cast<size_t>(r) * kv_dim];
        for (int i = 0; i < kv_dim; i++) v[i] += lw.bv[i];
      }
      const float* c = &rope_cos_[static_cast<size_t>(rows[r].pos) * half];
      const float* s = &rope_sin_[static_cast<size_t>(rows[r].pos) * half];
      for (int h = 0; h < cfg_.n_heads; h++) mops::rope(q + h * hd, cfg_.rope_dim, c, s, cfg_.rope_style);
      for (int h = 0; h < cfg_.n_kv_heads; h++) mops::rope(k + h * hd, cfg_.rope_dim, c, s, cfg_.rope_style);
    }

    attention(rows, l);

    mops::linear(lw.wo, att_.data(), n, xb_.data());
#pragma omp parallel for schedule(static) if (n > 8)
    for (int r = 0; r < n; r++) {
      float* x = &x_[static_cast<size_t>(r) * dim];
      float* xb = &xb_[static_cast<size_t>(r) * dim];
      for (int i = 0; i < dim; i++) x[i] += xb[i];
      mops::rmsnorm(xb, x, lw.ffn_norm.data(), dim, cfg_.rms_eps);
    }

    mops::linear(lw.w_gate, xb_.data(), n, hb_.data());
    mops::linear(lw.w_up, xb_.data(), n, hb2_.data());
#pragma omp parallel for schedule(static) if (n > 8)
    for (int r = 0; r < n; r++)
      mops::silu_mul(&hb_[static_cast<size_t>(r) * ffn], &hb2_[static_cast<size_t>(r) * ffn], ffn);
    mops::linear(lw.w_down, hb_.data(), n, xb_.data());
    for (size_t i = 0; i < static_cast<size_t>(n) * dim; i++) x_[i] += xb_[i];
  }

  // Only rows that sample need the final norm and the (large) output projection.
  int m = 0;
  for (int r = 0; r < n; r++) {
    if (!rows[r].want_logits) continue;
    if (m >= max_logit_rows_) throw std::logic_error("ForwardPass::run: more logit rows than the buffer holds");
    mops::rmsnorm(&logit_in_[static_cast<size_t>(m) * dim], &x_[static_cast<size_t>(r) * dim], w.output_norm.data(), dim,
                 cfg_.rms_eps);
    m++;
  }
  if (m > 0) mops::linear(w.output, logit_in_.data(), m, logits);
}

}  // namespace qes
