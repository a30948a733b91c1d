#pragma once
// Vectorized float ops for one xsimd architecture A. Included only by the
// per-ISA translation units simd/float_ops_<isa>.cpp: each is compiled with its
// own flags and instantiates these templates for its own A only, so no inline
// function compiled for one ISA can be picked by the linker for another
// (DESIGN.md §3). Keep non-template inline functions out of this file.
//
// Tails (lengths not a multiple of the vector width) go through a zero-padded
// buffer and the same vector code, so an element's result never depends on
// where it sits in the array.
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "float_ops_table.hpp"
#include "qes/quant.hpp"

namespace qes::simd::vec {

// Loops over a handful of accumulators: fully unrolled, so that their arrays
// live in registers rather than on the stack.
#define QES_UNROLL _Pragma("GCC unroll 16")

template <class A>
using fbatch = xsimd::batch<float, A>;

template <class>
inline constexpr bool kUnsupportedArch = false;

// Loads n < size elements (the rest zero).
template <class A, class T>
inline void copy_partial(T (&buffer)[fbatch<A>::size], const T* p, size_t n) {
  std::memset(buffer, 0, sizeof buffer);
  std::memcpy(buffer, p, n * sizeof(T));
}
template <class A>
inline fbatch<A> load_partial(const float* p, size_t n) {
  alignas(64) float buffer[fbatch<A>::size];
  copy_partial<A>(buffer, p, n);
  return fbatch<A>::load_aligned(buffer);
}
template <class A>
inline void store_partial(float* p, fbatch<A> v, size_t n) {
  alignas(64) float buffer[fbatch<A>::size];
  v.store_aligned(buffer);
  std::memcpy(p, buffer, n * sizeof(float));
}

// size IEEE half values -> floats. Exact for every input (subnormals included).
template <class A>
inline fbatch<A> load_f16(const uint16_t* p) {
  if constexpr (kUnsupportedArch<A>) {
  }
#if XSIMD_WITH_AVX512F
  else if constexpr (std::is_same_v<A, xsimd::avx512f>) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
#endif
#if XSIMD_WITH_AVX2
  else if constexpr (std::is_base_of_v<xsimd::avx2, A>) {  // the AVX2 unit is built with F16C
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
#endif
#if XSIMD_WITH_NEON64
  else if constexpr (std::is_same_v<A, xsimd::neon64>) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
  }
#endif
#if XSIMD_WITH_NEON
  else if constexpr (std::is_same_v<A, xsimd::neon>) {
    // armv7 NEON has no half conversion without the fp16 extension: rebuild the
    // float bits. Subnormal halves go through an exact int->float conversion
    // (armv7 NEON arithmetic flushes float subnormals, but these land on normals).
    const uint32x4_t h = vmovl_u16(vld1_u16(p));
    const uint32x4_t sign = vshlq_n_u32(vandq_u32(h, vdupq_n_u32(0x8000)), 16);
    const uint32x4_t magnitude = vandq_u32(h, vdupq_n_u32(0x7fff));
    const uint32x4_t rebias = vdupq_n_u32(112u << 23);  // (127 - 15) << 23
    uint32x4_t normal = vaddq_u32(vshlq_n_u32(magnitude, 13), rebias);
    const uint32x4_t inf_or_nan = vcgeq_u32(magnitude, vdupq_n_u32(0x7c00));
    normal = vaddq_u32(normal, vandq_u32(inf_or_nan, rebias));  // exponent field all ones
    const uint32x4_t subnormal = vcltq_u32(magnitude, vdupq_n_u32(0x400));
    const float32x4_t subnormal_value = vmulq_n_f32(vcvtq_f32_u32(magnitude), 0x1p-24f);
    const uint32x4_t bits =
        vorrq_u32(vbslq_u32(subnormal, vreinterpretq_u32_f32(subnormal_value), normal), sign);
    return vreinterpretq_f32_u32(bits);
  }
#endif
  else {
    static_assert(kUnsupportedArch<A>, "load_f16: no implementation for this architecture");
  }
}
template <class A>
inline fbatch<A> load_f16_partial(const uint16_t* p, size_t n) {
  uint16_t buffer[fbatch<A>::size];
  copy_partial<A>(buffer, p, n);
  return load_f16<A>(buffer);
}

// size floats -> IEEE halves, rounded to nearest with ties to even (the
// conversion instructions' own rounding, not the MXCSR/FPCR mode), exactly as
// qes::fp32_to_fp16. Not for armv7 NEON (no conversion instruction): f32_to_f16
// takes the scalar route there.
template <class A>
inline void store_f16(uint16_t* p, fbatch<A> v) {
  if constexpr (kUnsupportedArch<A>) {
  }
#if XSIMD_WITH_AVX512F
  else if constexpr (std::is_same_v<A, xsimd::avx512f>) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                        _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
#endif
#if XSIMD_WITH_AVX2
  else if constexpr (std::is_base_of_v<xsimd::avx2, A>) {  // the AVX2 unit is built with F16C
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                     _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
#endif
#if XSIMD_WITH_NEON64
  else if constexpr (std::is_same_v<A, xsimd::neon64>) {
    vst1_u16(p, vreinterpret_u16_f16(vcvt_f16_f32(v)));  // FPCR's rounding: nearest even by default
  }
#endif
  else {
    static_assert(kUnsupportedArch<A>, "store_f16: no implementation for this architecture");
  }
}

// xsimd 8.1 has hadd but no horizontal max.
template <class A>
inline float horizontal_max(fbatch<A> v) {
  alignas(64) float lanes[fbatch<A>::size];
  v.store_aligned(lanes);
  float max = lanes[0];
  for (size_t i = 1; i < fbatch<A>::size; i++) max = lanes[i] > max ? lanes[i] : max;
  return max;
}

// (v0, v1, v2, v3, ...) -> (v1, v0, v3, v2, ...)
template <class A>
inline fbatch<A> swap_adjacent_pairs(fbatch<A> v) {
  if constexpr (kUnsupportedArch<A>) {
  }
#if XSIMD_WITH_AVX512F
  else if constexpr (std::is_same_v<A, xsimd::avx512f>) {
    return _mm512_permute_ps(v, 0xB1);
  }
#endif
#if XSIMD_WITH_AVX
  else if constexpr (std::is_base_of_v<xsimd::avx, A>) {
    return _mm256_permute_ps(v, 0xB1);
  }
#endif
#if XSIMD_WITH_NEON
  else if constexpr (std::is_base_of_v<xsimd::neon, A>) {
    return vrev64q_f32(v);
  }
#endif
  else {
    static_assert(kUnsupportedArch<A>, "swap_adjacent_pairs: no implementation for this architecture");
  }
}

// Lane i of the result = the sum of the lanes of acc[i], i < size: a
// transposing reduction that costs a few instructions per sum instead of one
// horizontal add each. Every sum is added up in the same tree whatever its i.
// (xsimd 8.1's haddp does this for AVX2 and NEON, but its AVX-512 version
// returns the sums in a permuted order: lanes 2,3 and 4,5 swapped, and so on.)
template <class A>
[[gnu::always_inline]] inline fbatch<A> sum_each(const fbatch<A>* acc) {
  if constexpr (kUnsupportedArch<A>) {
  }
#if XSIMD_WITH_AVX512F
  else if constexpr (std::is_same_v<A, xsimd::avx512f>) {
    // Halves of 128-bit quarters: a's 16 lanes to 8 (lanes 0-7), b's to 8 (8-15).
    auto fold_quarters = [](__m512 a, __m512 b) {
      return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                           _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
    };
    // Then each 8 to 4: quarter 0 from x's first half, 1 its second, 2 and 3 y's.
    auto fold_halves = [](__m512 x, __m512 y) {
      return _mm512_add_ps(_mm512_shuffle_f32x4(x, y, _MM_SHUFFLE(2, 0, 2, 0)),
                           _mm512_shuffle_f32x4(x, y, _MM_SHUFFLE(3, 1, 3, 1)));
    };
    // Within each quarter: (x0+x1, x2+x3, y0+y1, y2+y3).
    auto fold_pairs = [](__m512 x, __m512 y) {
      return _mm512_add_ps(_mm512_shuffle_ps(x, y, _MM_SHUFFLE(2, 0, 2, 0)),
                           _mm512_shuffle_ps(x, y, _MM_SHUFFLE(3, 1, 3, 1)));
    };
    // part[e]'s quarter L holds 4 partial sums of acc[4L + e].
    __m512 part[4];
    QES_UNROLL
    for (int e = 0; e < 4; e++) {
      part[e] = fold_halves(fold_quarters(acc[e], acc[e + 4]), fold_quarters(acc[e + 8], acc[e + 12]));
    }
    // Quarter L of the result: (sum acc[4L], sum acc[4L+1], sum acc[4L+2], sum acc[4L+3]).
    return fold_pairs(fold_pairs(part[0], part[1]), fold_pairs(part[2], part[3]));
  }
#endif
  else {
    return xsimd::haddp(acc);
  }
}

// Loads of float or half elements as float batches, so that the attention
// loops are written once for both KV-cache types.
template <class A>
inline fbatch<A> load_as_float(const float* p) {
  return fbatch<A>::load_unaligned(p);
}
template <class A>
inline fbatch<A> load_as_float(const uint16_t* p) {
  return load_f16<A>(p);
}
template <class A>
inline fbatch<A> load_as_float_partial(const float* p, size_t n) {
  return load_partial<A>(p, n);
}
template <class A>
inline fbatch<A> load_as_float_partial(const uint16_t* p, size_t n) {
  return load_f16_partial<A>(p, n);
}

// The KV cache of a large batch does not fit the caches, and the keys (values)
// of one head are a stream of a few kilobytes that the hardware prefetchers
// pick up late: the attention loops ask for the rows kPrefetchKeys ahead.
// (A micro-benchmark on Zen 5, f16 keys and values of 64 sequences x 6 layers
// x 300 positions, each head's rows contiguous: 16 or 32 rows ahead took 30%
// off the attention time, 8 or 64 less.)
inline constexpr size_t kPrefetchKeys = 16;

template <class KV>
inline void prefetch_row(const KV* p, size_t head_dim) {
  const char* bytes = reinterpret_cast<const char*>(p);
  for (size_t offset = 0; offset < head_dim * sizeof(KV); offset += 64) __builtin_prefetch(bytes + offset);
}

template <class A>
struct FloatOpsImpl {
  using B = fbatch<A>;
  static constexpr size_t N = B::size;

  static void rmsnorm(float* out, const float* x, const float* weight, size_t n, float eps) {
    B acc0(0.0f), acc1(0.0f);
    size_t i = 0;
    for (; i + 2 * N <= n; i += 2 * N) {
      const B v0 = B::load_unaligned(x + i), v1 = B::load_unaligned(x + i + N);
      acc0 = xsimd::fma(v0, v0, acc0);
      acc1 = xsimd::fma(v1, v1, acc1);
    }
    for (; i + N <= n; i += N) {
      const B v = B::load_unaligned(x + i);
      acc0 = xsimd::fma(v, v, acc0);
    }
    if (i < n) {
      const B v = load_partial<A>(x + i, n - i);
      acc1 = xsimd::fma(v, v, acc1);
    }
    const float sum_squares = xsimd::hadd(acc0 + acc1);
    const B scale(1.0f / std::sqrt(sum_squares / static_cast<float>(n) + eps));
    for (i = 0; i + N <= n; i += N) {
      (B::load_unaligned(x + i) * scale * B::load_unaligned(weight + i)).store_unaligned(out + i);
    }
    if (i < n) {
      store_partial<A>(out + i, load_partial<A>(x + i, n - i) * scale * load_partial<A>(weight + i, n - i), n - i);
    }
  }

  static void rope_apply(float* x, int n_heads, int head_dim, int rot_dim, const float* cos,
                         const float* sin, ops::RopeStyle style) {
    const size_t rot = static_cast<size_t>(rot_dim);
    if (style == ops::RopeStyle::HalfSplit) {
      const size_t half = rot / 2;
      for (int h = 0; h < n_heads; h++) {
        float* lo = x + static_cast<size_t>(h) * head_dim;
        float* hi = lo + half;
        size_t i = 0;
        for (; i + N <= half; i += N) {
          const B c = B::load_unaligned(cos + i), s = B::load_unaligned(sin + i);
          const B x0 = B::load_unaligned(lo + i), x1 = B::load_unaligned(hi + i);
          xsimd::fms(x0, c, x1 * s).store_unaligned(lo + i);
          xsimd::fma(x1, c, x0 * s).store_unaligned(hi + i);  // the interleaved lanes' order
        }
        if (i < half) {
          const size_t n = half - i;
          const B c = load_partial<A>(cos + i, n), s = load_partial<A>(sin + i, n);
          const B x0 = load_partial<A>(lo + i, n), x1 = load_partial<A>(hi + i, n);
          store_partial<A>(lo + i, xsimd::fms(x0, c, x1 * s), n);
          store_partial<A>(hi + i, xsimd::fma(x1, c, x0 * s), n);
        }
      }
      return;
    }
    // Interleaved pairs: lane j is multiplied by cos of its pair and its
    // neighbour (j ^ 1) by a signed sin: -sin on the pair's first lane, +sin on
    // the second. rot <= kMaxRopeDim is checked by the caller.
    alignas(64) float cos_lane[ops::kMaxRopeDim];
    alignas(64) float sin_lane[ops::kMaxRopeDim];
    for (size_t i = 0; i < rot / 2; i++) {
      cos_lane[2 * i] = cos_lane[2 * i + 1] = cos[i];
      sin_lane[2 * i] = -sin[i];
      sin_lane[2 * i + 1] = sin[i];
    }
    for (int h = 0; h < n_heads; h++) {
      float* head = x + static_cast<size_t>(h) * head_dim;
      size_t j = 0;
      for (; j + N <= rot; j += N) {  // N is even, so pairs never straddle two batches
        const B v = B::load_unaligned(head + j);
        const B rotated = xsimd::fma(v, B::load_aligned(cos_lane + j),
                                     swap_adjacent_pairs<A>(v) * B::load_aligned(sin_lane + j));
        rotated.store_unaligned(head + j);
      }
      if (j < rot) {
        const size_t n = rot - j;  // even
        const B v = load_partial<A>(head + j, n);
        const B rotated = xsimd::fma(v, load_partial<A>(cos_lane + j, n),
                                     swap_adjacent_pairs<A>(v) * load_partial<A>(sin_lane + j, n));
        store_partial<A>(head + j, rotated, n);
      }
    }
  }

  static void softmax(float* x, size_t n) {
    const float lowest = -INFINITY;
    B max_acc(lowest);
    size_t i = 0;
    for (; i + N <= n; i += N) max_acc = xsimd::max(max_acc, B::load_unaligned(x + i));
    if (i < n) {
      alignas(64) float tail[N];
      for (size_t k = 0; k < N; k++) tail[k] = i + k < n ? x[i + k] : lowest;
      max_acc = xsimd::max(max_acc, B::load_aligned(tail));
    }
    const B max(horizontal_max<A>(max_acc));
    B sum_acc(0.0f);
    for (i = 0; i + N <= n; i += N) {
      const B e = xsimd::exp(B::load_unaligned(x + i) - max);
      e.store_unaligned(x + i);
      sum_acc += e;
    }
    if (i < n) {
      const size_t rest = n - i;
      alignas(64) float tail[N];
      for (size_t k = 0; k < N; k++) tail[k] = k < rest ? x[i + k] : lowest;  // exp(-inf) = 0
      const B e = xsimd::exp(B::load_aligned(tail) - max);
      store_partial<A>(x + i, e, rest);
      sum_acc += e;
    }
    const B inverse_sum(1.0f / xsimd::hadd(sum_acc));
    for (i = 0; i + N <= n; i += N) (B::load_unaligned(x + i) * inverse_sum).store_unaligned(x + i);
    if (i < n) store_partial<A>(x + i, load_partial<A>(x + i, n - i) * inverse_sum, n - i);
  }

  static B silu_mul_batch(B a, B b) { return a / (B(1.0f) + xsimd::exp(-a)) * b; }

  static void silu_mul(float* out, const float* a, const float* b, size_t n) {
    size_t i = 0;
    for (; i + N <= n; i += N) {
      silu_mul_batch(B::load_unaligned(a + i), B::load_unaligned(b + i)).store_unaligned(out + i);
    }
    if (i < n) {
      store_partial<A>(out + i, silu_mul_batch(load_partial<A>(a + i, n - i), load_partial<A>(b + i, n - i)), n - i);
    }
  }

  // Query heads per chunk of the weighted sum: H heads x 4 column batches of
  // accumulators, plus the 4 value batches, must fit the register file (32
  // vector registers on AVX-512 and AArch64, 16 on AVX2 and armv7).
  static constexpr size_t kSumHeads = (N == 16 || XSIMD_WITH_NEON64) ? 4 : 2;

  // Scores of H query heads against keys in blocks of K = N / H, so the block
  // has exactly N (head, key) dot products: each key is loaded (and converted)
  // once for the H heads, and the N accumulators are summed across their lanes
  // together by a transposing reduction (sum_each) instead of one horizontal
  // add per score. A short last block repeats the last key in its empty places
  // (and drops those scores), so key t's score comes out of the same code
  // whatever n_keys is.
  template <size_t H, class KV>
  static void attn_scores_chunk(float* scores, size_t ld_scores, const float* q, const KV* k,
                                size_t stride, size_t n_keys, size_t head_dim, float scale) {
    static_assert(N % H == 0, "heads per chunk must divide the vector width");
    constexpr size_t K = N / H;
    const size_t full = head_dim / N * N;
    const size_t rest = head_dim - full;
    B q_tail[H];
    QES_UNROLL
    for (size_t h = 0; h < H; h++) q_tail[h] = rest ? load_partial<A>(q + h * head_dim + full, rest) : B(0.0f);
    const B scale_batch(scale);
    for (size_t t = 0; t < std::min(kPrefetchKeys, n_keys); t++) prefetch_row(k + t * stride, head_dim);
    for (size_t t = 0; t < n_keys; t += K) {
      const size_t valid = std::min(K, n_keys - t);
      for (size_t p = t + kPrefetchKeys; p < std::min(t + K + kPrefetchKeys, n_keys); p++) prefetch_row(k + p * stride, head_dim);
      const KV* key[K];
      QES_UNROLL
      for (size_t j = 0; j < K; j++) key[j] = k + (t + std::min(j, valid - 1)) * stride;
      B acc[N];
      QES_UNROLL
      for (size_t i = 0; i < N; i++) acc[i] = B(0.0f);
      for (size_t d = 0; d < full; d += N) {
        B qv[H];
        QES_UNROLL
        for (size_t h = 0; h < H; h++) qv[h] = B::load_unaligned(q + h * head_dim + d);
        QES_UNROLL
        for (size_t j = 0; j < K; j++) {
          const B kv = load_as_float<A>(key[j] + d);
          QES_UNROLL
          for (size_t h = 0; h < H; h++) acc[h * K + j] = xsimd::fma(qv[h], kv, acc[h * K + j]);
        }
      }
      if (rest) {
        QES_UNROLL
        for (size_t j = 0; j < K; j++) {
          const B kv = load_as_float_partial<A>(key[j] + full, rest);
          QES_UNROLL
          for (size_t h = 0; h < H; h++) acc[h * K + j] = xsimd::fma(q_tail[h], kv, acc[h * K + j]);
        }
      }
      alignas(64) float lanes[N];
      (sum_each<A>(acc) * scale_batch).store_aligned(lanes);
      if (valid == K) {  // a copy of constant size: a few vector moves, no loop
        QES_UNROLL
        for (size_t h = 0; h < H; h++) std::memcpy(scores + h * ld_scores + t, lanes + h * K, K * sizeof(float));
      } else {
        QES_UNROLL
        for (size_t h = 0; h < H; h++) std::memcpy(scores + h * ld_scores + t, lanes + h * K, valid * sizeof(float));
      }
    }
  }

  template <class KV>
  static void attn_scores(float* scores, size_t ld_scores, const float* q, size_t n_heads,
                          const KV* k, size_t stride, size_t n_keys, size_t head_dim,
                          float scale) {
    size_t h = 0;
    for (; h + 4 <= n_heads; h += 4)
      attn_scores_chunk<4>(scores + h * ld_scores, ld_scores, q + h * head_dim, k, stride, n_keys, head_dim, scale);
    for (; h + 2 <= n_heads; h += 2)
      attn_scores_chunk<2>(scores + h * ld_scores, ld_scores, q + h * head_dim, k, stride, n_keys, head_dim, scale);
    for (; h < n_heads; h++)
      attn_scores_chunk<1>(scores + h * ld_scores, ld_scores, q + h * head_dim, k, stride, n_keys, head_dim, scale);
  }

  // Columns [d, d + C*N) of H heads' outputs, the accumulators held in
  // registers across all keys; each value batch is loaded once for the H heads.
  template <size_t H, size_t C, class KV>
  static void weighted_sum_columns(float* out, const float* w, size_t ld_w, const KV* v,
                                   size_t stride, size_t n_keys, size_t head_dim, size_t d) {
    for (size_t t = 0; t < std::min(kPrefetchKeys, n_keys); t++) {
      for (size_t offset = 0; offset < C * N; offset += 64 / sizeof(KV)) __builtin_prefetch(v + t * stride + d + offset);
    }
    B acc[H][C];
    QES_UNROLL
    for (size_t h = 0; h < H; h++)
      QES_UNROLL
      for (size_t c = 0; c < C; c++) acc[h][c] = B(0.0f);
    for (size_t t = 0; t < n_keys; t++) {
      const KV* value = v + t * stride + d;
      const KV* ahead = v + std::min(t + kPrefetchKeys, n_keys - 1) * stride + d;
      for (size_t offset = 0; offset < C * N; offset += 64 / sizeof(KV)) __builtin_prefetch(ahead + offset);
      B val[C];
      QES_UNROLL
      for (size_t c = 0; c < C; c++) val[c] = load_as_float<A>(value + c * N);
      QES_UNROLL
      for (size_t h = 0; h < H; h++) {
        const B wt(w[h * ld_w + t]);
        QES_UNROLL
        for (size_t c = 0; c < C; c++) acc[h][c] = xsimd::fma(wt, val[c], acc[h][c]);
      }
    }
    QES_UNROLL
    for (size_t h = 0; h < H; h++)
      QES_UNROLL
      for (size_t c = 0; c < C; c++) acc[h][c].store_unaligned(out + h * head_dim + d + c * N);
  }

  template <size_t H, class KV>
  static void attn_weighted_sum_chunk(float* out, const float* w, size_t ld_w, const KV* v,
                                      size_t stride, size_t n_keys, size_t head_dim) {
    size_t d = 0;
    for (; d + 4 * N <= head_dim; d += 4 * N) weighted_sum_columns<H, 4>(out, w, ld_w, v, stride, n_keys, head_dim, d);
    for (; d + N <= head_dim; d += N) weighted_sum_columns<H, 1>(out, w, ld_w, v, stride, n_keys, head_dim, d);
    if (d < head_dim) {
      const size_t rest = head_dim - d;
      B acc[H];
      QES_UNROLL
      for (size_t h = 0; h < H; h++) acc[h] = B(0.0f);
      for (size_t t = 0; t < n_keys; t++) {
        const B val = load_as_float_partial<A>(v + t * stride + d, rest);
        QES_UNROLL
        for (size_t h = 0; h < H; h++) acc[h] = xsimd::fma(B(w[h * ld_w + t]), val, acc[h]);
      }
      QES_UNROLL
      for (size_t h = 0; h < H; h++) store_partial<A>(out + h * head_dim + d, acc[h], rest);
    }
  }

  // Every output element is the same chain of multiply-adds over t whatever
  // the chunking, so the heads per chunk only change the speed.
  template <class KV>
  static void attn_weighted_sum(float* out, const float* w, size_t ld_w, size_t n_heads,
                                const KV* v, size_t stride, size_t n_keys, size_t head_dim) {
    size_t h = 0;
    if constexpr (kSumHeads >= 4) {
      for (; h + 4 <= n_heads; h += 4)
        attn_weighted_sum_chunk<4>(out + h * head_dim, w + h * ld_w, ld_w, v, stride, n_keys, head_dim);
    }
    for (; h + 2 <= n_heads; h += 2)
      attn_weighted_sum_chunk<2>(out + h * head_dim, w + h * ld_w, ld_w, v, stride, n_keys, head_dim);
    for (; h < n_heads; h++)
      attn_weighted_sum_chunk<1>(out + h * head_dim, w + h * ld_w, ld_w, v, stride, n_keys, head_dim);
  }

  static void f16_to_f32(float* out, const uint16_t* in, size_t n) {
    size_t i = 0;
    for (; i + N <= n; i += N) load_f16<A>(in + i).store_unaligned(out + i);
    if (i < n) store_partial<A>(out + i, load_f16_partial<A>(in + i, n - i), n - i);
  }

  static void f32_to_f16(uint16_t* out, const float* in, size_t n) {
#if XSIMD_WITH_NEON && !XSIMD_WITH_NEON64
    if constexpr (std::is_same_v<A, xsimd::neon>) {  // armv7 NEON: no f16 conversion instruction
      for (size_t i = 0; i < n; i++) out[i] = fp32_to_fp16(in[i]);
      return;
    } else
#endif
    {
      size_t i = 0;
      for (; i + N <= n; i += N) store_f16<A>(out + i, B::load_unaligned(in + i));
      if (i < n) {
        uint16_t buffer[N];
        store_f16<A>(buffer, load_partial<A>(in + i, n - i));
        std::memcpy(out + i, buffer, (n - i) * sizeof(uint16_t));
      }
    }
  }
};

// The table of architecture A; isa is the name the dispatch and tests print.
template <class A>
constexpr FloatOps make_float_ops(const char* isa) {
  using Impl = FloatOpsImpl<A>;
  return FloatOps{
      isa,
      Impl::rmsnorm,
      Impl::rope_apply,
      Impl::softmax,
      Impl::silu_mul,
      Impl::template attn_scores<float>,
      Impl::template attn_scores<uint16_t>,
      Impl::template attn_weighted_sum<float>,
      Impl::template attn_weighted_sum<uint16_t>,
      Impl::f16_to_f32,
      Impl::f32_to_f16,
  };
}

}  // namespace qes::simd::vec
