#pragma once
// Internal kernel interface: what each ISA translation unit provides and the
// dispatcher (dispatch.cpp) collects into one table per path. Not a public
// header: include/qes/matmul.hpp is the API.
//
// Every kernel is serial: it computes rows [r0, r1) for all nb vectors of its
// input and writes y[b*ldy + r]. Threads split rows outside (matmul.cpp).
#include <cstdint>

#include "qes/matmul.hpp"
#include "qes/quant.hpp"

namespace qes::simd {

// Quantized activations as kernels see them (see QuantizedActivations).
struct ActView {
  const int8_t* q;      // nb * cols int8 values, vector b at q + b*cols
  const float* d;       // nb * blocks scales
  const int32_t* sum;   // nb * blocks sums of the int8 values
  const float* dsum;    // nb * blocks, d * sum
  int64_t cols;
  int64_t blocks;       // cols / 32
  int nb;
  uint64_t stamp = 0;   // QuantizedActivations::stamp(); 0: unknown (never reuse derived data)
};

using QuantKernel = void (*)(const QuantMatrix& w, int64_t r0, int64_t r1, const ActView& x, float* y, int64_t ldy);
using FloatKernel = void (*)(const QuantMatrix& w, int64_t r0, int64_t r1, const float* x, int64_t ldx, int nb,
                             float* y, int64_t ldy);

// Weight types the quantized kernels take; I4 covers every group size.
enum class QType : int { Q4_0 = 0, Q4_1, Q8_0, I4, kCount };
enum class FType : int { F32 = 0, F16, BF16, kCount };
inline constexpr int kQTypes = static_cast<int>(QType::kCount);
inline constexpr int kFTypes = static_cast<int>(FType::kCount);

// One path's kernels. gemv is used for nb == 1, gemm for nb > 1 (it also
// accepts nb == 1). A null entry means "not implemented on this path": the
// dispatcher fills it with the scalar kernel.
struct KernelTable {
  Isa isa;
  QuantKernel gemv[kQTypes];
  QuantKernel gemm[kQTypes];
  FloatKernel fgemv[kFTypes];
  FloatKernel fgemm[kFTypes];
};

// Provided by the ISA translation units compiled into this binary (dispatch.cpp
// references only those whose QES_HAVE_<ISA> is defined by CMake).
const KernelTable& kernels_scalar();
const KernelTable& kernels_avx2();
const KernelTable& kernels_avx512();
const KernelTable& kernels_avx512vnni();
const KernelTable& kernels_neon();
const KernelTable& kernels_neondot();

// Helpers shared by all paths (plain C++, compiled without ISA flags).
bool qtype_of(DType t, QType* out);
bool ftype_of(DType t, FType* out);
std::string_view qtype_name(QType t);  // "q4_0", "q4_1", "q8_0", "i4"
std::string_view ftype_name(FType t);  // "f32", "f16", "bf16"

// CPU feature detection (cpu_features.cpp).
bool cpu_has(Isa isa);
bool cpu_is_amd();  // cpuid vendor "AuthenticAMD" (tuning choices, never correctness)

}  // namespace qes::simd
