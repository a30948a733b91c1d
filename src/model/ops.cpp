#include "ops.hpp"

#include <omp.h>

#include <algorithm>

namespace qes::model_ops {

namespace {

// Rows of one matrix per work item: a multiple of the kernels' 32-row tile,
// small enough that 2..16 threads split even the 128-row K/V matrices.
constexpr int64_t kBlockRows = 64;

// Rows per work item for matrix w. With up to 4 activation rows (decode at
// batch 1-4) the weights are read from memory at close to the kernels' speed,
// so every matrix is cut into one item per thread (rows_per_thread): a fixed
// 256-row item cut an 896-row matrix into 3.5 items, so at 2 threads one
// waited for a quarter of the matrix, and at 16 threads 12 had nothing to do.
int64_t rows_per_item(const QuantMatrix& w, int input_rows, int threads) {
  return input_rows > 4 ? kBlockRows : rows_per_thread(w.rows, threads);
}

}  // namespace

LinearInput::LinearInput(int max_rows) : q_((max_rows + kMaxBatch - 1) / kMaxBatch) {}

void LinearInput::prepare(const float* x, int n, int64_t cols) {
  // The caller checked n against max_rows (no throwing inside a parallel region).
  x_ = x;
  n_ = n;
  cols_ = cols;
  // Rows that are not whole 32-value blocks only ever meet float matrices
  // (stories260K's ffn_down): nothing to quantize.
  if (cols % 32 != 0) return;
  for (int c = 0; c < chunks(); c++) q_[c].resize(std::min(kMaxBatch, n - c * kMaxBatch), cols);
}

void LinearInput::quantize_rows(int r0, int r1) {
  for (int c = r0 / kMaxBatch; c < chunks() && c * kMaxBatch < r1; c++) {
    const int base = c * kMaxBatch;
    const int b0 = std::max(r0 - base, 0), b1 = std::min(r1 - base, q_[c].batch());
    q_[c].quantize_vectors(x_ + static_cast<size_t>(base) * cols_, cols_, b0, b1);
  }
}

void linear(std::initializer_list<LinearOutput> outputs, const LinearInput& in) {
  const LinearOutput* outs = outputs.begin();
  const int n_out = static_cast<int>(outputs.size());
  const int threads = omp_get_num_threads();  // 1 outside a parallel region
  auto block_rows_of = [&](const QuantMatrix& w) { return rows_per_item(w, in.rows(), threads); };
  auto blocks_of = [&](const QuantMatrix& w) { return (w.rows + block_rows_of(w) - 1) / block_rows_of(w); };
  int64_t items = 0;
  for (int i = 0; i < n_out; i++) items += blocks_of(*outs[i].w);
  const Isa isa = active_isa();
  const int chunks = in.chunks();
  // Dynamic: a thread the OS preempts (shared machines) does not hold up the
  // others. Results do not depend on which thread takes an item.
#pragma omp for schedule(dynamic, 1) nowait
  for (int64_t item = 0; item < items; item++) {
    int64_t block = item;
    int o = 0;
    while (block >= blocks_of(*outs[o].w)) block -= blocks_of(*outs[o++].w);
    const QuantMatrix& w = *outs[o].w;
    const int64_t r0 = block * block_rows_of(w), r1 = std::min(w.rows, r0 + block_rows_of(w));
    // All chunks of the input against this block while its weights are in cache.
    for (int c = 0; c < chunks; c++) {
      float* y = outs[o].y + static_cast<size_t>(c) * kMaxBatch * w.rows;
      if (is_quantized(w.type)) {
        matmul_rows(isa, w, in.chunk(c), r0, r1, y, w.rows);
      } else {
        const int nb = std::min(kMaxBatch, in.rows() - c * kMaxBatch);
        matmul_rows(isa, w, in.x() + static_cast<size_t>(c) * kMaxBatch * in.cols(), in.cols(), nb, r0, r1, y, w.rows);
      }
    }
  }
}

void embedding_row(const QuantMatrix& m, int64_t row, float* out) {
  dequantize_row(m.type, m.row_ptr(row), out, m.cols);
}

}  // namespace qes::model_ops
