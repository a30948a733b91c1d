// Float ops for ARM NEON: aarch64 (NEON is baseline there) or armv7 (this unit
// alone is built with -mfpu=neon and used only when HWCAP reports NEON).
#include "float_ops_xsimd.hpp"

namespace qes::simd {
#if XSIMD_WITH_NEON64
extern constinit const FloatOps kFloatOpsNeon = vec::make_float_ops<xsimd::neon64>("neon");
#elif XSIMD_WITH_NEON
extern constinit const FloatOps kFloatOpsNeon = vec::make_float_ops<xsimd::neon>("neon");
#else
#error "float_ops_neon.cpp needs NEON (armv7: -mfpu=neon -mfloat-abi=hard)"
#endif
}  // namespace qes::simd
