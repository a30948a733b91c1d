#pragma once
// Register-only loops of each ISA's int8 dot-product instruction, to estimate
// the int8 multiply-accumulate peak a batched GEMM could reach (kernel_bench).
// Each returns the number of int8 multiply-accumulates it performed; the
// accumulators are folded into `sink` so the loop is not optimised away.
#include <cstdint>

namespace qes::simd {

int64_t int8_peak_loop_scalar(int64_t iterations, int32_t* sink);
int64_t int8_peak_loop_avx2(int64_t iterations, int32_t* sink);
int64_t int8_peak_loop_avx512(int64_t iterations, int32_t* sink);
int64_t int8_peak_loop_avx512vnni(int64_t iterations, int32_t* sink);
int64_t int8_peak_loop_neon(int64_t iterations, int32_t* sink);
int64_t int8_peak_loop_neondot(int64_t iterations, int32_t* sink);

}  // namespace qes::simd
