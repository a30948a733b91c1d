#pragma once
// The weight-side operations of the forward pass over the kernels
// (qes/matmul.hpp), shaped for one OpenMP parallel region per forward step.
// Float operations come from qes/float_ops.hpp.
#include "qes/matmul.hpp"
#include "qes/model.hpp"
#include "spin_barrier.hpp"

#include <atomic>
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

// How the threads of a step share a linear layer's rows when the input is up
// to 4 rows (decode): each thread owns a contiguous share of every output's
// 32-row tiles and takes half of what is left of it from the front at a
// time; a thread done with its own share takes short runs from the back of
// the others'. Weight reads stay long sequential streams (one per thread),
// and a thread the OS or a busy sibling core slows down does not keep the
// rest waiting at the next barrier (epyc2's second vCPU ran 8-27 % slower
// than the first in whole decode runs). Halving leaves the others a large
// part to take until the end; fixed 256 KiB runs left the owner's last run
// untakeable (decode 0.7-1.3 % slower on epyc2).
constexpr int kShareMaxRows = 4;  // linear() uses RowShares for inputs of up to this many rows

class RowShares {
 public:
  void resize(int threads);
  int size() const { return static_cast<int>(spans_.size()); }
  // Every thread opens its own share at the start of a linear call; all
  // shares were used up by the end of the previous call, and the caller put
  // a barrier between the calls, so a thread that looks at a share not yet
  // opened sees it empty.
  void open(int owner, int64_t tiles);
  // Tiles [*a, *b) of `owner`'s share: for the owner, half of what is left
  // from its front (at least `least` tiles), so its reads stay long streams
  // while what others may take stays large until the end; for the others,
  // up to `want` tiles from its back. False when the share is used up.
  bool take_front(int owner, int64_t least, int64_t* a, int64_t* b);
  bool take_back(int owner, int64_t want, int64_t* a, int64_t* b);

 private:
  bool take(int owner, int64_t want, bool back, int64_t* a, int64_t* b);
  // Tiles [low 32 bits, high 32 bits) still free; one cache line each.
  struct alignas(64) Span {
    std::atomic<uint64_t> v{0};
  };
  std::vector<Span> spans_;
};

// For each output: y[r][o] = sum_c W[o][c] * x[r][c] for every row r of the
// input. Called by every thread of the enclosing parallel region (the caller
// synchronizes after it), or by one thread outside any region. Up to 4 input
// rows, with `shares` for at least the team: shared out as RowShares says;
// otherwise an orphaned `omp for nowait` over blocks of rows of all the
// matrices together. Blocks start at multiples of 32 rows, the kernels' fixed
// row tile, so every output element is computed the same way whatever the
// thread count, and depends only on its own row of x, never on the other rows.
void linear(std::initializer_list<LinearOutput> outputs, const LinearInput& in, RowShares* shares = nullptr);

// The first `bytes` of the weights thread `tid` of `nth` reads in a linear()
// with RowShares whose first output is w (its share starts with its part of
// w's tiles): what it may ask the caches for while it waits to start.
PrefetchRange share_front(const QuantMatrix& w, int tid, int nth, size_t bytes);

// Row `row` of any matrix (the token embedding) as floats.
void embedding_row(const QuantMatrix& m, int64_t row, float* out);

}  // namespace qes::model_ops
