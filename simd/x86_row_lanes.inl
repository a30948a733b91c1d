// Row-lane Q4_0 / Q8_0 kernels for AVX-512 VNNI, included inside namespace
// qes::simd::avx512vnni after x86_avx512_helpers.inl.
//
// Why a second layout. The block-lane body (x86_quant_body.inl) puts 64
// weights of one row in a zmm, so each vpdpbusd leaves 16 partial sums of one
// row that must each be converted, scaled and accumulated in float: three
// float ops per vpdpbusd, which capped batched GEMM at ~0.25 of the int8 peak.
// Here a zmm holds 4 weights of each of 16 rows (one int32 lane per row), the
// activations are broadcast, and 8 vpdpbusd finish a whole 32-weight block for
// 16 rows: the block's exact integer dot product lands in the row's lane and
// costs one convert, two multiplies and one add for 16 outputs.
//
// Numerics: for every output, in block order,
//   acc = acc + float(isum_i) * (dw_i * dx_i)      (no FMA)
// which is exactly the scalar reference's sum (kernels_scalar.cpp): the
// results equal the reference bit for bit, so they are the same for every
// batch size, tile shape and thread count by construction.
//
// Weights stay in the GGUF layout. A 16-row group's block is transposed on
// the fly into eight code vectors (vector k holds weights 4k..4k+3 of every
// row); the batched GEMM does this once per group into a small per-thread
// scratch and every batch tile reads it back, the GEMV (and batches up to
// kDirectMax) uses it straight from registers.

namespace rowlanes {

constexpr int kRows = 16;      // rows per group, one lane each
constexpr int kMaxBt = 16;     // batch vectors per register tile (16 accumulators + 9 weight registers)
constexpr int kDirectMax = 2;  // batches up to this decode in registers for every batch tile

struct Decoded {
  __m512i v[8];  // v[k] dword l: codes of weights 4k..4k+3 of row l (u8; Q8_0 stored +128)
  __m512 d;      // lane l: the row's block scale
};

template <QType T>
struct Traits;
template <>
struct Traits<QType::Q4_0> {
  static constexpr size_t kBlock = sizeof(BlockQ4_0);
  static constexpr int32_t kOffset = 8;  // code - 8
};
template <>
struct Traits<QType::Q8_0> {
  static constexpr size_t kBlock = sizeof(BlockQ8_0);
  static constexpr int32_t kOffset = 128;  // signed codes stored +128 so vpdpbusd takes them as u8
};

inline int32_t load_i32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Within each 128-bit lane, the 4x4 dword transpose of (a, b, c, d).
inline void transpose4(__m512i& a, __m512i& b, __m512i& c, __m512i& d) {
  const __m512i u0 = _mm512_unpacklo_epi32(a, b), u1 = _mm512_unpackhi_epi32(a, b);
  const __m512i u2 = _mm512_unpacklo_epi32(c, d), u3 = _mm512_unpackhi_epi32(c, d);
  a = _mm512_unpacklo_epi64(u0, u2);
  b = _mm512_unpackhi_epi64(u0, u2);
  c = _mm512_unpacklo_epi64(u1, u3);
  d = _mm512_unpackhi_epi64(u1, u3);
}

inline __m512i load_4x16(const uint8_t* p0, const uint8_t* p1, const uint8_t* p2, const uint8_t* p3) {
  __m512i z = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p0)));
  z = _mm512_inserti32x4(z, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p1)), 1);
  z = _mm512_inserti32x4(z, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p2)), 2);
  return _mm512_inserti32x4(z, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p3)), 3);
}

inline __m512i load_2x32(const uint8_t* p0, const uint8_t* p1) {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p0));
  return _mm512_inserti64x4(_mm512_castsi256_si512(a), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p1)), 1);
}

// The rows of one group, read in place. Lanes past the matrix's last row of
// the call repeat that row; their outputs are never stored.
template <QType T>
struct GroupReader {
  static constexpr size_t kBlock = Traits<T>::kBlock;
  const uint8_t* row[kRows];
  const uint8_t* base;  // row[0]
  __m512i offsets;      // lane l: row[l] - base, for the scale gather

