// AVX-512 BW without VNNI: vpmaddubsw + vpmaddwd + add on 512-bit registers.
#include <immintrin.h>

#include "int8_peak.hpp"

namespace qes::simd {
namespace avx512_peak {
struct Ops {
  using Vec = __m512i;
  static constexpr int kMacsPerOp = 64;
  static Vec zero() { return _mm512_setzero_si512(); }
  static Vec set1(int32_t x) { return _mm512_set1_epi32(x); }
  static Vec add(Vec a, Vec b) { return _mm512_add_epi32(a, b); }
  static void store(int32_t* p, Vec v) { _mm512_store_si512(p, v); }
  static void mac(Vec& acc, Vec a, Vec b) {
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(a, b), _mm512_set1_epi16(1)));
  }
};
#include "int8_peak_x86.inl"
}  // namespace avx512_peak

int64_t int8_peak_loop_avx512(int64_t iterations, int32_t* sink) {
  return avx512_peak::peak_loop<avx512_peak::Ops>(iterations, sink);
}

}  // namespace qes::simd
