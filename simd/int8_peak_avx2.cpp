// AVX2 has no int8 dot product: vpmaddubsw (u8 x s8, pairs summed into i16)
// then vpmaddwd with ones (into i32) and an add, the sequence the AVX2 kernels use.
#include <immintrin.h>

#include "int8_peak.hpp"

namespace qes::simd {
namespace avx2_peak {
struct Ops {
  using Vec = __m256i;
  static constexpr int kMacsPerOp = 32;
  static Vec zero() { return _mm256_setzero_si256(); }
  static Vec set1(int32_t x) { return _mm256_set1_epi32(x); }
  static Vec add(Vec a, Vec b) { return _mm256_add_epi32(a, b); }
  static void store(int32_t* p, Vec v) { _mm256_store_si256(reinterpret_cast<Vec*>(p), v); }
  static void mac(Vec& acc, Vec a, Vec b) {
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)));
  }
};
#include "int8_peak_x86.inl"
}  // namespace avx2_peak

int64_t int8_peak_loop_avx2(int64_t iterations, int32_t* sink) {
  return avx2_peak::peak_loop<avx2_peak::Ops>(iterations, sink);
}

}  // namespace qes::simd