  GroupReader(const QuantMatrix& w, int64_t r, int64_t r1) {
    const int64_t stride = static_cast<int64_t>(w.row_stride());
    alignas(64) int32_t off[kRows];
    base = w.row_ptr(r);
    for (int l = 0; l < kRows; l++) {
      const int64_t rr = std::min<int64_t>(r + l, r1 - 1);
      row[l] = w.row_ptr(rr);
      off[l] = static_cast<int32_t>((rr - r) * stride);
    }
    offsets = _mm512_load_si512(off);
  }

  void prefetch(int64_t i) const {
    // 16 row streams: each row's next line, a few blocks ahead (one row per
    // block step in turn is enough: a row advances less than a line per step).
    constexpr int64_t kAhead = 512;
    for (int l = static_cast<int>(i & 3); l < kRows; l += 4)
      _mm_prefetch(reinterpret_cast<const char*>(row[l] + i * kBlock) + kAhead, _MM_HINT_T0);
  }

  Decoded get(int64_t i) const {
    Decoded out;
    const size_t at = static_cast<size_t>(i) * kBlock;
    // The fp16 scale is the first 2 bytes of every block.
    const __m512i dw = _mm512_i32gather_epi32(offsets, base + at, 1);
    out.d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dw));
    const size_t q = at + 2;
    if constexpr (T == QType::Q4_0) {
      // z[a] lane g = row a + 4g's 16 code bytes: after the transpose, t[k]
      // dword (4g + a) = bytes 4k..4k+3 of row a + 4g, i.e. dword l of row l.
      __m512i z[4];
      for (int a = 0; a < 4; a++) z[a] = load_4x16(row[a] + q, row[a + 4] + q, row[a + 8] + q, row[a + 12] + q);
      transpose4(z[0], z[1], z[2], z[3]);
      const __m512i m = _mm512_set1_epi8(0x0f);
      for (int k = 0; k < 4; k++) {
        out.v[k] = _mm512_and_si512(z[k], m);                              // weights 4k..4k+3
        out.v[k + 4] = _mm512_and_si512(_mm512_srli_epi16(z[k], 4), m);  // weights 16+4k..
      }
    } else {
      // y[a] = [row lo(a) 32 bytes | row hi(a)]; two 4x4 transposes per
      // 128-bit lane and a lane shuffle give v[k] dword l = row l's dword k.
      __m512i y[8];
      for (int a = 0; a < 8; a++) {
        const int lo = a < 4 ? a : a + 4, hi = a < 4 ? a + 4 : a + 8;
        y[a] = load_2x32(row[lo] + q, row[hi] + q);
      }
      transpose4(y[0], y[1], y[2], y[3]);
      transpose4(y[4], y[5], y[6], y[7]);
      const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
      for (int k = 0; k < 4; k++) {
        out.v[k] = _mm512_xor_si512(_mm512_shuffle_i32x4(y[k], y[k + 4], 0x88), flip);
        out.v[k + 4] = _mm512_xor_si512(_mm512_shuffle_i32x4(y[k], y[k + 4], 0xdd), flip);
      }
    }
    return out;
  }
};

// A group's blocks decoded once into a per-thread buffer.
struct alignas(64) Line {
  uint8_t bytes[64];
};
struct GroupScratch {
  std::vector<Line> lines;  // 9 per block: the 8 code vectors, then the scales
  void prepare(int64_t blocks) {
    const size_t n = static_cast<size_t>(blocks) * 9;
    if (lines.size() < n) lines.resize(n);
  }
};

struct ScratchReader {
  const Line* lines;
  void prefetch(int64_t) const {}
  Decoded get(int64_t i) const {
    Decoded out;
    const Line* l = lines + i * 9;
    for (int k = 0; k < 8; k++) out.v[k] = _mm512_load_si512(l + k);
    out.d = _mm512_load_ps(l + 8);
    return out;
  }
};

template <QType T>
void unpack_group(const GroupReader<T>& g, int64_t blocks, GroupScratch& s) {
  for (int64_t i = 0; i < blocks; i++) {
    g.prefetch(i);
    const Decoded dec = g.get(i);
    Line* l = s.lines.data() + i * 9;
    for (int k = 0; k < 8; k++) _mm512_store_si512(l + k, dec.v[k]);
    _mm512_store_ps(l + 8, dec.d);
  }
}

