// Row-lane Q4_0 / Q8_0 / Q4_1 kernels for AVX-512 VNNI, included inside
// namespace qes::simd::avx512vnni after x86_avx512_helpers.inl.
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
// (Q4_1: acc + (float(isum_i) * (dw_i * dx_i) + m_i * dsum_i))
// which is exactly the scalar reference's sum (kernels_scalar.cpp): the
// results equal the reference bit for bit, so they are the same for every
// batch size, tile shape and thread count by construction.
//
// Weights stay in the GGUF layout. A 16-row group's block is transposed on
// the fly into eight code vectors (vector k holds weights 4k..4k+3 of every
// row); the batched GEMM does this once per group into a small per-thread
// scratch and every batch tile (two groups by four vectors) reads it back;
// batches up to kDirectMax on cache-sized matrices use it straight from
// registers. Up to 4 vectors on a larger Q4_0 / Q8_0 matrix go to the
// streaming kernel (x86_row_stream.inl), which reads one row at a time and
// produces the same bits.

namespace rowlanes {

constexpr int kRows = 16;      // rows per group, one lane each
constexpr int kDirectMax = 2;  // batches up to this decode in registers for every batch tile
constexpr int kScratchGroups = 2;     // larger batches: row groups per scratch tile
constexpr int kScratchBt = 4;         // and vectors per tile (2 x 4 x 2 accumulators)
constexpr int kScratchBtOneGroup = 8; // vectors per tile for a call's last, unpaired group
constexpr size_t kStreamMinBytes = size_t{256} << 10;  // GEMV matrices above this read one row at a time
constexpr size_t kGemvPrefetchMax = size_t{32} << 10;  // a smaller GEMV call asks for up to this much first
constexpr int64_t kCopyRows = 64;  // a batched call on a large matrix copies up to this many rows at a time

struct Decoded {
  __m512i v[8];  // v[k] dword l: codes of weights 4k..4k+3 of row l (u8; Q8_0 stored +128)
  __m512 d;      // lane l: the row's block scale
  __m512 m;      // Q4_1: lane l: the row's block minimum
};

struct alignas(64) Line {
  uint8_t bytes[64];
};

// Asks for the cache lines of [p, p + bytes) (into L1), in address order.
inline void prefetch_lines(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  for (size_t at = 0; at < bytes; at += 64) _mm_prefetch(c + at, _MM_HINT_T0);
}

// Per-thread working memory of n values of type V, 64-byte aligned. Kept in
// vectors of this namespace's own Line type rather than std::vector<int32_t>
// and the like, so the container code instantiated in this AVX-512 unit cannot
// stand in for another unit's (DESIGN.md §3's one-definition hazard).
template <class V>
struct Buffer {
  std::vector<Line> lines;
  V* get(size_t n) {
    const size_t need = (n * sizeof(V) + sizeof(Line) - 1) / sizeof(Line);
    if (lines.size() < need) lines.resize(need);
    return reinterpret_cast<V*>(lines.data());
  }
};

template <QType T>
struct Traits;
template <>
struct Traits<QType::Q4_0> {
  static constexpr size_t kBlock = sizeof(BlockQ4_0);
  static constexpr int32_t kOffset = 8;  // code - 8
};
template <>
struct Traits<QType::Q4_1> {
  static constexpr size_t kBlock = sizeof(BlockQ4_1);
  static constexpr int32_t kOffset = 0;  // codes 0..15 with a float minimum per block
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

// Per-pair word indices (vpermt2w over two rows' loaded words, the second
// row's words numbered from 32) and blend masks (bit j: word j of a 32-word
// vector), built once.
struct Perms {
  alignas(64) uint16_t q4_codes[32];     // Q4_0 pair of blocks: [A.qs_i, B.qs_i, A.qs_i+1, B.qs_i+1]
  alignas(64) uint16_t q8_codes[32];     // Q8_0 block: [A.qs, B.qs]
  alignas(64) uint16_t q4_scales[8][32]; // pair p: rows A_p, B_p's d_i to words A, B and d_i+1 to 16+A, 16+B
  alignas(64) uint16_t q8_scales[8][32]; // pair p: rows A_p, B_p's d to words A, B
  alignas(64) uint16_t q41_codes[32];    // Q4_1 pair of blocks, as q4_codes
  alignas(64) uint16_t q41_scales[8][32]; // as q4_scales
  alignas(64) uint16_t q41_mins[8][32];  // pair p: rows A_p, B_p's m_i to words A, B and m_i+1 to 16+A, 16+B
};

// The rows of pair p (p = 0..7): chosen so that the transposes below leave
// row l in lane l.
constexpr int pair_a(int p) { return p < 4 ? p : p + 4; }
constexpr int pair_b(int p) { return p < 4 ? p + 4 : p + 8; }
constexpr uint32_t row_bits(int l) { return (1u << l) | (1u << (16 + l)); }

inline const Perms& perms() {
  static const Perms t = [] {
    Perms m{};
    for (int j = 0; j < 8; j++) {
      m.q4_codes[j] = static_cast<uint16_t>(1 + j);            // A: words 1..8 = qs_i
      m.q4_codes[8 + j] = static_cast<uint16_t>(32 + 1 + j);   // B: qs_i
      m.q4_codes[16 + j] = static_cast<uint16_t>(10 + j);      // A: words 10..17 = qs_i+1
      m.q4_codes[24 + j] = static_cast<uint16_t>(32 + 10 + j); // B: qs_i+1
    }
    for (int j = 0; j < 8; j++) {  // Q4_1 block: d word 0, m word 1, qs words 2..9 (block i+1: 10, 11, 12..19)
      m.q41_codes[j] = static_cast<uint16_t>(2 + j);
      m.q41_codes[8 + j] = static_cast<uint16_t>(32 + 2 + j);
      m.q41_codes[16 + j] = static_cast<uint16_t>(12 + j);
      m.q41_codes[24 + j] = static_cast<uint16_t>(32 + 12 + j);
    }
    for (int j = 0; j < 16; j++) {
      m.q8_codes[j] = static_cast<uint16_t>(1 + j);
      m.q8_codes[16 + j] = static_cast<uint16_t>(32 + 1 + j);
    }
    for (int p = 0; p < 8; p++) {
      const int a = pair_a(p), b = pair_b(p);
      m.q4_scales[p][a] = 0;
      m.q4_scales[p][b] = 32;
      m.q4_scales[p][16 + a] = 9;
      m.q4_scales[p][16 + b] = 32 + 9;
      m.q8_scales[p][a] = 0;
      m.q8_scales[p][b] = 32;
      m.q41_scales[p][a] = 0;
      m.q41_scales[p][b] = 32;
      m.q41_scales[p][16 + a] = 10;
      m.q41_scales[p][16 + b] = 32 + 10;
      m.q41_mins[p][a] = 1;
      m.q41_mins[p][b] = 32 + 1;
      m.q41_mins[p][16 + a] = 11;
      m.q41_mins[p][16 + b] = 32 + 11;
    }
    return m;
  }();
  return t;
}

inline __m512i load_idx(const uint16_t* p) { return _mm512_load_si512(p); }

// Sixteen vectors, each with the scales of rows A_p, B_p in their final
// words, blended into one: a tree of 15 merges with constant masks.
inline __m512i merge_scales(const __m512i (&x)[8]) {
  const __m512i y0 = _mm512_mask_blend_epi16(row_bits(1) | row_bits(5), x[0], x[1]);
  const __m512i y1 = _mm512_mask_blend_epi16(row_bits(3) | row_bits(7), x[2], x[3]);
  const __m512i y2 = _mm512_mask_blend_epi16(row_bits(9) | row_bits(13), x[4], x[5]);
  const __m512i y3 = _mm512_mask_blend_epi16(row_bits(11) | row_bits(15), x[6], x[7]);
  const __m512i z0 = _mm512_mask_blend_epi16(row_bits(2) | row_bits(6) | row_bits(3) | row_bits(7), y0, y1);
  const __m512i z1 = _mm512_mask_blend_epi16(row_bits(10) | row_bits(14) | row_bits(11) | row_bits(15), y2, y3);
  return _mm512_mask_blend_epi16(0xff00ff00u, z0, z1);
}

// The 16 rows of one group, read in place (a tail group is first copied to a
// padded buffer, so a group is always 16 rows at a fixed stride).
template <QType T>
struct GroupReader {
  static constexpr size_t kBlock = Traits<T>::kBlock;
  // Two 18- or 20-byte blocks fit a 64-byte load; 34-byte ones do not.
  static constexpr bool kPairs = T == QType::Q4_0 || T == QType::Q4_1;
  const uint8_t* base;  // row 0 of the group
  int64_t stride;
  const char* next = nullptr;  // the next 16 rows (the group this thread most likely reads next)
  int64_t next_lines = 0, lines_per_block = 0;

