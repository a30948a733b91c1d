// AVX-512 (F/BW/VL) vector helpers for the x86 bodies, included inside the
// avx512 or avx512vnni namespace. QES_X86_VNNI selects vpdpbusd for dot().
// A zmm holds two 32-weight blocks; after a dot its 16 int32 lanes are
// [block i x8, block i+1 x8].

constexpr int kBPV = 2;
constexpr int kRT = 4;  // 4x4 tile: 16 accumulators + 4 codes + 4 scales < 32 zmm
constexpr int kBT = 4;
constexpr bool kVnni = QES_X86_VNNI;
using VI = __m512i;
using VF = __m512;

inline VI zero_i() { return _mm512_setzero_si512(); }
inline VF zero_f() { return _mm512_setzero_ps(); }
inline VI sub_i(VI a, VI b) { return _mm512_sub_epi32(a, b); }
template <int N>
inline VI shl_i(VI v) { return _mm512_slli_epi32(v, N); }
inline VF fmadd(VF a, VF b, VF c) { return _mm512_fmadd_ps(a, b, c); }
inline float hsum(VF v) { return _mm512_reduce_add_ps(v); }
inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

// n (1 or 2) blocks of activations; the masked load never reads past block n.
inline VI load_act(const int8_t* p, int n) {
  return n == 2 ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8(0xffffffffull, p);
}
inline VI load_codes(const uint8_t* p) { return _mm512_loadu_si512(p); }
inline void store_codes(uint8_t* p, VI v) { _mm512_storeu_si512(p, v); }

// [s0, 0 x7, s1, 0 x7]: one lane per block carries the block's offset term.
// The permute reads only lanes 0-1, so the 128->512 cast may leave the upper
// lanes undefined (a zero-extension costs one more instruction per use).
inline VI expand_sums(const int32_t* s, int n) {
  const __m128i v = n == 2 ? _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s)) : _mm_cvtsi32_si128(s[0]);
  const __m512i idx = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_maskz_permutexvar_epi32(0x0101, idx, _mm512_castsi128_si512(v));
}

// int32 lanes += sums of 4 adjacent u8*s8 products.
inline VI dot(VI acc, VI w, VI x) {
#if QES_X86_VNNI
  return _mm512_dpbusd_epi32(acc, w, x);
#else
  // maddubs pairs stay below 2*255*127 only for w <= 128; callers keep it so.
  return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(w, x), _mm512_set1_epi16(1)));
#endif
}
// Signed weights: |w| * (x with w's sign). AVX-512 has no vpsignb: a masked negate.
inline VI dot_signed(VI acc, VI w, VI x) {
  const __mmask64 neg = _mm512_movepi8_mask(w);
  return dot(acc, _mm512_abs_epi8(w), _mm512_mask_sub_epi8(x, neg, _mm512_setzero_si512(), x));
}

// The 8 lanes of block k (0: the low 256 bits, 1: the high).
inline __m256i block_lanes(VI v, int k) { return k == 0 ? _mm512_castsi512_si256(v) : _mm512_extracti64x4_epi64(v, 1); }


// Direct decoding of GGUF blocks (b1 is only read when n == 2).
// Two Q4 blocks' nibbles -> [lo0 hi0 lo1 hi1] (32 codes per block, in order).
inline VI load_nibble_blocks(const uint8_t* q0, const uint8_t* q1, int n) {
  const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q0));
  const __m128i b = n == 2 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(q1)) : _mm_setzero_si128();
  const __m256i t = _mm256_inserti128_si256(_mm256_castsi128_si256(a), b, 1);  // [q0 q1]
  const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(t), _mm256_srli_epi16(t, 4), 1);  // [q0 q1 q0>>4 q1>>4]
  const __m512i lo_hi = _mm512_and_si512(z, _mm512_set1_epi8(0x0f));
  return _mm512_permutexvar_epi64(_mm512_set_epi64(7, 6, 3, 2, 5, 4, 1, 0), lo_hi);
}
inline VI load_byte_blocks(const uint8_t* q0, const uint8_t* q1, int n) {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q0));
  const __m256i b = n == 2 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q1)) : _mm256_setzero_si256();
  return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
}
inline VI flip_sign_bits(VI w) { return _mm512_xor_si512(w, _mm512_set1_epi8(static_cast<char>(0x80))); }

// Float-weight body helpers.
constexpr int kFL = 16;
constexpr int kFRT = 4;
constexpr int kFBT = 4;
inline __mmask16 first_n(int n) { return static_cast<__mmask16>((1u << n) - 1); }
inline VF load_f32(const float* p, int n) { return n == kFL ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(first_n(n), p); }
inline VF load_f16(const uint16_t* p, int n) {
  const __m256i h = n == kFL ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))
                             : _mm256_maskz_loadu_epi16(first_n(n), p);
  return _mm512_cvtph_ps(h);
}
