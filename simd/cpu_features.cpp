// Runtime CPU feature detection, our own (DESIGN.md §3): cpuid + XCR0 on x86
// (the OS must save the wide registers, not just the CPU have them), getauxval
// HWCAP on ARM Linux.
#include "kernels.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#elif defined(__aarch64__) || defined(__arm__)
#include <sys/auxv.h>
#endif

namespace qes::simd {

namespace {

#if defined(__x86_64__) || defined(__i386__)
struct X86Features {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false;
  bool os_ymm = false, os_zmm = false;
};

// XGETBV(0) without needing -mxsave for this file.
uint64_t read_xcr0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

X86Features detect_x86() {
  X86Features f;
  unsigned a, b, c, d;
  if (!__get_cpuid_count(1, 0, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27);
  f.fma = c & (1u << 12);
  f.f16c = c & (1u << 29);
  const bool avx = c & (1u << 28);
  if (osxsave && avx) {
    const uint64_t xcr0 = read_xcr0();
    f.os_ymm = (xcr0 & 0x6) == 0x6;     // SSE and AVX state
    f.os_zmm = (xcr0 & 0xe6) == 0xe6;   // plus opmask, ZMM0-15 upper halves, ZMM16-31
  }
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = b & (1u << 5);
    f.avx512f = b & (1u << 16);
    f.avx512bw = b & (1u << 30);
    f.avx512vl = b & (1u << 31);
    f.avx512vnni = c & (1u << 11);
  }
  return f;
}
#endif

#if defined(__aarch64__) || defined(__arm__)
// Bit values from the kernel's uapi hwcap.h, spelled out so older headers build.
#if defined(__aarch64__)
constexpr unsigned long kHwcapAsimd = 1ul << 1;
constexpr unsigned long kHwcapAsimdDp = 1ul << 20;
#else
constexpr unsigned long kHwcapNeon = 1ul << 12;
#endif
#endif

}  // namespace

bool cpu_has(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  static const X86Features f = detect_x86();
  const bool avx2 = f.os_ymm && f.avx2 && f.fma && f.f16c;
  const bool avx512 = avx2 && f.os_zmm && f.avx512f && f.avx512bw && f.avx512vl;
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2: return avx2;
    case Isa::Avx512: return avx512;
    case Isa::Avx512Vnni: return avx512 && f.avx512vnni;
    default: return false;
  }
#elif defined(__aarch64__)
  static const unsigned long hwcap = getauxval(AT_HWCAP);
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Neon: return (hwcap & kHwcapAsimd) != 0;
    case Isa::NeonDot: return (hwcap & kHwcapAsimd) && (hwcap & kHwcapAsimdDp);
    default: return false;
  }
#elif defined(__arm__)
  static const unsigned long hwcap = getauxval(AT_HWCAP);
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Neon: return (hwcap & kHwcapNeon) != 0;
    default: return false;  // the dot product needs armv8.2 (AArch64 here)
  }
#else
  return isa == Isa::Scalar;
#endif
}

bool cpu_is_amd() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return false;
  return b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u;  // "Auth" "enti" "cAMD"
#else
  return false;
#endif
}

}  // namespace qes::simd
