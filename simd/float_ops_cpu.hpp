#pragma once
// Whether the running CPU and OS can execute each float-op variant.
namespace qes::simd {
bool cpu_runs_float_ops_avx2();    // AVX2 + FMA + F16C, AVX state enabled by the OS
bool cpu_runs_float_ops_avx512();  // AVX-512 F/BW/VL/DQ, ZMM state enabled by the OS
bool cpu_runs_float_ops_neon();    // aarch64: always; armv7: HWCAP_NEON
}  // namespace qes::simd
