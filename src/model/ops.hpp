#pragma once
// The weight-side operations of the forward pass over the kernels
// (qes/matmul.hpp): batches longer than a kernel call takes are cut into
// chunks, activations are quantized once for every matrix that reads them, and
// tiny products stay on one thread. Float operations come from qes/float_ops.hpp.
#include "qes/matmul.hpp"
#include "qes/model.hpp"

#include <cstdint>
#include <initializer_list>

namespace qes::model_ops {

struct LinearOutput {
  const QuantMatrix* w;
  float* y;  // n rows of w->rows floats
};

// For each output: y[r][o] = sum_c W[o][c] * x[r][c], r < n (x: n rows of cols
// floats, all W with cols columns). Every output element depends only on its own
// row of x, never on n or on the other rows: batch composition changes nothing.
void linear(std::initializer_list<LinearOutput> outputs, const float* x, int n, QuantizedActivations& scratch);

inline void linear(const QuantMatrix& w, const float* x, int n, float* y, QuantizedActivations& scratch) {
  linear({{&w, y}}, x, n, scratch);
}

// Row `row` of any matrix (the token embedding) as floats.
void embedding_row(const QuantMatrix& m, int64_t row, float* out);

}  // namespace qes::model_ops
