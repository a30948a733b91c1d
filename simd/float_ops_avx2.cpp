// Float ops for x86-64 AVX2 + FMA, with F16C for the f16 KV cache.
#include "float_ops_xsimd.hpp"

namespace qes::simd {
extern constinit const FloatOps kFloatOpsAvx2 = vec::make_float_ops<xsimd::fma3<xsimd::avx2>>("avx2");
}  // namespace qes::simd
