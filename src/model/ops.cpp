// Scalar bodies of the model's numeric operations, used until the kernels and
// float_ops branches land; then each forwards to them.
#include "ops.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace qes::model_ops {

void linear(const QuantMatrix& w, const float* x, int n, float* y) {
  const int64_t rows = w.rows, cols = w.cols;
#pragma omp parallel
  {
    std::vector<float> wrow(static_cast<size_t>(cols));
#pragma omp for schedule(static)
    for (int64_t o = 0; o < rows; o++) {
      dequantize_row(w.type, w.row_ptr(o), wrow.data(), cols);
      for (int r = 0; r < n; r++) {
        const float* xr = x + static_cast<size_t>(r) * cols;
        float s = 0;
        for (int64_t c = 0; c < cols; c++) s += wrow[c] * xr[c];
        y[static_cast<size_t>(r) * rows + o] = s;
      }
    }
  }
}

void rmsnorm(float* out, const float* x, const float* weight, int dim, float eps) {
  float ss = 0;
  for (int i = 0; i < dim; i++) ss += x[i] * x[i];
  const float scale = 1.0f / std::sqrt(ss / dim + eps);
  for (int i = 0; i < dim; i++) out[i] = x[i] * scale * weight[i];
}

void rope(float* head, int rope_dim, const float* cos, const float* sin, RopeStyle style) {
  const int half = rope_dim / 2;
  for (int i = 0; i < half; i++) {
    const int a = style == RopeStyle::Interleaved ? 2 * i : i;
    const int b = style == RopeStyle::Interleaved ? 2 * i + 1 : i + half;
    const float x0 = head[a], x1 = head[b];
    head[a] = x0 * cos[i] - x1 * sin[i];
    head[b] = x0 * sin[i] + x1 * cos[i];
  }
}

void softmax(float* x, int n) {
  float mx = x[0];
  for (int i = 1; i < n; i++) mx = std::max(mx, x[i]);
  float sum = 0;
  for (int i = 0; i < n; i++) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  for (int i = 0; i < n; i++) x[i] /= sum;
}

void silu_mul(float* gate, const float* up, int n) {
  for (int i = 0; i < n; i++) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

float dot_f32(const float* a, const float* b, int n) {
  float s = 0;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

float dot_f16(const float* a, const uint16_t* b, int n) {
  float s = 0;
  for (int i = 0; i < n; i++) s += a[i] * fp16_to_fp32(b[i]);
  return s;
}

void axpy_f32(float* out, float a, const float* v, int n) {
  for (int i = 0; i < n; i++) out[i] += a * v[i];
}

void axpy_f16(float* out, float a, const uint16_t* v, int n) {
  for (int i = 0; i < n; i++) out[i] += a * fp16_to_fp32(v[i]);
}

void f32_to_f16(const float* in, uint16_t* out, int n) {
  for (int i = 0; i < n; i++) out[i] = fp32_to_fp16(in[i]);
}

void embedding_row(const QuantMatrix& m, int64_t row, float* out) {
  dequantize_row(m.type, m.row_ptr(row), out, m.cols);
}

}  // namespace qes::model_ops