  GroupReader(const uint8_t* rows, int64_t row_stride, int64_t blocks, const uint8_t* next_rows, int64_t next_count)
      : base(rows), stride(row_stride) {
    if (next_rows && next_count > 0) {
      next = reinterpret_cast<const char*>(next_rows);
      next_lines = (next_count * stride + 63) / 64;
      lines_per_block = (next_lines + blocks - 1) / blocks;
    }
  }

  // Reading 16 rows at once is 16 streams, which the hardware prefetchers
  // follow badly (less than half the GB/s of one stream from DRAM here). The
  // 16 rows of the next group are one contiguous range, though: spread its
  // lines over this group's block steps as one sequential stream of
  // prefetches. (This did not measurably help from DRAM, so large matrices
  // are copied or streamed instead; it is kept for cache-resident ones.)
  void prefetch(int64_t i) const {
    if (!next) return;
    const int64_t l0 = i * lines_per_block, l1 = std::min(next_lines, l0 + lines_per_block);
    for (int64_t l = l0; l < l1; l++) _mm_prefetch(next + l * 64, _MM_HINT_T1);
  }

  // 64 bytes of each of the 16 rows at byte offset `at` (the words that
  // matter come first). Rows lie back to back, so a load past a row's end
  // reads the next row; the group's caller guarantees 64 readable bytes past
  // its last row (groups near the matrix's end are read from a padded copy,
  // tests/kernels NeverReadsPastTheMatrix checks it with a guard page). Masked
  // loads would not need that, but their masked-off part crossing into a
  // page missing from the TLB costs a microcode assist: 4x slower here.
  void load_rows(size_t at, __m512i (&r)[kRows]) const {
    const uint8_t* p = base + at;
    const uint8_t* p8 = p + 8 * stride;
    const int64_t s = stride, s3 = 3 * stride, s5 = 5 * stride, s7 = 7 * stride;
    const uint8_t* at_row[kRows] = {p,      p + s,      p + 2 * s,      p + s3,      p + 4 * s,      p + s5,
                                    p + 2 * s3, p + s7, p8,     p8 + s,     p8 + 2 * s,     p8 + s3,
                                    p8 + 4 * s, p8 + s5, p8 + 2 * s3, p8 + s7};
    for (int l = 0; l < kRows; l++) r[l] = _mm512_loadu_si512(at_row[l]);
  }

