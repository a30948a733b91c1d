// AVX-512 VNNI: one vpdpbusd does 64 u8 x s8 multiply-accumulates into i32 lanes.
#include <immintrin.h>

#include "int8_peak.hpp"

namespace qes::simd {
namespace avx512vnni_peak {
struct Ops {
  using Vec = __m512i;
  static constexpr int kMacsPerOp = 64;
  static Vec zero() { return _mm512_setzero_si512(); }
  static Vec set1(int32_t x) { return _mm512_set1_epi32(x); }
  static Vec add(Vec a, Vec b) { return _mm512_add_epi32(a, b); }
  static void store(int32_t* p, Vec v) { _mm512_store_si512(p, v); }
  static void mac(Vec& acc, Vec a, Vec b) { acc = _mm512_dpbusd_epi32(acc, a, b); }
};
#include "int8_peak_x86.inl"
}  // namespace avx512vnni_peak

int64_t int8_peak_loop_avx512vnni(int64_t iterations, int32_t* sink) {
  return avx512vnni_peak::peak_loop<avx512vnni_peak::Ops>(iterations, sink);
}

}  // namespace qes::simd
