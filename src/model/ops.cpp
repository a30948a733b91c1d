#include "ops.hpp"

#include <algorithm>

namespace qes::model_ops {

// Below this many multiply-adds a parallel region costs more than it saves
// (stories260K's matrices are 4K-11K weights).
constexpr int64_t kParallelWork = 1 << 18;

void linear(std::initializer_list<LinearOutput> outputs, const float* x, int n, QuantizedActivations& scratch) {
  if (outputs.size() == 0 || n == 0) return;
  const int64_t cols = outputs.begin()->w->cols;
  bool any_quantized = false;
  for (const auto& o : outputs) any_quantized |= is_quantized(o.w->type);
  for (int start = 0; start < n; start += kMaxBatch) {
    const int nb = std::min(kMaxBatch, n - start);
    const float* xc = x + static_cast<size_t>(start) * cols;
    if (any_quantized) scratch.quantize(xc, cols, nb, cols);
    for (const auto& o : outputs) {
      const QuantMatrix& w = *o.w;
      float* yc = o.y + static_cast<size_t>(start) * w.rows;
      const int threads = w.rows * w.cols * nb < kParallelWork ? 1 : 0;
      if (is_quantized(w.type))
        matmul(w, scratch, yc, w.rows, threads);
      else
        matmul(w, xc, cols, nb, yc, w.rows, threads);
    }
  }
}

void embedding_row(const QuantMatrix& m, int64_t row, float* out) {
  dequantize_row(m.type, m.row_ptr(row), out, m.cols);
}

}  // namespace qes::model_ops
