#pragma once
// The merged kernel table of one path (internal): every op is set, either to
// the path's own kernel or to the scalar fallback, and remembers which.
#include "kernels.hpp"

namespace qes::simd {

template <class Fn>
struct Entry {
  Fn fn;
  Isa from;  // the path that implements it (Isa::Scalar for a fallback)
};

struct DispatchTable {
  Isa isa;
  Entry<QuantKernel> gemv[kQTypes];
  Entry<QuantKernel> gemm[kQTypes];
  Entry<FloatKernel> fgemv[kFTypes];
  Entry<FloatKernel> fgemm[kFTypes];
};

// Throws std::runtime_error when `isa` is not compiled in or not supported.
const DispatchTable& dispatch_table(Isa isa);

}  // namespace qes::simd
