#include "reference_forward.hpp"

#include <cmath>

namespace qes::testing {

ReferenceForward::Mat ReferenceForward::dequant(const QuantMatrix& m) {
  Mat out;
  out.rows = static_cast<int>(m.rows);
  out.cols = static_cast<int>(m.cols);
  out.w.resize(static_cast<size_t>(m.rows) * m.cols);
  for (int64_t r = 0; r < m.rows; r++) dequantize_row(m.type, m.row_ptr(r), &out.w[r * m.cols], m.cols);
  return out;
}

void ReferenceForward::matvec(const Mat& m, const float* x, float* y) {
  for (int r = 0; r < m.rows; r++) {
    double s = 0;
    for (int c = 0; c < m.cols; c++) s += static_cast<double>(m.w[static_cast<size_t>(r) * m.cols + c]) * x[c];
    y[r] = static_cast<float>(s);
  }
}

ReferenceForward::ReferenceForward(const Model& model) : c_(model.config), model_(model) {
  embd_ = dequant(model.weights.token_embd);
  out_ = dequant(model.weights.output);
  for (const auto& l : model.weights.layers) {
    wq_.push_back(dequant(l.wq));
    wk_.push_back(dequant(l.wk));
    wv_.push_back(dequant(l.wv));
    wo_.push_back(dequant(l.wo));
    wg_.push_back(dequant(l.w_gate));
    wu_.push_back(dequant(l.w_up));
    wd_.push_back(dequant(l.w_down));
  }
  kcache_.resize(c_.n_layers);
  vcache_.resize(c_.n_layers);
  x_.resize(c_.dim);
  xb_.resize(c_.dim);
  xb2_.resize(c_.dim);
  q_.resize(c_.q_dim());
  k_.resize(c_.kv_dim());
  v_.resize(c_.kv_dim());
  att_.resize(c_.q_dim());
  hb_.resize(c_.ffn_dim);
  hb2_.resize(c_.ffn_dim);
  logits_.resize(c_.vocab_size);
}

static void rmsnorm(float* o, const float* x, const std::vector<float>& w, int n, float eps) {
  double ss = 0;
  for (int i = 0; i < n; i++) ss += static_cast<double>(x[i]) * x[i];
  const double scale = 1.0 / std::sqrt(ss / n + eps);
  for (int i = 0; i < n; i++) o[i] = static_cast<float>(x[i] * scale * w[i]);
}

static void rope(float* v, int n_heads, int head_dim, int rope_dim, int pos, float base, RopeStyle style) {
  for (int h = 0; h < n_heads; h++) {
    float* x = v + h * head_dim;
    for (int i = 0; i < rope_dim / 2; i++) {
      const double angle = pos * std::pow(static_cast<double>(base), -2.0 * i / rope_dim);
      const int a = style == RopeStyle::Interleaved ? 2 * i : i;
      const int b = style == RopeStyle::Interleaved ? 2 * i + 1 : i + rope_dim / 2;
      const double x0 = x[a], x1 = x[b];
      x[a] = static_cast<float>(x0 * std::cos(angle) - x1 * std::sin(angle));
      x[b] = static_cast<float>(x0 * std::sin(angle) + x1 * std::cos(angle));
    }
  }
}

const std::vector<float>& ReferenceForward::step(int32_t token) {
  const int dim = c_.dim, hd = c_.head_dim, kv_dim = c_.kv_dim();
  for (int i = 0; i < dim; i++) x_[i] = embd_.w[static_cast<size_t>(token) * dim + i];
  for (int l = 0; l < c_.n_layers; l++) {
    const LayerWeights& lw = model_.weights.layers[l];
    rmsnorm(xb_.data(), x_.data(), lw.attn_norm, dim, c_.rms_eps);
    matvec(wq_[l], xb_.data(), q_.data());
    matvec(wk_[l], xb_.data(), k_.data());
    matvec(wv_[l], xb_.data(), v_.data());
    if (c_.qkv_bias) {
      for (int i = 0; i < c_.q_dim(); i++) q_[i] += lw.bq[i];
      for (int i = 0; i < kv_dim; i++) k_[i] += lw.bk[i], v_[i] += lw.bv[i];
    }
    rope(q_.data(), c_.n_heads, hd, c_.rope_dim, pos_, c_.rope_base, c_.rope_style);
    rope(k_.data(), c_.n_kv_heads, hd, c_.rope_dim, pos_, c_.rope_base, c_.rope_style);
    kcache_[l].insert(kcache_[l].end(), k_.begin(), k_.end());
    vcache_[l].insert(vcache_[l].end(), v_.begin(), v_.end());
    for (int h = 0; h < c_.n_heads; h++) {
      const int g = h / (c_.n_heads / c_.n_kv_heads);
      std::vector<double> att(pos_ + 1);
      double mx = -1e300;
      for (int t = 0; t <= pos_; t++) {
        double s = 0;
        for (int i = 0; i < hd; i++) s += static_cast<double>(q_[h * hd + i]) * kcache_[l][t * kv_dim + g * hd + i];
        att[t] = s / std::sqrt(static_cast<double>(hd));
        mx = std::max(mx, att[t]);
      }
      double sum = 0;
      for (auto& a : att) sum += (a = std::exp(a - mx));
      for (int i = 0; i < hd; i++) {
        double o = 0;
        for (int t = 0; t <= pos_; t++) o += att[t] / sum * vcache_[l][t * kv_dim + g * hd + i];
        att_[h * hd + i] = static_cast<float>(o);
      }
    }
    matvec(wo_[l], att_.data(), xb2_.data());
    for (int i = 0; i < dim; i++) x_[i] += xb2_[i];
    rmsnorm(xb_.data(), x_.data(), lw.ffn_norm, dim, c_.rms_eps);
    matvec(wg_[l], xb_.data(), hb_.data());
    matvec(wu_[l], xb_.data(), hb2_.data());
    for (int i = 0; i < c_.ffn_dim; i++) hb_[i] = hb_[i] / (1.0f + std::exp(-hb_[i])) * hb2_[i];
    matvec(wd_[l], hb_.data(), xb_.data());
    for (int i = 0; i < dim; i++) x_[i] += xb_[i];
  }
  rmsnorm(x_.data(), x_.data(), model_.weights.output_norm, dim, c_.rms_eps);
  matvec(out_, x_.data(), logits_.data());
  pos_++;
  return logits_;
}

}  // namespace qes::testing