  // Q4_0 / Q4_1: blocks i and i+1 (for a last odd block, b is garbage from
  // the following bytes and ignored).
  void get_pair(int64_t i, Decoded& a, Decoded& b) const {
    static_assert(kPairs);
    constexpr bool kMin = T == QType::Q4_1;
    const Perms& pm = perms();
    __m512i r[kRows];
    load_rows(static_cast<size_t>(i) * kBlock, r);
    // Codes: pt[p] lanes = [A.qs_i, B.qs_i, A.qs_i+1, B.qs_i+1]; the two 4x4
    // transposes and a lane shuffle put dword k of row l in lane l.
    const __m512i ci = load_idx(kMin ? pm.q41_codes : pm.q4_codes);
    __m512i pt[8], sc[8];
    for (int p = 0; p < 8; p++) {
      pt[p] = _mm512_permutex2var_epi16(r[pair_a(p)], ci, r[pair_b(p)]);
      sc[p] = _mm512_permutex2var_epi16(r[pair_a(p)], load_idx(kMin ? pm.q41_scales[p] : pm.q4_scales[p]), r[pair_b(p)]);
    }
    const __m512i d = merge_scales(sc);  // words 0..15: d_i of rows 0..15; 16..31: d_i+1
    a.d = _mm512_cvtph_ps(_mm512_castsi512_si256(d));
    b.d = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(d, 1));
    if constexpr (kMin) {
      for (int p = 0; p < 8; p++) sc[p] = _mm512_permutex2var_epi16(r[pair_a(p)], load_idx(pm.q41_mins[p]), r[pair_b(p)]);
      const __m512i m = merge_scales(sc);
      a.m = _mm512_cvtph_ps(_mm512_castsi512_si256(m));
      b.m = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(m, 1));
    }
    transpose4(pt[0], pt[1], pt[2], pt[3]);
    transpose4(pt[4], pt[5], pt[6], pt[7]);
    const __m512i m = _mm512_set1_epi8(0x0f);
    for (int k = 0; k < 4; k++) {
      const __m512i vi = _mm512_shuffle_i32x4(pt[k], pt[k + 4], 0x44);   // block i
      const __m512i vi1 = _mm512_shuffle_i32x4(pt[k], pt[k + 4], 0xee);  // block i+1
      a.v[k] = _mm512_and_si512(vi, m);                              // weights 4k..4k+3
      a.v[k + 4] = _mm512_and_si512(_mm512_srli_epi16(vi, 4), m);  // weights 16+4k..
      b.v[k] = _mm512_and_si512(vi1, m);
      b.v[k + 4] = _mm512_and_si512(_mm512_srli_epi16(vi1, 4), m);
    }
  }

