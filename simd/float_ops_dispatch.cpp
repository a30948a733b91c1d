// Chooses the float-op table once: the best variant this binary has and the
// CPU runs, or the one the QES_ISA environment variable asks for.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "float_ops_cpu.hpp"
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

bool always() { return true; }

const FloatOpsVariant kVariants[] = {
    {&kFloatOpsScalar, always},
#ifdef QES_FLOAT_OPS_AVX2
    {&kFloatOpsAvx2, cpu_runs_float_ops_avx2},
#endif
#ifdef QES_FLOAT_OPS_AVX512
    {&kFloatOpsAvx512, cpu_runs_float_ops_avx512},
#endif
#ifdef QES_FLOAT_OPS_NEON
    {&kFloatOpsNeon, cpu_runs_float_ops_neon},
#endif
};

// QES_ISA names a kernel path; the float ops take the best variant whose name
// starts that path's name ("avx512vnni" -> "avx512", "neon_dotprod" -> "neon").
const FloatOps* choose() {
  const char* forced = std::getenv("QES_ISA");
  const FloatOps* best = nullptr;
  for (const FloatOpsVariant& v : kVariants) {
    if (!v.cpu_supports()) continue;
    if (forced && *forced && !std::string_view(forced).starts_with(v.ops->isa)) continue;
    best = v.ops;
  }
  if (!best) {
    throw std::runtime_error(std::string("QES_ISA=") + forced +
                             ": no float-op path of that name runs on this CPU");
  }
  return best;
}

}  // namespace

std::span<const FloatOpsVariant> float_ops_variants() { return kVariants; }

const FloatOps& float_ops() {
  static const FloatOps* chosen = choose();
  return *chosen;
}

}  // namespace qes::simd
