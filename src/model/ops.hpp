#pragma once
// The weight-side operations of the forward pass over the kernels
// (qes/matmul.hpp), shaped for one OpenMP parallel region per forward step.
// Float operations come from qes/float_ops.hpp.
#include "qes/matmul.hpp"
#include "qes/model.hpp"

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace qes::model_ops {

// The input of a linear layer: n rows of cols floats, cut into chunks of at
// most kMaxBatch rows (a kernel call's batch), each quantized once for every
// quantized matrix that reads it. Each thread keeps its own (see forward.cpp).
class LinearInput {
 public:
  LinearInput() = default;
  explicit LinearInput(int max_rows);
  // Serial: the input will be n rows of cols floats at x (filled later).
  void prepare(const float* x, int n, int64_t cols);
  // Quantizes rows [r0, r1); threads may fill disjoint ranges at once.
  void quantize_rows(int r0, int r1);

  const float* x() const { return x_; }
  int rows() const { return n_; }
  int64_t cols() const { return cols_; }
  int chunks() const { return (n_ + kMaxBatch - 1) / kMaxBatch; }
  const QuantizedActivations& chunk(int c) const { return q_[c]; }

 private:
  const float* x_ = nullptr;
  int n_ = 0;
  int64_t cols_ = 0;
  std::vector<QuantizedActivations> q_;
};

struct LinearOutput {
  const QuantMatrix* w;
  float* y;  // n rows of w->rows floats
};

// For each output: y[r][o] = sum_c W[o][c] * x[r][c] for every row r of the
// input. Called by every thread of the enclosing parallel region (an orphaned
// `omp for nowait`, work-shared over blocks of rows of all the matrices
// together: the caller synchronizes), or by one thread outside any region. Blocks start at multiples of 32 rows, the kernels' fixed row
// tile, so every output element is computed the same way whatever the thread
// count, and depends only on its own row of x, never on the other rows.
void linear(std::initializer_list<LinearOutput> outputs, const LinearInput& in);

// Row `row` of any matrix (the token embedding) as floats.
void embedding_row(const QuantMatrix& m, int64_t row, float* out);

}  // namespace qes::model_ops