  // Q8_0: block i.
  Decoded get(int64_t i) const {
    static_assert(T == QType::Q8_0);
    const Perms& pm = perms();
    Decoded out;
    __m512i r[kRows];
    load_rows(static_cast<size_t>(i) * kBlock, r);
    const __m512i ci = load_idx(pm.q8_codes);
    __m512i y[8], sc[8];
    for (int p = 0; p < 8; p++) {
      y[p] = _mm512_permutex2var_epi16(r[pair_a(p)], ci, r[pair_b(p)]);  // [A.qs | B.qs]
      sc[p] = _mm512_permutex2var_epi16(r[pair_a(p)], load_idx(pm.q8_scales[p]), r[pair_b(p)]);
    }
    out.d = _mm512_cvtph_ps(_mm512_castsi512_si256(merge_scales(sc)));
    // y[p] 128-bit lanes: [A dwords 0-3, A 4-7, B 0-3, B 4-7]; after the two
    // transposes, lane 0 of y[k] holds dword k of rows A_0..A_3 = 0..3, lane 1
    // dword 4+k of them, lanes 2-3 the same for rows B = 4..7 (y[4..7]: 8..15).
    transpose4(y[0], y[1], y[2], y[3]);
    transpose4(y[4], y[5], y[6], y[7]);
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    for (int k = 0; k < 4; k++) {
      out.v[k] = _mm512_xor_si512(_mm512_shuffle_i32x4(y[k], y[k + 4], 0x88), flip);
      out.v[k + 4] = _mm512_xor_si512(_mm512_shuffle_i32x4(y[k], y[k + 4], 0xdd), flip);
    }
    return out;
  }
};

// Lines a decoded block takes in the scratch: the 8 code vectors, the
// scales, and for Q4_1 the minimums.
template <QType T>
constexpr int kBlockLines = T == QType::Q4_1 ? 10 : 9;

