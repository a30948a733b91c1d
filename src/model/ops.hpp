#pragma once
// The weight-side operations of the forward pass, as one narrow interface over
// the kernels (qes/matmul.hpp). Float operations come from qes/float_ops.hpp.
#include "qes/model.hpp"

#include <cstdint>

namespace qes::model_ops {

// y[r][o] = sum_c W[o][c] * x[r][c] for r < n (x: n x W.cols, y: n x W.rows, row-major).
// Every output element depends only on its own row of x: batch composition never
// changes a result.
void linear(const QuantMatrix& w, const float* x, int n, float* y);

// Row `row` of any matrix (the token embedding) as floats.
void embedding_row(const QuantMatrix& m, int64_t row, float* out);

}  // namespace qes::model_ops
