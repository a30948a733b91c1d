// The float-op table of each kernel path. The path itself (and its CPU check)
// comes from the kernel dispatch (include/qes/matmul.hpp), so QES_ISA and
// --isa switch the float ops and the kernels together.
#include "float_ops_table.hpp"

namespace qes::simd {

// Defined by the per-ISA units that simd/float_ops.cmake compiles for this target.
#ifdef QES_FLOAT_OPS_AVX2
extern const FloatOps kFloatOpsAvx2;
#endif
#ifdef QES_FLOAT_OPS_AVX512
extern const FloatOps kFloatOpsAvx512;
#endif
#ifdef QES_FLOAT_OPS_NEON
extern const FloatOps kFloatOpsNeon;
#endif

namespace {

const FloatOpsVariant kVariants[] = {
    {&kFloatOpsScalar, Isa::Scalar},
#ifdef QES_FLOAT_OPS_AVX2
    {&kFloatOpsAvx2, Isa::Avx2},
#endif
#ifdef QES_FLOAT_OPS_AVX512
    {&kFloatOpsAvx512, Isa::Avx512},
#endif
#ifdef QES_FLOAT_OPS_NEON
    {&kFloatOpsNeon, Isa::Neon},
#endif
};

// The float-op ISA of a kernel path: the integer-dot extensions add nothing
// to float code.
Isa float_isa(Isa isa) {
  switch (isa) {
    case Isa::Avx512Vnni: return Isa::Avx512;
    case Isa::NeonDot: return Isa::Neon;
    default: return isa;
  }
}

}  // namespace

std::span<const FloatOpsVariant> float_ops_variants() { return kVariants; }

const FloatOps& float_ops_for(Isa isa) {
  const Isa wanted = float_isa(isa);
  for (const FloatOpsVariant& v : kVariants) {
    if (v.isa == wanted) return *v.ops;
  }
  return kFloatOpsScalar;
}

const FloatOps& float_ops() { return float_ops_for(active_isa()); }

}  // namespace qes::simd