// Row groups' blocks decoded once into a per-thread buffer, group after group.
struct GroupScratch {
  std::vector<Line> lines;
  size_t group_lines = 0;
  void prepare(size_t lines_per_group, int groups) {
    group_lines = lines_per_group;
    const size_t n = lines_per_group * static_cast<size_t>(groups);
    if (lines.size() < n) lines.resize(n);
  }
  Line* group(int g) { return lines.data() + group_lines * static_cast<size_t>(g); }
};

// Every block of a group in order, decoded in registers: f(decoded, i).
template <QType T, class F>
__attribute__((always_inline)) inline void for_blocks(const GroupReader<T>& g, int64_t blocks, F&& f) {
  if constexpr (GroupReader<T>::kPairs) {
    int64_t i = 0;
    for (; i + 2 <= blocks; i += 2) {
      g.prefetch(i);
      g.prefetch(i + 1);
      Decoded a, b;
      g.get_pair(i, a, b);
      f(a, i);
      f(b, i + 1);
    }
    if (i < blocks) {
      Decoded a, b;
      g.get_pair(i, a, b);
      f(a, i);
    }
  } else {
    for (int64_t i = 0; i < blocks; i++) {
      g.prefetch(i);
      f(g.get(i), i);
    }
  }
}

// The register tile's source of decoded blocks. (Passing the GroupReader to
// the tile directly, without this wrapper, measured 3.5 % slower on a hot
// Q4_0 448x896 GEMV (rows_hot, epyc2), and a local copy of it in the tile
// 28 %: GCC emits a different, longer loop; not pinned down further.)
template <QType T>
struct DirectReader {
  static constexpr bool kMin = T == QType::Q4_1;
  const GroupReader<T>& g;
  template <class F>
  __attribute__((always_inline)) void for_blocks(int64_t blocks, F&& f) const {
    rowlanes::for_blocks(g, blocks, f);
  }
};

template <QType T>
void unpack_group(const GroupReader<T>& g, int64_t blocks, Line* out) {
  for_blocks(g, blocks, [&](const Decoded& dec, int64_t i) __attribute__((always_inline)) {
    Line* l = out + i * kBlockLines<T>;
    for (int k = 0; k < 8; k++) _mm512_store_si512(l + k, dec.v[k]);
    _mm512_store_ps(l + 8, dec.d);
    if constexpr (T == QType::Q4_1) _mm512_store_ps(l + 9, dec.m);
  });
}

// acc + the dword dot products of w (u8) with the 4 int8 values at x,
// broadcast to every lane. (Forcing vpdpbusd's embedded {1to16} broadcast
// through inline asm measured 20 % slower on 4096-column GEMMs: it keeps GCC
// from scheduling the loads.)
inline __m512i dpbusd_bcast(__m512i acc, __m512i w, const int8_t* x) {
  return _mm512_dpbusd_epi32(acc, w, _mm512_set1_epi32(load_i32(x)));
}

