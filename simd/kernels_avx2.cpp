// AVX2 + FMA + F16C kernels (maddubs path). This file alone is compiled with
// -mavx2 -mfma -mf16c (simd/CMakeLists.txt); the shared bodies are included
// inside namespace qes::simd::avx2 so nothing collides with other paths.
// A ymm holds one 32-weight block; its 8 int32 lanes after a dot all belong
// to that block.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels.hpp"

namespace qes::simd::avx2 {
using simd::FType;
using simd::QType;

constexpr int kBPV = 1;
constexpr int kRT = 2;  // 2x4 tile: 8 accumulators + codes + scales fit 16 ymm
constexpr int kBT = 4;
constexpr bool kVnni = false;
using VI = __m256i;
using VF = __m256;

inline VI zero_i() { return _mm256_setzero_si256(); }
inline VF zero_f() { return _mm256_setzero_ps(); }
inline VI sub_i(VI a, VI b) { return _mm256_sub_epi32(a, b); }
template <int N>
inline VI shl_i(VI v) { return _mm256_slli_epi32(v, N); }
inline VF fmadd(VF a, VF b, VF c) { return _mm256_fmadd_ps(a, b, c); }
inline float hsum(VF v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

inline VI load_act(const int8_t* p, int) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline VI load_codes(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline void store_codes(uint8_t* p, VI v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
inline VI expand_sums(const int32_t* s, int) { return _mm256_zextsi128_si256(_mm_cvtsi32_si128(s[0])); }

// int32 lanes += sums of 4 adjacent u8*s8 products (w <= 128: no saturation).
inline VI dot(VI acc, VI w, VI x) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1)));
}
inline VI dot_signed(VI acc, VI w, VI x) { return dot(acc, _mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w)); }
// The 8 lanes of block k (one block per ymm: k is 0).
inline __m256i block_lanes(VI v, int) { return v; }

// Direct decoding of one GGUF block (n is always 1 here).
inline VI load_nibble_blocks(const uint8_t* q0, const uint8_t*, int) {
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q0));
  const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(t), _mm_srli_epi16(t, 4), 1);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}
inline VI load_byte_blocks(const uint8_t* q0, const uint8_t*, int) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q0));
}
inline VI flip_sign_bits(VI w) { return _mm256_xor_si256(w, _mm256_set1_epi8(static_cast<char>(0x80))); }


// Float-weight body helpers; tails load through a zeroed copy.
constexpr int kFL = 8;
constexpr int kFRT = 2;
constexpr int kFBT = 4;
inline VF load_f32(const float* p, int n) {
  if (n == kFL) return _mm256_loadu_ps(p);
  alignas(32) float t[8] = {};
  std::memcpy(t, p, n * sizeof(float));
  return _mm256_load_ps(t);
}
inline VF load_f16(const uint16_t* p, int n) {
  if (n == kFL) return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  alignas(16) uint16_t t[8] = {};
  std::memcpy(t, p, n * sizeof(uint16_t));
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(t)));
}

#include "x86_quant_body.inl"
#include "x86_float_body.inl"
}  // namespace qes::simd::avx2

namespace qes::simd {
const KernelTable& kernels_avx2() {
  static const KernelTable table = avx2::make_table(Isa::Avx2);
  return table;
}
}  // namespace qes::simd
