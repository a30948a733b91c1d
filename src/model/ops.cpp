#include "ops.hpp"

#include <omp.h>

#include <algorithm>

namespace qes::model_ops {

namespace {

// Rows of one matrix per work item: a multiple of the kernels' 32-row tile,
// small enough that 2..16 threads split even the 128-row K/V matrices.
constexpr int64_t kBlockRows = 64;
constexpr int64_t kTileRows = 32;  // the kernels' row tile (simd/matmul.cpp)

// Rows per work item for matrix w when linear() has no RowShares for the
// team (one thread, or a caller without them). With up to kShareMaxRows (4) rows
// every matrix is cut into one item per thread (rows_per_thread): a fixed
// 256-row item cut an 896-row matrix into 3.5 items, so at 2 threads one
// waited for a quarter of the matrix.
int64_t rows_per_item(const QuantMatrix& w, int input_rows, int threads) {
  return input_rows > kShareMaxRows ? kBlockRows : rows_per_thread(w.rows, threads);
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

void RowShares::resize(int threads) {
  if (threads != size()) spans_ = std::vector<Span>(static_cast<size_t>(threads));
}

void RowShares::open(int owner, int64_t tiles) {
  spans_[owner].v.store(static_cast<uint64_t>(tiles) << 32, std::memory_order_release);
}

bool RowShares::take_front(int owner, int64_t least, int64_t* a, int64_t* b) { return take(owner, least, false, a, b); }
bool RowShares::take_back(int owner, int64_t want, int64_t* a, int64_t* b) { return take(owner, want, true, a, b); }

bool RowShares::take(int owner, int64_t want, bool back, int64_t* a, int64_t* b) {
  std::atomic<uint64_t>& span = spans_[owner].v;
  uint64_t v = span.load(std::memory_order_acquire);
  for (;;) {
    const int64_t lo = static_cast<int64_t>(v & 0xffffffffu), hi = static_cast<int64_t>(v >> 32);
    if (lo >= hi) return false;
    // The run taken (the owner's: half of what is left, at least `want`), and
    // what is left of the span.
    const int64_t n = back ? want : std::max(want, (hi - lo + 1) / 2);
    const int64_t first = back ? std::max(lo, hi - n) : lo, last = back ? hi : std::min(hi, lo + n);
    const int64_t left_lo = back ? lo : last, left_hi = back ? first : hi;
    if (span.compare_exchange_weak(v, static_cast<uint64_t>(left_hi) << 32 | static_cast<uint64_t>(left_lo),
                                   std::memory_order_acq_rel)) {
      *a = first, *b = last;
      return true;
    }
  }
}

namespace {

// Tiles in ~`bytes` of w's weights: the least a thread takes of its own share
// at a time and what it takes of another's, ~32 KiB (the finish evens out to
// within a few microseconds).
int64_t tiles_per_run(const QuantMatrix& w, size_t bytes) {
  const size_t tile = static_cast<size_t>(kTileRows) * w.row_stride();
  return std::max<int64_t>(1, static_cast<int64_t>(bytes / tile));
}

// Share t of nth holds, output after output, tiles [T*t/nth, T*(t+1)/nth) of
// each output's T tiles.
int64_t first_tile(const QuantMatrix& w, int t, int nth) { return (w.rows + kTileRows - 1) / kTileRows * t / nth; }

// The decode case of linear(): RowShares over the outputs' tiles together.
void linear_shared(const LinearOutput* outs, int n_out, const LinearInput& in, RowShares& shares) {
  const int nth = omp_get_num_threads(), tid = omp_get_thread_num();
  const Isa isa = active_isa();
  // Share t's length, and its tiles [a, b) run through.
  auto first_tile = [&](int o, int t) { return model_ops::first_tile(*outs[o].w, t, nth); };
  auto share_tiles = [&](int t) {
    int64_t n = 0;
    for (int o = 0; o < n_out; o++) n += first_tile(o, t + 1) - first_tile(o, t);
    return n;
  };
  auto run = [&](int t, int64_t a, int64_t b) {
    for (int o = 0; o < n_out && a < b; o++) {
      const int64_t t0 = first_tile(o, t), n = first_tile(o, t + 1) - t0;
      if (a < n) {
        const QuantMatrix& w = *outs[o].w;
        const int64_t end = std::min(b, n);
        const int64_t r0 = (t0 + a) * kTileRows, r1 = std::min(w.rows, (t0 + end) * kTileRows);
        if (is_quantized(w.type))
          matmul_rows(isa, w, in.chunk(0), r0, r1, outs[o].y, w.rows);
        else
          matmul_rows(isa, w, in.x(), in.cols(), in.rows(), r0, r1, outs[o].y, w.rows);
        a = end;
      }
      a -= n, b -= n;
    }
  };
  // Run lengths from the first output's rows (the outputs of one call have
  // the same columns and type in every architecture qes runs).
  const int64_t run_tiles = tiles_per_run(*outs[0].w, size_t{32} << 10);
  shares.open(tid, share_tiles(tid));
  int64_t a, b;
  while (shares.take_front(tid, run_tiles, &a, &b)) run(tid, a, b);
  for (int k = 1; k < nth; k++) {
    const int victim = (tid + k) % nth;
    while (shares.take_back(victim, run_tiles, &a, &b)) run(victim, a, b);
  }
}

}  // namespace

void linear(std::initializer_list<LinearOutput> outputs, const LinearInput& in, RowShares* shares) {
  const LinearOutput* outs = outputs.begin();
  const int n_out = static_cast<int>(outputs.size());
  const int threads = omp_get_num_threads();  // 1 outside a parallel region
  if (shares && threads > 1 && in.rows() <= kShareMaxRows && shares->size() >= threads) {
    linear_shared(outs, n_out, in, *shares);
    return;
  }
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

PrefetchRange share_front(const QuantMatrix& w, int tid, int nth, size_t bytes) {
  const int64_t r0 = first_tile(w, tid, nth) * kTileRows, r1 = std::min(w.rows, first_tile(w, tid + 1, nth) * kTileRows);
  return {reinterpret_cast<const char*>(w.row_ptr(r0)), std::min(bytes, static_cast<size_t>(r1 - r0) * w.row_stride())};
}

void embedding_row(const QuantMatrix& m, int64_t row, float* out) {
  dequantize_row(m.type, m.row_ptr(row), out, m.cols);
}

}  // namespace qes::model_ops
