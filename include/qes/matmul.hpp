#pragma once
// y = W x for quantized (Q4_0, Q4_1, Q8_0, I4_G*) and float (F32, F16, BF16)
// weight matrices, with runtime choice of the instruction set.
//
// Quantized weights: x is quantized per 32-value block to int8 (scale
// d = amax/127, round to nearest even), the block dot products are integer,
// and each block is scaled in float:
//   y[r] = sum over blocks of  dw * dx * sum_j (w_code_j - offset) * xq_j   (+ Q4_1's min term)
// Float weights multiply the float x directly.
//
// Layout: W is rows x cols (QuantMatrix, rows of GGUF blocks, used in place);
// x holds nb vectors of cols floats, vector b at x + b*ldx; y[b*ldy + r].
// Results do not depend on the thread count: rows are split in fixed tiles and
// every output is reduced by one thread in a fixed order.
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "qes/quant.hpp"

namespace qes {

// Instruction-set paths. A path runs if it was compiled into this binary and
// the CPU (and OS) support it; scalar always runs.
enum class Isa : int { Scalar = 0, Avx2, Avx512, Avx512Vnni, Neon, NeonDot };

std::string_view isa_name(Isa isa);                 // "scalar", "avx2", "avx512", "avx512vnni", "neon", "neondot"
bool isa_from_name(std::string_view name, Isa* out);
std::vector<Isa> compiled_isas();                   // in this binary, scalar first
bool cpu_supports(Isa isa);                         // CPU + OS support (scalar: always)
std::vector<Isa> runnable_isas();                   // compiled and supported, scalar first
Isa best_isa();                                     // the last of runnable_isas()

// The path matmul uses: QES_ISA from the environment if set (an unknown,
// uncompiled or unsupported name is an error thrown on first use), else best_isa().
Isa active_isa();
// Force a path (the CLI's --isa). Throws std::runtime_error naming the path
// when it is not compiled in or the CPU lacks it.
void force_isa(Isa isa);
void force_isa(std::string_view name);

// How the AVX-512 VNNI streaming GEMV (batch 1-4, matrices larger than the
// caches) reads rows that start 8-byte aligned: Whole cache lines shifted
// into place (on AMD Zen 5, loads that split cache lines stream from DRAM
// ~30 % slower), or Split: plain unaligned loads (on Intel the shifts compete
// for its one 512-bit shuffle port and cost more than the splits). Auto picks
// Whole on AMD CPUs, Split elsewhere. Results are the same bits either way.
enum class LineLoads : int { Auto = 0, Whole, Split };
void set_line_loads(LineLoads mode);  // for tests and benchmarks
bool whole_line_loads();              // what Auto (or the forced mode) means on this CPU

// Kernel names of the active path (or of `isa`), e.g. "gemv_q4_0_q8__avx512vnni"
// for nb == 1 and "gemm_q4_0_q8__avx512vnni" for nb > 1. Ops a path does not
// implement fall back to the scalar kernel, and the name says so.
std::string kernel_name(DType wtype, int nb);
std::string kernel_name(DType wtype, int nb, Isa isa);

// Vectors per matmul call: a whole default prefill step (256 token rows), so
// the batched kernels decode each weight group once for all of them.
inline constexpr int kMaxBatch = 256;

// x quantized per 32-value block, struct-of-arrays so kernels load 64
// contiguous int8 values: vector b's values at q() + b*cols(), its block i's
// scale at d()[b*blocks() + i], the sum of its int8 values at sum()[...] and
// d*sum as a float at dsum()[...] (the sums fold zero points and offsets in).
class QuantizedActivations {
 public:
  QuantizedActivations() = default;
  QuantizedActivations(const QuantizedActivations& o);
  QuantizedActivations& operator=(const QuantizedActivations& o);

  // x: nb vectors of `cols` floats (cols a multiple of 32), vector b at x + b*ldx.
  void quantize(const float* x, int64_t ldx, int nb, int64_t cols);
  // The same in two steps, so threads can fill disjoint vectors at once:
  // resize() once, then quantize_vectors() for vectors [b0, b1) of x (vector b at x + b*ldx).
  void resize(int nb, int64_t cols);
  void quantize_vectors(const float* x, int64_t ldx, int b0, int b1);

  int64_t cols() const { return cols_; }
  int64_t blocks() const { return cols_ / 32; }
  int batch() const { return nb_; }
  const int8_t* q() const { return q_.data(); }
  const float* d() const { return d_.data(); }
  const int32_t* sum() const { return sum_.data(); }
  const float* dsum() const { return dsum_.data(); }
  // Changes (to a value never used before, by any object) whenever the
  // contents do, so kernels may keep data derived from them between calls.
  uint64_t stamp() const { return stamp_.load(std::memory_order_relaxed); }

 private:
  void restamp();
  std::atomic<uint64_t> stamp_{0};
  int64_t cols_ = 0;
  int nb_ = 0;
  std::vector<int8_t> q_;
  std::vector<float> d_;
  std::vector<int32_t> sum_;
  std::vector<float> dsum_;
};

// y = W x for nb (1..kMaxBatch) vectors on `threads` OpenMP threads (0: the
// OpenMP default). Quantized W quantizes x once. Throws std::invalid_argument
// on shapes or types it cannot multiply.
void matmul(const QuantMatrix& w, const float* x, int64_t ldx, int nb, float* y, int64_t ldy, int threads = 0);
// Quantized W with activations already quantized (reuse x for several matrices).
void matmul(const QuantMatrix& w, const QuantizedActivations& x, float* y, int64_t ldy, int threads = 0);

// Rows each thread takes when up to 4 vectors meet a matrix of `rows` rows
// (decode): one equal run per thread, rounded up to the kernels' 32-row tile,
// so each thread's weight reads are one sequential stream (the hardware
// prefetcher restarts at every jump) and the threads finish together.
int64_t rows_per_thread(int64_t rows, int threads);

// The serial building block: rows [r0, r1) only, on the calling thread, with
// the kernel of path `isa` (must be runnable). For tests and benchmarks.
void matmul_rows(Isa isa, const QuantMatrix& w, const QuantizedActivations& x, int64_t r0, int64_t r1, float* y,
                 int64_t ldy);
void matmul_rows(Isa isa, const QuantMatrix& w, const float* x, int64_t ldx, int nb, int64_t r0, int64_t r1,
                 float* y, int64_t ldy);

}  // namespace qes