// BT (up to kDirectMax) vectors from b0 on, all blocks, 16 rows decoded in
// registers: the outputs y[(b0+b)*ldy + r + l] for the lanes in `keep`.
template <int BT, class Src>
void tile(const Src& src, const simd::ActView& x, const int32_t* bias, int b0, float* y, int64_t ldy, int64_t r,
          __mmask16 keep) {
  __m512 acc[BT];
  for (int b = 0; b < BT; b++) acc[b] = _mm512_setzero_ps();
  src.for_blocks(x.blocks, [&](const Decoded& w, int64_t i) __attribute__((always_inline)) {
    for (int b = 0; b < BT; b++) {
      const int64_t xb = (b0 + b) * x.blocks + i;
      const int8_t* xq = x.q + xb * 32;
      __m512i isum = _mm512_set1_epi32(bias[xb]);
      // Two chains of 4, so a GEMV is not one 8-deep vpdpbusd dependency.
      __m512i s1 = _mm512_setzero_si512();
      for (int k = 0; k < 8; k += 2) {
        isum = dpbusd_bcast(isum, w.v[k], xq + 4 * k);
        s1 = dpbusd_bcast(s1, w.v[k + 1], xq + 4 * k + 4);
      }
      isum = _mm512_add_epi32(isum, s1);
      const __m512 scale = _mm512_mul_ps(w.d, _mm512_set1_ps(x.d[xb]));
      __m512 p = _mm512_mul_ps(_mm512_cvtepi32_ps(isum), scale);
      if constexpr (Src::kMin) p = _mm512_add_ps(p, _mm512_mul_ps(w.m, _mm512_set1_ps(x.dsum[xb])));
      acc[b] = _mm512_add_ps(acc[b], p);
    }
  });
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

// R row groups already decoded into scratch (kBlockLines<T> a block) times BT
// vectors from b0 on, all blocks: the outputs y[(b0+b)*ldy + r + 16g + l] for
// the lanes in keep[g]. The loop over the 8 code vectors runs outside the loop
// over the vectors, so the R*BT integer sums are independent vpdpbusd chains
// that follow each other in program order: the out-of-order core needs ~8 in
// flight to cover the latency at two a cycle. Each activation broadcast feeds
// R vpdpbusd. (The 16-vector tile this replaced, one 8-deep chain after
// another with the code vectors in registers, ran at ~0.5 of the int8 peak on
// hot weights at batch 64; this one at ~0.6 with the unpacking included,
// where the float step's 4 operations per 8 vpdpbusd, which share their
// pipes on Zen 5, cap it near 0.7.) Same operations per output in the same
// order as the tile above, so the same bits. Q4_1 adds its minimum's term
// m * (dx * sum x) to each block's product before the block joins the sum,
// as the scalar reference does.
template <QType T, int R, int BT>
void scratch_tile(const Line* const* s, const simd::ActView& x, const int32_t* bias, int b0, float* y, int64_t ldy,
                  int64_t r, const __mmask16* keep) {
  __m512 acc[R][BT];
  for (int g = 0; g < R; g++)
    for (int b = 0; b < BT; b++) acc[g][b] = _mm512_setzero_ps();
  constexpr int kLines = kBlockLines<T>;
  const int8_t* xq = x.q + static_cast<int64_t>(b0) * x.cols;
  for (int64_t i = 0; i < x.blocks; i++) {
    __m512i isum[R][BT];
    for (int b = 0; b < BT; b++) {
      const __m512i start = _mm512_set1_epi32(bias[(b0 + b) * x.blocks + i]);
      for (int g = 0; g < R; g++) isum[g][b] = start;
    }
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
      __m512i w[R];
      for (int g = 0; g < R; g++) w[g] = _mm512_load_si512(s[g] + i * kLines + k);
#pragma GCC unroll 16
      for (int b = 0; b < BT; b++) {
        const __m512i xk = _mm512_set1_epi32(load_i32(xq + b * x.cols + i * 32 + 4 * k));
        for (int g = 0; g < R; g++) isum[g][b] = _mm512_dpbusd_epi32(isum[g][b], w[g], xk);
      }
    }
#pragma GCC unroll 16
    for (int b = 0; b < BT; b++) {
      const int64_t xb = (b0 + b) * x.blocks + i;
      const __m512 dx = _mm512_set1_ps(x.d[xb]);
      for (int g = 0; g < R; g++) {
        const __m512 scale = _mm512_mul_ps(_mm512_load_ps(s[g] + i * kLines + 8), dx);
        __m512 p = _mm512_mul_ps(_mm512_cvtepi32_ps(isum[g][b]), scale);
        if constexpr (T == QType::Q4_1)
          p = _mm512_add_ps(p, _mm512_mul_ps(_mm512_load_ps(s[g] + i * kLines + 9), _mm512_set1_ps(x.dsum[xb])));
        acc[g][b] = _mm512_add_ps(acc[g][b], p);
      }
    }
  }
  for (int g = 0; g < R; g++)
    for (int b = 0; b < BT; b++) _mm512_mask_storeu_ps(y + (b0 + b) * ldy + r + g * kRows, keep[g], acc[g][b]);
}

