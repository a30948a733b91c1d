// Float ops for x86-64 AVX-512. Built with the flags of the avx512 kernels
// (F/BW/VL/DQ) and used under the same CPU check, though only F is needed.
#include "float_ops_xsimd.hpp"

namespace qes::simd {
extern constinit const FloatOps kFloatOpsAvx512 = vec::make_float_ops<xsimd::avx512f>("avx512");
}  // namespace qes::simd
