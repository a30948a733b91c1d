// Scalar bodies of the model's numeric operations, used until the kernels and
// float_ops branches land; then each forwards to them.
#include "ops.hpp"

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

void embedding_row(const QuantMatrix& m, int64_t row, float* out) {
  dequantize_row(m.type, m.row_ptr(row), out, m.cols);
}

}  // namespace qes::model_ops