using ScratchTileFn = void (*)(const Line* const*, const simd::ActView&, const int32_t*, int, float*, int64_t, int64_t,
                               const __mmask16*);

template <QType T, int R, int... I>
constexpr std::array<ScratchTileFn, sizeof...(I)> make_scratch_tiles(std::integer_sequence<int, I...>) {
  return {&scratch_tile<T, R, I + 1>...};
}

// Every vector for R decoded row groups, in tiles of up to kBt vectors.
template <QType T, int R, int kBt>
void all_scratch_tiles(const Line* const* s, const simd::ActView& x, const int32_t* bias, float* y, int64_t ldy,
                       int64_t r, const __mmask16* keep) {
  static constexpr auto tiles = make_scratch_tiles<T, R>(std::make_integer_sequence<int, kBt>{});
  for (int b0 = 0; b0 < x.nb; b0 += kBt) tiles[std::min(kBt, x.nb - b0) - 1](s, x, bias, b0, y, ldy, r, keep);
}

#include "x86_row_stream.inl"

// Every batch size of Q4_0, Q8_0 and Q4_1. Q4_1 has no streaming GEMV: its
// GEMV on a large matrix decodes 16-row groups from the 64-row copies below
// (2 threads, epyc2: 23.7-24.5 GB/s against the block-lane body's 11.9-22.2).
template <QType T>
void gemm(const QuantMatrix& w, int64_t r0, int64_t r1, const simd::ActView& x, float* y, int64_t ldy) {
  constexpr bool kNoStream = T == QType::Q4_1;  // x86_row_stream.inl reads Q4_0 and Q8_0 only
  // Up to kStreamMax vectors: a matrix too large to stay in cache between
  // calls is read from DRAM, where one row stream beats 16
  // (x86_row_stream.inl); a small one (the tiny model's, or anything
  // cache-resident) is faster in row lanes. Both give the same bits, so the
  // choice is free.
  if constexpr (!kNoStream) {
    if (x.nb <= kStreamMax && w.size_bytes() > kStreamMinBytes) {
      switch (x.nb) {
        case 1: stream_gemv<T, 1>(w, r0, r1, x, y, ldy); break;
        case 2: stream_gemv<T, 2>(w, r0, r1, x, y, ldy); break;
        case 3: stream_gemv<T, 3>(w, r0, r1, x, y, ldy); break;
        default: stream_gemv<T, 4>(w, r0, r1, x, y, ldy); break;
      }
      return;
    }
  }
  const bool direct = x.nb <= kDirectMax;
  // The integer offset term -offset * sum(x) of every (vector, block), the
  // initial value of its accumulator.
  thread_local Buffer<int32_t> bias_buf;
  const size_t n = static_cast<size_t>(x.nb) * static_cast<size_t>(x.blocks);
  int32_t* const bias = bias_buf.get(n);
  for (size_t j = 0; j < n; j++) bias[j] = -Traits<T>::kOffset * x.sum[j];

  const int64_t stride = static_cast<int64_t>(w.row_stride());
  thread_local GroupScratch scratch;
  // A group with less than 64 bytes of the matrix after it (or a call's last
  // group of fewer than 16 rows) is read from a copy padded with its last row
  // and 64 bytes: the loads read up to 64 bytes from a row's block on.
  thread_local Buffer<uint8_t> tail_buf;
  const size_t group_bytes = static_cast<size_t>(kRows * stride);
  const bool from_dram = w.size_bytes() > kStreamMinBytes;  // too large to stay cached between calls
  // A GEMV on a small matrix is cold all the same when the model is larger
  // than the caches (Qwen2.5-0.5B's K and V, 64 KiB each): read as 16-row
  // groups, 16 streams, a thread's 32 KiB share came in at ~5 GB/s in decode
  // on epyc2 (~7-10 with this). Asking for the call's lines first makes them
  // one sequential burst. On a cache-resident matrix the requests hit but
  // still cost a few % of a call (rows_hot q4_0 448x896 on epyc2: 6.05 ->
  // 6.38 us); a hint that the weights are colder than the caches would spare
  // those calls.
  if (x.nb <= kStreamMax && !from_dram)
    prefetch_lines(w.row_ptr(r0), std::min(static_cast<size_t>(r1 - r0) * static_cast<size_t>(stride), kGemvPrefetchMax));
  // Batches beyond kDirectMax decode two groups at a time, so each batch
  // tile covers 32 rows (scratch_tile).
  const int groups_per_step = direct ? 1 : kScratchGroups;
  if (!direct) scratch.prepare(static_cast<size_t>(x.blocks) * kBlockLines<T>, kScratchGroups);
  // From DRAM, reading 16 rows at once is slow (x86_row_stream.inl says why):
  // up to kCopyRows rows at a time are copied first, one sequential stream
  // (longer copies than one group's measured 1-7 % faster decode at batch 64).
  thread_local Buffer<uint8_t> copy_buf;
  const uint8_t* copy = nullptr;
  int64_t copy_r0 = r0, copy_r1 = r0;
  for (int64_t r = r0; r < r1; r += groups_per_step * kRows) {
    if (from_dram && r >= copy_r1) {
      copy_r0 = r;
      copy_r1 = std::min(r1, r + kCopyRows);
      // The rows and the 64 bytes after them that the loads may touch, where
      // the matrix has them (a group without them takes the padded path).
      const size_t bytes = static_cast<size_t>(std::min((copy_r1 - r) * stride + 64, (w.rows - r) * stride));
      uint8_t* c = copy_buf.get(bytes);
      std::memcpy(c, w.row_ptr(r), bytes);
      copy = c;
    }
    const Line* decoded[kScratchGroups];
    __mmask16 keep[kScratchGroups];
    int groups = 0;
    for (; groups < groups_per_step && r + groups * kRows < r1; groups++) {
      const int64_t rg = r + groups * kRows;
      const int live = static_cast<int>(std::min<int64_t>(kRows, r1 - rg));
      keep[groups] = static_cast<__mmask16>((1u << live) - 1);
      const uint8_t* rows = w.row_ptr(rg);
      if (live < kRows || (w.rows - (rg + kRows)) * stride < 64) {
        uint8_t* tail = tail_buf.get(group_bytes + 64);
        for (int l = 0; l < kRows; l++)
          std::memcpy(tail + l * stride, w.row_ptr(rg + std::min(l, live - 1)), static_cast<size_t>(stride));
        rows = tail;
      } else if (from_dram) {
        rows = copy + (rg - copy_r0) * stride;
      }
      // Prefetch the next 16 rows of the matrix: with OpenMP's static schedule
      // they are this thread's next group (or the start of its next row tile).
      const int64_t next_count = from_dram ? 0 : std::min<int64_t>(kRows, w.rows - (rg + kRows));
      const GroupReader<T> g(rows, stride, x.blocks, next_count > 0 ? w.row_ptr(rg + kRows) : nullptr, next_count);
      if (direct) {
        all_batch_tiles<kDirectMax>(DirectReader<T>{g}, x, bias, y, ldy, rg, keep[groups]);
      } else {
        Line* out = scratch.group(groups);
        unpack_group(g, x.blocks, out);
        decoded[groups] = out;
      }
    }
    if (direct) continue;
    if (groups == kScratchGroups)
      all_scratch_tiles<T, kScratchGroups, kScratchBt>(decoded, x, bias, y, ldy, r, keep);
    else
      all_scratch_tiles<T, 1, kScratchBtOneGroup>(decoded, x, bias, y, ldy, r, keep);
  }
}

}  // namespace rowlanes
