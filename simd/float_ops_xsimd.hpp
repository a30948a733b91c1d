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

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "float_ops_table.hpp"

namespace qes::simd::vec {

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

  // Four keys at a time share each load of q.
  template <class KV>
  static void attn_scores(float* scores, const float* q, const KV* k, size_t stride,
                          size_t n_keys, size_t head_dim, float scale) {
    const size_t full = head_dim / N * N;
    const size_t rest = head_dim - full;
    const B q_tail = rest ? load_partial<A>(q + full, rest) : B(0.0f);
    size_t t = 0;
    for (; t + 4 <= n_keys; t += 4) {
      const KV* k0 = k + t * stride;
      const KV* k1 = k0 + stride;
      const KV* k2 = k1 + stride;
      const KV* k3 = k2 + stride;
      B acc0(0.0f), acc1(0.0f), acc2(0.0f), acc3(0.0f);
      for (size_t d = 0; d < full; d += N) {
        const B qv = B::load_unaligned(q + d);
        acc0 = xsimd::fma(qv, load_as_float<A>(k0 + d), acc0);
        acc1 = xsimd::fma(qv, load_as_float<A>(k1 + d), acc1);
        acc2 = xsimd::fma(qv, load_as_float<A>(k2 + d), acc2);
        acc3 = xsimd::fma(qv, load_as_float<A>(k3 + d), acc3);
      }
      if (rest) {
        acc0 = xsimd::fma(q_tail, load_as_float_partial<A>(k0 + full, rest), acc0);
        acc1 = xsimd::fma(q_tail, load_as_float_partial<A>(k1 + full, rest), acc1);
        acc2 = xsimd::fma(q_tail, load_as_float_partial<A>(k2 + full, rest), acc2);
        acc3 = xsimd::fma(q_tail, load_as_float_partial<A>(k3 + full, rest), acc3);
      }
      scores[t] = xsimd::hadd(acc0) * scale;
      scores[t + 1] = xsimd::hadd(acc1) * scale;
      scores[t + 2] = xsimd::hadd(acc2) * scale;
      scores[t + 3] = xsimd::hadd(acc3) * scale;
    }
    for (; t < n_keys; t++) {
      const KV* key = k + t * stride;
      B acc(0.0f);
      for (size_t d = 0; d < full; d += N) acc = xsimd::fma(B::load_unaligned(q + d), load_as_float<A>(key + d), acc);
      if (rest) acc = xsimd::fma(q_tail, load_as_float_partial<A>(key + full, rest), acc);
      scores[t] = xsimd::hadd(acc) * scale;
    }
  }

  // Columns in blocks of four batches kept in registers across all keys.
  template <class KV>
  static void attn_weighted_sum(float* out, const float* w, const KV* v, size_t stride,
                                size_t n_keys, size_t head_dim) {
    size_t d = 0;
    for (; d + 4 * N <= head_dim; d += 4 * N) {
      B acc0(0.0f), acc1(0.0f), acc2(0.0f), acc3(0.0f);
      for (size_t t = 0; t < n_keys; t++) {
        const KV* value = v + t * stride + d;
        const B wt(w[t]);
        acc0 = xsimd::fma(wt, load_as_float<A>(value), acc0);
        acc1 = xsimd::fma(wt, load_as_float<A>(value + N), acc1);
        acc2 = xsimd::fma(wt, load_as_float<A>(value + 2 * N), acc2);
        acc3 = xsimd::fma(wt, load_as_float<A>(value + 3 * N), acc3);
      }
      acc0.store_unaligned(out + d);
      acc1.store_unaligned(out + d + N);
      acc2.store_unaligned(out + d + 2 * N);
      acc3.store_unaligned(out + d + 3 * N);
    }
    for (; d + N <= head_dim; d += N) {
      B acc(0.0f);
      for (size_t t = 0; t < n_keys; t++) acc = xsimd::fma(B(w[t]), load_as_float<A>(v + t * stride + d), acc);
      acc.store_unaligned(out + d);
    }
    if (d < head_dim) {
      const size_t rest = head_dim - d;
      B acc(0.0f);
      for (size_t t = 0; t < n_keys; t++) {
        acc = xsimd::fma(B(w[t]), load_as_float_partial<A>(v + t * stride + d, rest), acc);
      }
      store_partial<A>(out + d, acc, rest);
    }
  }

  static void f16_to_f32(float* out, const uint16_t* in, size_t n) {
    size_t i = 0;
    for (; i + N <= n; i += N) load_f16<A>(in + i).store_unaligned(out + i);
    if (i < n) store_partial<A>(out + i, load_f16_partial<A>(in + i, n - i), n - i);
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
  };
}

}  // namespace qes::simd::vec
