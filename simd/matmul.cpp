// The public matmul: checks shapes, quantizes x once, and splits rows over
// OpenMP threads in fixed tiles. A tile's outputs are computed by one kernel
// call in a fixed order, so the result is the same for any thread count.
#include <omp.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "dispatch.hpp"

namespace qes {

namespace {

// Rows per parallel work item: large enough to amortize a call, small enough
// to balance 16+ threads on the smallest matrices that matter (896 rows).
constexpr int64_t kRowTile = 32;

std::string shape(const QuantMatrix& w) {
  return std::string(dtype_name(w.type)) + " " + std::to_string(w.rows) + "x" + std::to_string(w.cols);
}

void check_common(const QuantMatrix& w, int nb, const float* y) {
  if (!w.data || w.rows <= 0 || w.cols <= 0) throw std::invalid_argument("matmul: empty weight matrix " + shape(w));
  if (nb < 1 || nb > kMaxBatch)
    throw std::invalid_argument("matmul: batch of " + std::to_string(nb) + " vectors (1.." +
                                std::to_string(kMaxBatch) + ")");
  if (!y) throw std::invalid_argument("matmul: null output");
  if (w.cols % block_size(w.type) != 0)
    throw std::invalid_argument("matmul: " + shape(w) + " rows are not whole blocks");
}

simd::ActView view(const QuantizedActivations& x) {
  return {x.q(), x.d(), x.sum(), x.dsum(), x.cols(), x.blocks(), x.batch(), x.stamp()};
}

simd::QuantKernel quant_kernel(Isa isa, const QuantMatrix& w, int nb) {
  simd::QType q;
  if (!simd::qtype_of(w.type, &q)) throw std::invalid_argument("matmul: " + shape(w) + " is not a quantized type");
  const auto& t = simd::dispatch_table(isa);
  return (nb == 1 ? t.gemv : t.gemm)[static_cast<int>(q)].fn;
}

simd::FloatKernel float_kernel(Isa isa, const QuantMatrix& w, int nb) {
  simd::FType f;
  if (!simd::ftype_of(w.type, &f)) throw std::invalid_argument("matmul: no float kernel for " + shape(w));
  const auto& t = simd::dispatch_table(isa);
  return (nb == 1 ? t.fgemv : t.fgemm)[static_cast<int>(f)].fn;
}

template <class Body>
void for_row_tiles(int64_t rows, int threads, Body body, int64_t row_tile = kRowTile) {
  const int64_t tiles = (rows + row_tile - 1) / row_tile;
  const int n = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(static) num_threads(n) if (tiles > 1 && n > 1)
  for (int64_t t = 0; t < tiles; t++) {
    const int64_t r0 = t * row_tile;
    body(r0, std::min(rows, r0 + row_tile));
  }
}

}  // namespace

int64_t rows_per_thread(int64_t rows, int threads) {
  const int64_t share = (rows + threads - 1) / threads;
  return std::max(kRowTile, (share + kRowTile - 1) / kRowTile * kRowTile);
}

void matmul(const QuantMatrix& w, const QuantizedActivations& x, float* y, int64_t ldy, int threads) {
  check_common(w, x.batch(), y);
  if (x.cols() != w.cols)
    throw std::invalid_argument("matmul: " + shape(w) + " times activations of " + std::to_string(x.cols()) + " values");
  if (ldy < w.rows) throw std::invalid_argument("matmul: output stride smaller than the row count");
  const simd::QuantKernel k = quant_kernel(active_isa(), w, x.batch());
  const simd::ActView v = view(x);
  // Up to 4 vectors (decode-sized; the AVX-512 VNNI kernels stream the rows
  // then): give each thread one long run of rows (a multiple of 32), so a
  // kernel's per-call set-up is paid once and its weight reads form one long
  // stream. Rows do not depend on the split.
  const int64_t row_tile =
      x.batch() <= 4 ? rows_per_thread(w.rows, threads > 0 ? threads : omp_get_max_threads()) : kRowTile;
  for_row_tiles(w.rows, threads, [&](int64_t r0, int64_t r1) { k(w, r0, r1, v, y, ldy); }, row_tile);
}

void matmul(const QuantMatrix& w, const float* x, int64_t ldx, int nb, float* y, int64_t ldy, int threads) {
  check_common(w, nb, y);
  if (!x) throw std::invalid_argument("matmul: null input");
  if (ldx < w.cols || ldy < w.rows) throw std::invalid_argument("matmul: stride smaller than the vector length");
  if (is_quantized(w.type)) {
    thread_local QuantizedActivations acts;
    acts.quantize(x, ldx, nb, w.cols);
    matmul(w, acts, y, ldy, threads);
    return;
  }
  const simd::FloatKernel k = float_kernel(active_isa(), w, nb);
  for_row_tiles(w.rows, threads, [&](int64_t r0, int64_t r1) { k(w, r0, r1, x, ldx, nb, y, ldy); });
}

void matmul_rows(Isa isa, const QuantMatrix& w, const QuantizedActivations& x, int64_t r0, int64_t r1, float* y,
                 int64_t ldy) {
  check_common(w, x.batch(), y);
  if (x.cols() != w.cols || r0 < 0 || r1 > w.rows || r0 > r1)
    throw std::invalid_argument("matmul_rows: bad rows or activation length for " + shape(w));
  quant_kernel(isa, w, x.batch())(w, r0, r1, view(x), y, ldy);
}

void matmul_rows(Isa isa, const QuantMatrix& w, const float* x, int64_t ldx, int nb, int64_t r0, int64_t r1,
                 float* y, int64_t ldy) {
  check_common(w, nb, y);
  if (r0 < 0 || r1 > w.rows || r0 > r1 || ldx < w.cols)
    throw std::invalid_argument("matmul_rows: bad rows or stride for " + shape(w));
  float_kernel(isa, w, nb)(w, r0, r1, x, ldx, nb, y, ldy);
}

}  // namespace qes
