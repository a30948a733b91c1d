// CPU checks for the float-op variants (cpuid + XCR0 on x86, HWCAP on ARM).
#include "float_ops_cpu.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <cstdint>
#elif defined(__arm__)
#include <sys/auxv.h>
#endif

namespace qes::simd {

#if defined(__x86_64__) || defined(__i386__)
namespace {

struct X86Features {
  bool avx2_fma_f16c = false;
  bool avx512 = false;
};

uint64_t read_xcr0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

X86Features detect() {
  X86Features f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28),
             f16c = c & (1u << 29);
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = read_xcr0();
  const bool os_avx = (xcr0 & 0x6) == 0x6;     // XMM and YMM state
  const bool os_zmm = (xcr0 & 0xe6) == 0xe6;   // plus opmask, ZMM_Hi256, Hi16_ZMM
  if (!os_avx || __get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx2 = b & (1u << 5), avx512f = b & (1u << 16), avx512dq = b & (1u << 17),
             avx512bw = b & (1u << 30), avx512vl = b & (1u << 31);
  f.avx2_fma_f16c = avx2 && fma && f16c;
  f.avx512 = f.avx2_fma_f16c && os_zmm && avx512f && avx512dq && avx512bw && avx512vl;
  return f;
}

const X86Features& features() {
  static const X86Features f = detect();
  return f;
}

}  // namespace

bool cpu_runs_float_ops_avx2() { return features().avx2_fma_f16c; }
bool cpu_runs_float_ops_avx512() { return features().avx512; }
bool cpu_runs_float_ops_neon() { return false; }

#elif defined(__aarch64__)
bool cpu_runs_float_ops_avx2() { return false; }
bool cpu_runs_float_ops_avx512() { return false; }
bool cpu_runs_float_ops_neon() { return true; }  // Advanced SIMD is mandatory in ARMv8-A

#elif defined(__arm__)
bool cpu_runs_float_ops_avx2() { return false; }
bool cpu_runs_float_ops_avx512() { return false; }
bool cpu_runs_float_ops_neon() {
  constexpr unsigned long kHwcapNeon = 1ul << 12;  // HWCAP_NEON in <asm/hwcap.h>
  return getauxval(AT_HWCAP) & kHwcapNeon;
}

#else
bool cpu_runs_float_ops_avx2() { return false; }
bool cpu_runs_float_ops_avx512() { return false; }
bool cpu_runs_float_ops_neon() { return false; }
#endif

}  // namespace qes::simd