// BT vectors from b0 on, all blocks, 16 rows: the outputs y[(b0+b)*ldy + r + l]
// for the lanes in `keep`.
template <int BT, class Src>
void tile(const Src& src, const simd::ActView& x, const int32_t* bias, int b0, float* y, int64_t ldy, int64_t r,
          __mmask16 keep) {
  __m512 acc[BT];
  for (int b = 0; b < BT; b++) acc[b] = _mm512_setzero_ps();
  for (int64_t i = 0; i < x.blocks; i++) {
    src.prefetch(i);
    const Decoded w = src.get(i);
    for (int b = 0; b < BT; b++) {
      const int64_t xb = (b0 + b) * x.blocks + i;
      const int8_t* xq = x.q + xb * 32;
      __m512i s0 = _mm512_set1_epi32(bias[xb]);
      __m512i s1 = _mm512_setzero_si512();
      for (int k = 0; k < 8; k += 2) {
        s0 = _mm512_dpbusd_epi32(s0, w.v[k], _mm512_set1_epi32(load_i32(xq + 4 * k)));
        s1 = _mm512_dpbusd_epi32(s1, w.v[k + 1], _mm512_set1_epi32(load_i32(xq + 4 * k + 4)));
      }
      const __m512 scale = _mm512_mul_ps(w.d, _mm512_set1_ps(x.d[xb]));
      const __m512 p = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), scale);
      acc[b] = _mm512_add_ps(acc[b], p);
    }
  }
  for (int b = 0; b < BT; b++) _mm512_mask_storeu_ps(y + (b0 + b) * ldy + r, keep, acc[b]);
}

template <class Src>
using TileFn = void (*)(const Src&, const simd::ActView&, const int32_t*, int, float*, int64_t, int64_t, __mmask16);

template <class Src, int... I>
constexpr std::array<TileFn<Src>, sizeof...(I)> make_tiles(std::integer_sequence<int, I...>) {
  return {&tile<I + 1, Src>...};
}

// Batch tiles of up to kBt vectors, the same size for all but the last.
template <int kBt, class Src>
void all_batch_tiles(const Src& src, const simd::ActView& x, const int32_t* bias, float* y, int64_t ldy, int64_t r,
                     __mmask16 keep) {
  static constexpr auto tiles = make_tiles<Src>(std::make_integer_sequence<int, kBt>{});
  for (int b0 = 0; b0 < x.nb; b0 += kBt) {
    const int bt = std::min(kBt, x.nb - b0);
    tiles[bt - 1](src, x, bias, b0, y, ldy, r, keep);
  }
}

template <QType T>
void gemm(const QuantMatrix& w, int64_t r0, int64_t r1, const simd::ActView& x, float* y, int64_t ldy) {
  // The integer offset term -offset * sum(x) of every (vector, block), the
  // initial value of its accumulator.
  thread_local std::vector<int32_t> bias_buf;
  const size_t n = static_cast<size_t>(x.nb) * static_cast<size_t>(x.blocks);
  if (bias_buf.size() < n) bias_buf.resize(n);
  for (size_t j = 0; j < n; j++) bias_buf[j] = -Traits<T>::kOffset * x.sum[j];
  const int32_t* bias = bias_buf.data();

  thread_local GroupScratch scratch;
  for (int64_t r = r0; r < r1; r += kRows) {
    const int live = static_cast<int>(std::min<int64_t>(kRows, r1 - r));
    const __mmask16 keep = static_cast<__mmask16>((1u << live) - 1);
    const GroupReader<T> g(w, r, r1);
    if (x.nb <= kDirectMax) {
      all_batch_tiles<kDirectMax>(g, x, bias, y, ldy, r, keep);
    } else {
      scratch.prepare(x.blocks);
      unpack_group(g, x.blocks, scratch);
      all_batch_tiles<kMaxBt>(ScratchReader{scratch.lines.data()}, x, bias, y, ldy, r, keep);
    }
  }
}

}  // namespace rowlanes
