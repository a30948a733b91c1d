// GEMV (1-4 vectors) for Q4_0 / Q8_0 on AVX-512 VNNI that reads the weights
// one row after another, included inside namespace
// qes::simd::avx512vnni::rowlanes after x86_row_lanes.inl.
//
// Why. The row-lane kernels read 16 rows at once: 16 interleaved streams,
// which this machine's prefetchers follow badly from DRAM (a plain read of 16
// interleaved rows measured 10-15 GB/s against 22-35 GB/s for one stream, and
// software prefetches did not change it). A GEMV reads every weight once, so
// it is exactly the case that cannot afford that.
//
// How, with the same numerics. Each row is read sequentially, 16 blocks (a
// chunk) at a time: Q4_0 four blocks per vpdpbusd (one per 128-bit lane),
// Q8_0 two, and each block's partial sums are reduced in integers (exact) to
// one sum per block, 16 blocks per vector.
// Then p = float(isum) * (dw * dx) per block, exactly as the row-lane kernels
// and the scalar reference compute it, is stored for the 16 rows of a group;
// a 16x16 transpose per 16 blocks turns those into row lanes, added in block
// order: acc = acc + p_i. So the result is the scalar reference's, bit for
// bit, like every other Q4_0/Q8_0 result of this path.

constexpr int kChunk = 16;      // blocks per chunk: one zmm of per-block results
constexpr int kStreamMax = 4;   // vectors per call this kernel takes
// How far ahead of the chunk being read its lines are asked for: one
// sequential stream, asked for well ahead (a chunk is 4.5 or 8.5 lines).
// 12 KiB measured best at 1 thread (Q4_0 4096x4096 GEMV ~28 GB/s, against
// ~27 at 6 KiB and ~20 at 1 KiB) and at 2 in decode (3 KiB 3-7 % slower).
constexpr size_t kStreamAhead = size_t{12} << 10;

// The block whose result lane q of a chunk's per-block vectors holds. Q8_0's
// reduction (block_sums) ends in block order; Q4_0's leaves lane 4L + j with
// block 4j + L (row_chunk), an order that is its own inverse. The activation
// scales and offsets are stored in that order, and the sums are added in
// block order (stream_gemv), so the arithmetic is the reference's.
template <QType T>
constexpr int lane_block(int q) {
  return T == QType::Q4_0 ? 4 * (q % 4) + q / 4 : q;
}

// Pointers into StreamActs' buffers, copied into the kernel's locals so the
// compiler keeps them in registers (the product stores may alias anything).
struct StreamView {
  const Line* q;
  const float* d;
  const int32_t* bias;
  int64_t chunks;
  const __m512i* pairs(int b, int64_t c) const {
    return reinterpret_cast<const __m512i*>(q + (b * chunks + c) * (kChunk / 2));
  }
  const float* scales(int b, int64_t c) const { return d + (b * chunks + c) * kChunk; }
  const int32_t* biases(int b, int64_t c) const { return bias + (b * chunks + c) * kChunk; }
};

// Activations of the (up to 4) vectors, zero padded to whole chunks; Q4_0's
// arranged in the order row_chunk's code vectors come in.
struct StreamActs {
  Buffer<Line> q_buf;          // nb * chunks * 8 lines (two blocks' values each)
  Buffer<float> d_buf;         // nb * chunks * 16
  Buffer<int32_t> bias_buf;    // nb * chunks * 16: -offset * sum
  // What the buffers hold: activations x.stamp arranged for type `type`. A
  // layer's rows cut into several calls (threads sharing work) arrange them once.
  uint64_t stamp = 0;
  QType type = QType::kCount;
  int copies = 0;
  StreamView view{};

  // x's blocks `copies` times over, as one vector of copies * x.blocks blocks.
  template <QType T>
  StreamView get(const simd::ActView& x, int copies_of_x = 1) {
    if (x.stamp == 0 || x.stamp != stamp || type != T || copies != copies_of_x) {
      view = prepare<T>(x, copies_of_x);
      stamp = x.stamp;
      type = T;
      copies = copies_of_x;
    }
    return view;
  }

  template <QType T>
  StreamView prepare(const simd::ActView& x, int copies_of_x) {
    const int nb = x.nb;
    const int64_t blocks = x.blocks * copies_of_x;
    const int64_t chunks = (blocks + kChunk - 1) / kChunk;
    const int64_t padded = chunks * kChunk;
    Line* q = q_buf.get(static_cast<size_t>(nb * padded / 2));
    float* d = d_buf.get(static_cast<size_t>(nb * padded));
    int32_t* bias = bias_buf.get(static_cast<size_t>(nb * padded));
    for (int b = 0; b < nb; b++) {
      uint8_t* dst = reinterpret_cast<uint8_t*>(q + b * padded / 2);
      const int8_t* src = x.q + b * x.blocks * 32;
      if constexpr (T == QType::Q4_0) {
        // Chunk c, block m = 4g + L: its values 0-15 at line 2g, 16-31 at
        // line 2g + 1, 128-bit lane L (see row_chunk).
        if (blocks % kChunk) std::memset(dst + (blocks / kChunk) * 512, 0, 512);
        for (int64_t i = 0; i < blocks; i++) {
          const int64_t c = i / kChunk, m = i % kChunk, g = m / 4, L = m % 4;
          const int8_t* values = src + (i % x.blocks) * 32;
          uint8_t* line = dst + c * 512 + 2 * g * 64 + 16 * L;
          std::memcpy(line, values, 16);
          std::memcpy(line + 64, values + 16, 16);
        }
      } else {
        for (int k = 0; k < copies_of_x; k++) std::memcpy(dst + k * x.blocks * 32, src, static_cast<size_t>(x.blocks * 32));
        std::memset(dst + blocks * 32, 0, static_cast<size_t>((padded - blocks) * 32));
      }
      // Lane q of a chunk's per-block vectors holds block lane_block<T>(q).
      for (int64_t i = 0; i < padded; i++) {
        const int64_t block = i - i % kChunk + lane_block<T>(static_cast<int>(i % kChunk));
        const bool real = block < blocks;
        const int64_t of_x = b * x.blocks + block % x.blocks;
        d[b * padded + i] = real ? x.d[of_x] : 0.0f;
        bias[b * padded + i] = real ? -Traits<T>::kOffset * x.sum[of_x] : 0;
      }
    }
    return {q, d, bias, chunks};
  }
};

// Per-block sums of 8 vectors of 2 blocks (vector j: blocks 2j, 2j+1, their
// 8 partial sums each in the 128-bit lanes `kLoHi` says): one vector of 16
// block sums in block order. All integer, so exact.
template <bool kLoHi>  // Q4_0: lanes [i, i+1, i, i+1]; Q8_0: [i, i, i+1, i+1]
inline __m512i block_sums(const __m512i (&v)[8]) {
  __m512i t[4];
  for (int q = 0; q < 4; q++)
    t[q] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * q], v[2 * q + 1]), _mm512_unpackhi_epi32(v[2 * q], v[2 * q + 1]));
  const __m512i u0 = _mm512_add_epi32(_mm512_unpacklo_epi64(t[0], t[1]), _mm512_unpackhi_epi64(t[0], t[1]));
  const __m512i u1 = _mm512_add_epi32(_mm512_unpacklo_epi64(t[2], t[3]), _mm512_unpackhi_epi64(t[2], t[3]));
  // u0 lane 4L + j: the sum of 128-bit lane L of v[j] (u1: of v[4 + j]).
  const __m512i a = _mm512_shuffle_i32x4(u0, u1, kLoHi ? 0x44 : 0x88);
  const __m512i b = _mm512_shuffle_i32x4(u0, u1, kLoHi ? 0xee : 0xdd);
  const __m512i s = _mm512_add_epi32(a, b);  // lane 4m + t: block 2t (m 0), 2t+1 (m 1), 8+2t (m 2), 9+2t (m 3)
  const __m512i order = _mm512_set_epi32(15, 11, 14, 10, 13, 9, 12, 8, 7, 3, 6, 2, 5, 1, 4, 0);
  return _mm512_permutexvar_epi32(order, s);
}

// Q4_0 word indices into a chunk's 288 bytes, loaded as 64-byte registers
// r[0..4]: block k's fp16 scale is word 9k, its 16 code bytes words 9k+1..9k+8.
struct Q4Words {
  // codes[g]: over (r[g], r[g+1]), 128-bit lane L = the codes of block 4g + L.
  alignas(64) uint16_t codes[4][32];
  // scales01 over (r[0], r[1]), scales23 over (r[2], r[3]), scale15 over r[4]:
  // word q = the scale of block lane_block(q) (blocks 0-7, 8-14 and 15).
  alignas(64) uint16_t scales01[32];
  alignas(64) uint16_t scales23[32];
  alignas(64) uint16_t scale15[32];
};
constexpr Q4Words make_q4_words() {
  Q4Words t{};
  for (int g = 0; g < 4; g++)
    for (int L = 0; L < 4; L++)
      for (int w = 0; w < 8; w++) t.codes[g][8 * L + w] = static_cast<uint16_t>(9 * (4 * g + L) + 1 + w - 32 * g);
  for (int q = 0; q < 16; q++) {
    const int k = lane_block<QType::Q4_0>(q), word = 9 * k;
    if (k < 8) t.scales01[q] = static_cast<uint16_t>(word);
    else if (k < 15) t.scales23[q] = static_cast<uint16_t>(word - 64);
    else t.scale15[q] = static_cast<uint16_t>(word - 128);
  }
  return t;
}
alignas(64) inline constexpr Q4Words kQ4Words = make_q4_words();
// Lanes q whose block is 8-14, and the lane of block 15.
constexpr __mmask32 q4_lanes23() {
  __mmask32 m = 0;
  for (int q = 0; q < 16; q++)
    if (lane_block<QType::Q4_0>(q) >= 8 && lane_block<QType::Q4_0>(q) < 15) m |= __mmask32{1} << q;
  return m;
}
constexpr __mmask32 kQ4Lane15 = __mmask32{1} << 15;  // lane_block(15) = 15

// The 16 scales of a Q4_0 chunk held in r[0..4], in lane_block order.
inline __m512 q4_scales(const __m512i (&r)[5]) {
  __m512i s = _mm512_permutex2var_epi16(r[0], _mm512_load_si512(kQ4Words.scales01), r[1]);
  s = _mm512_mask_blend_epi16(q4_lanes23(), s, _mm512_permutex2var_epi16(r[2], _mm512_load_si512(kQ4Words.scales23), r[3]));
  s = _mm512_mask_permutexvar_epi16(s, kQ4Lane15, _mm512_load_si512(kQ4Words.scale15), r[4]);
  return _mm512_cvtph_ps(_mm512_castsi512_si256(s));
}

// The fp16 scales of a Q8_0 chunk's 16 blocks (its bytes in c[0..8], as
// load_chunk leaves them), picked out with word permutes, in block order.
inline __m512 q8_scales(const __m512i (&c)[9]) {
  // Block j's scale is word 17j: two blocks per 64 bytes.
  alignas(64) static const uint16_t idx[4][32] = {
      {0, 17, 34, 51},
      {0, 0, 0, 0, 68 - 64, 85 - 64, 102 - 64, 119 - 64},
      {0, 0, 0, 0, 0, 0, 0, 0, 136 - 128, 153 - 128, 170 - 128, 187 - 128},
      {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 204 - 192, 221 - 192, 238 - 192, 255 - 192}};
  __m512i r = _mm512_setzero_si512();
  for (int h = 0; h < 4; h++)
    r = _mm512_mask_blend_epi16(0xfu << (4 * h), r, _mm512_permutex2var_epi16(c[2 * h], _mm512_load_si512(idx[h]), c[2 * h + 1]));
  return _mm512_cvtph_ps(_mm512_castsi512_si256(r));
}

// A chunk's bytes at p (Q4_0: 288, Q8_0: 544 = kFull lines and a half) as
// r[0..kFull] (r[kFull]: its low 32 bytes). When p is 8-byte aligned they are
// read with loads that never cross a cache line: the lines the chunk touches,
// loaded whole but masked to the chunk's bytes (nothing outside it is read),
// then shifted into place. epyc2 (Zen 5) streams split loads from DRAM at
// ~40 GB/s, whole lines at ~58, and the shifted loads also compute faster
// there (rows_hot Q4_0 448x4864 39.2 against 44.4 us); on the Xeon they
// compute slower (80.3 against 61.1 us), see qes::LineLoads.
template <int kFull, bool kAligned8>
inline void load_chunk(const uint8_t* p, __m512i (&r)[kFull + 1]) {
  if constexpr (!kAligned8) {
    for (int i = 0; i < kFull; i++) r[i] = _mm512_loadu_si512(p + 64 * i);
    r[kFull] = _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64 * kFull)));
  } else {
    const unsigned s = static_cast<unsigned>(reinterpret_cast<uintptr_t>(p) & 63) / 8;  // qwords into the first line
    const uint8_t* base = p - 8 * s;
    const __m512i shift = _mm512_add_epi64(_mm512_set1_epi64(s), _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
    // The chunk: qwords s.. of line 0, lines 1..kFull-1 whole, qwords
    // < 4 + s of line kFull and < s - 4 of line kFull + 1.
    __m512i lo = _mm512_maskz_load_epi64(static_cast<__mmask8>(0xffu << s), base);
    for (int i = 0; i < kFull; i++) {
      const uint8_t* line = base + 64 * (i + 1);
      const __m512i hi = i + 1 < kFull ? _mm512_load_si512(line)
                                       : _mm512_maskz_load_epi64(static_cast<__mmask8>((1u << (4 + s)) - 1), line);
      r[i] = _mm512_permutex2var_epi64(lo, shift, hi);
      lo = hi;
    }
    const __m512i last = _mm512_maskz_load_epi64(static_cast<__mmask8>(s > 4 ? (1u << (s - 4)) - 1 : 0), base + 64 * (kFull + 1));
    r[kFull] = _mm512_permutex2var_epi64(lo, shift, last);
  }
}

// Q8_0 pair j's codes (blocks 2j, 2j+1: bytes 68j+2.. and 68j+36.. of the
// chunk) as word indices into r[j], r[j+1] of load_chunk.
struct Q8PairWords {
  alignas(64) uint16_t idx[8][32];
};
constexpr Q8PairWords make_q8_pair_words() {
  Q8PairWords t{};
  for (int j = 0; j < 8; j++)
    for (int w = 0; w < 16; w++) {
      t.idx[j][w] = static_cast<uint16_t>(2 * j + 1 + w);
      t.idx[j][16 + w] = static_cast<uint16_t>(2 * j + 18 + w);
    }
  return t;
}
alignas(64) inline constexpr Q8PairWords kQ8PairWords = make_q8_pair_words();

// The lane order of a chunk's products as block order (lane_block is its own
// inverse): permutexvar(kToBlockOrder, v) lane k = v lane lane_block(k).
struct BlockOrderIndex {
  alignas(64) int32_t lanes[16];
};
constexpr BlockOrderIndex make_block_order_index() {
  BlockOrderIndex t{};
  for (int k = 0; k < 16; k++) t.lanes[k] = lane_block<QType::Q4_0>(k);
  return t;
}
alignas(64) inline constexpr BlockOrderIndex kToBlockOrder = make_block_order_index();

// One chunk (16 blocks at p): for each vector b, the 16 products
// float(isum) * (dw * dx), stored at out[b * out_step], in lane order
// (lane_block), or block order with kBlockOrder.
// kLive: the units (Q4_0: groups of 4 blocks, Q8_0: pairs) to compute; the
// rest of a row's partial last chunk is never added, so it is left at zero.
template <QType T, int NB, bool kAligned8, int kLive = (T == QType::Q4_0 ? 4 : 8), bool kBlockOrder = false>
inline void row_chunk(const uint8_t* p, const StreamView& a, int64_t c, __m512* out, int64_t out_step) {
  for (size_t ahead = kStreamAhead; ahead < kStreamAhead + kChunk * Traits<T>::kBlock; ahead += 64)
    _mm_prefetch(reinterpret_cast<const char*>(p) + ahead, _MM_HINT_T0);
  __m512i sums[NB];
  __m512 dw;
  if constexpr (T == QType::Q4_0) {
    // The chunk in 4.5 registers (no byte past it is read); z = the 16 code
    // bytes of blocks 4g..4g+3, one block per 128-bit lane, picked out of
    // r[g], r[g+1] by one word permute. Low and high nibbles (weights 0-15,
    // 16-31) go to the same lanes, so each 128-bit lane holds one block's 4
    // partial sums.
    __m512i r[5];
    load_chunk<4, kAligned8>(p, r);
    __m512i dots[NB][4];
    const __m512i m = _mm512_set1_epi8(0x0f);
    for (int g = 0; g < 4; g++) {
      if (g >= kLive) {
        for (int b = 0; b < NB; b++) dots[b][g] = _mm512_setzero_si512();
        continue;
      }
      const __m512i z = _mm512_permutex2var_epi16(r[g], _mm512_load_si512(kQ4Words.codes[g]), r[g + 1]);
      const __m512i lo = _mm512_and_si512(z, m), hi = _mm512_and_si512(_mm512_srli_epi16(z, 4), m);
      for (int b = 0; b < NB; b++) {
        const __m512i* xa = a.pairs(b, c) + 2 * g;
        dots[b][g] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_load_si512(xa)), hi,
                                         _mm512_load_si512(xa + 1));
      }
    }
    for (int b = 0; b < NB; b++) {
      // Lane 4L + j: the sum of lane L of dots[j] = block 4j + L (lane_block).
      const __m512i* d = dots[b];
      const __m512i t01 = _mm512_add_epi32(_mm512_unpacklo_epi32(d[0], d[1]), _mm512_unpackhi_epi32(d[0], d[1]));
      const __m512i t23 = _mm512_add_epi32(_mm512_unpacklo_epi32(d[2], d[3]), _mm512_unpackhi_epi32(d[2], d[3]));
      sums[b] = _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
    }
    dw = q4_scales(r);
  } else {
    // Pair j (blocks 2j, 2j+1: 64 signed codes, made unsigned for vpdpbusd
    // by the +128 the biases take back): with whole-line loads, out of r[j],
    // r[j+1] by a word permute; else two loads (on Intel the permute is 3 uops).
    __m512i r[9];
    if constexpr (kAligned8) load_chunk<8, true>(p, r);
    __m512i dots[NB][8];
    for (int j = 0; j < 8; j++) {
      if (j >= kLive) {
        for (int b = 0; b < NB; b++) dots[b][j] = _mm512_setzero_si512();
        continue;
      }
      const uint8_t* q0 = p + 2 * j * sizeof(BlockQ8_0) + 2;
      const __m512i codes = kAligned8 ? _mm512_permutex2var_epi16(r[j], _mm512_load_si512(kQ8PairWords.idx[j]), r[j + 1])
                                      : load_2x32(q0, q0 + sizeof(BlockQ8_0));
      const __m512i w = _mm512_xor_si512(codes, _mm512_set1_epi8(static_cast<char>(0x80)));
      for (int b = 0; b < NB; b++)
        dots[b][j] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w, _mm512_load_si512(a.pairs(b, c) + j));
    }
    for (int b = 0; b < NB; b++) sums[b] = block_sums<false>(dots[b]);
    if constexpr (!kAligned8) load_chunk<8, false>(p, r);  // for the scales (as late as before whole-line loads)
    dw = q8_scales(r);
  }
  for (int b = 0; b < NB; b++) {
    const __m512i isum = _mm512_add_epi32(sums[b], _mm512_loadu_si512(a.biases(b, c)));
    const __m512 scale = _mm512_mul_ps(dw, _mm512_loadu_ps(a.scales(b, c)));
    __m512 product = _mm512_mul_ps(_mm512_cvtepi32_ps(isum), scale);
    if constexpr (kBlockOrder && T == QType::Q4_0)
      product = _mm512_permutexvar_ps(_mm512_load_si512(kToBlockOrder.lanes), product);
    _mm512_store_ps(reinterpret_cast<float*>(out + b * out_step), product);
  }
}

// A row's partial last chunk: row_chunk computing only its first `live`
// units, for live < kLive, instantiated for the counts a type can have.
template <QType T, int NB, bool kAligned8, int kLive = (T == QType::Q4_0 ? 4 : 8)>
inline void partial_chunk(int live, const uint8_t* p, const StreamView& a, int64_t c, __m512* out, int64_t out_step) {
  if constexpr (kLive > 1)
    if (live < kLive) return partial_chunk<T, NB, kAligned8, kLive - 1>(live, p, a, c, out, out_step);
  row_chunk<T, NB, kAligned8, kLive>(p, a, c, out, out_step);
}

// Within each 128-bit lane the 4x4 transposes, then the 4x4 transpose of
// lanes: c[j] lane l = r[l] lane j.
inline void transpose16(__m512i (&r)[16]) {
  for (int g = 0; g < 4; g++) transpose4(r[4 * g], r[4 * g + 1], r[4 * g + 2], r[4 * g + 3]);
  // r[4g + k] lane 4L + i: row 4g + i, column 4L + k.
  __m512i c[16];
  for (int k = 0; k < 4; k++) {
    const __m512i u0 = _mm512_shuffle_i32x4(r[k], r[4 + k], 0x44), u1 = _mm512_shuffle_i32x4(r[k], r[4 + k], 0xee);
    const __m512i u2 = _mm512_shuffle_i32x4(r[8 + k], r[12 + k], 0x44), u3 = _mm512_shuffle_i32x4(r[8 + k], r[12 + k], 0xee);
    c[k] = _mm512_shuffle_i32x4(u0, u2, 0x88);
    c[4 + k] = _mm512_shuffle_i32x4(u0, u2, 0xdd);
    c[8 + k] = _mm512_shuffle_i32x4(u1, u3, 0x88);
    c[12 + k] = _mm512_shuffle_i32x4(u1, u3, 0xdd);
  }
  for (int j = 0; j < 16; j++) r[j] = c[j];
}

// acc + the products of one chunk's first n blocks (t: after transpose16, in
// lane order, or block order with kBlockOrder), added in block order. n is 16
// except in a row's last chunk.
template <QType T, bool kBlockOrder = false>
inline __m512 add_chunk(__m512 acc, const __m512i (&t)[16], int n) {
  for (int j = 0; j < kChunk; j++)  // unrolled; a zero mask leaves acc as it is
    acc = _mm512_mask_add_ps(acc, j < n ? 0xffff : 0, acc, _mm512_castsi512_ps(t[kBlockOrder ? j : lane_block<T>(j)]));
  return acc;
}

// A group of kRows rows whose length is not a whole number of chunks (896
// columns: 28 blocks, a chunk and three quarters), at p: its kRows * blocks
// blocks are blocks whole chunks, read one after another across the row
// ends, so no chunk is partial (a partial one costs nearly a whole chunk's
// work). Group chunk c meets the activations of blocks 16c.. mod blocks: `a`
// holds them as x repeated until the pattern repeats, every a.chunks chunks.
// The products go to prod in block order (prod + b * out_step: vector b's,
// kRows * blocks floats and 16 of padding), so row l's block j is
// prod[l * blocks + j], and are added row by row in block order as in
// stream_gemv_rows, bit for bit the same sums.
template <QType T, int NB, bool kAligned8>
inline void whole_chunk_group(const uint8_t* p, const StreamView& a, int64_t blocks, __m512* prod, float* y,
                              int64_t ldy) {
  constexpr size_t kChunkBytes = kChunk * Traits<T>::kBlock;
  const int64_t out_step = blocks + 1;
  for (int64_t c = 0, ac = 0; c < blocks; c++, p += kChunkBytes) {
    row_chunk<T, NB, kAligned8, (T == QType::Q4_0 ? 4 : 8), true>(p, a, ac, prod + c, out_step);
    if (++ac == a.chunks) ac = 0;
  }
  for (int b = 0; b < NB; b++) {
    const float* products = reinterpret_cast<const float*>(prod + b * out_step);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t j = 0; j < blocks; j += kChunk) {
      __m512i t[16];
      for (int l = 0; l < kRows; l++) t[l] = _mm512_loadu_si512(products + l * blocks + j);
      transpose16(t);
      acc = add_chunk<T, true>(acc, t, static_cast<int>(std::min<int64_t>(kChunk, blocks - j)));
    }
    _mm512_storeu_ps(y + b * ldy, acc);
  }
}

template <QType T, int NB, bool kAligned8>
void stream_gemv_rows(const QuantMatrix& w, int64_t r0, int64_t r1, const simd::ActView& x, float* y, int64_t ldy) {
  constexpr size_t kBlock = Traits<T>::kBlock, kChunkBytes = kChunk * kBlock;
  thread_local StreamActs acts;
  const StreamView a = acts.get<T>(x);
  const int64_t chunks = a.chunks, full = x.blocks / kChunk;
  const int rem = static_cast<int>(x.blocks % kChunk);
  // [vector][row][chunk], 16 floats each. Zeroed when it grows, so rows past
  // a group's end (never stored) hold finite values from earlier groups.
  thread_local Buffer<Line> products;
  __m512* prod = reinterpret_cast<__m512*>(products.get(static_cast<size_t>(NB * kRows * chunks)));
  const int64_t out_step = kRows * chunks;
  alignas(64) uint8_t last[kChunk * sizeof(BlockQ8_0)];  // the matrix's last partial chunk, zero padded

  const size_t stride = w.row_stride();
  const uint8_t* data = static_cast<const uint8_t*>(w.data);
  const uint8_t* end = data + w.size_bytes();
  // Chunks ask for the lines kStreamAhead past them, so the call's first
  // kStreamAhead bytes would come in by demand misses, one chunk after
  // another: ask for them all now. A decode step's calls are short (a
  // thread's share of Qwen2.5-0.5B's attention matrices is 225 KiB), so
  // calls starting cold cost 0-2 % of a step on epyc2.
  prefetch_lines(data + static_cast<size_t>(r0) * stride, std::min(static_cast<size_t>(r1 - r0) * stride, kStreamAhead));
  // Whole groups of short rows (under two chunks) that are not whole chunks
  // go by whole_chunk_group: 896 columns, rows_hot 1024x896 on epyc2, batch 1
  // Q4_0 14.8-15.3 -> 13.7-13.8 us, Q8_0 21.6-21.9 -> 17.4-17.8. Longer rows
  // gain little (a partial chunk is a tenth of 4864 columns' chunks) and lose
  // at 4 vectors, whose repeated activations (x twice: 76 KiB with the group's
  // products) spill out of L1: Q4_0 448x4864 74.4-75.4 -> 125-127 us.
  // The pattern of activations repeats after lcm(blocks, 16) blocks.
  const bool whole_groups = rem && full < 2;
  thread_local StreamActs repeated_acts;
  const StreamView repeated = whole_groups ? repeated_acts.get<T>(x, kChunk / std::gcd(rem, kChunk)) : StreamView{};
  thread_local Buffer<Line> group_products;
  __m512* group_prod = nullptr;
  if (whole_groups) {
    group_prod = reinterpret_cast<__m512*>(group_products.get(static_cast<size_t>(NB * (x.blocks + 1))));
    for (int b = 0; b < NB; b++) group_prod[b * (x.blocks + 1) + x.blocks] = _mm512_setzero_ps();  // the padding
  }
  for (int64_t r = r0; r < r1; r += kRows) {
    const int live = static_cast<int>(std::min<int64_t>(kRows, r1 - r));
    if (whole_groups && live == kRows) {
      whole_chunk_group<T, NB, kAligned8>(data + static_cast<size_t>(r) * stride, repeated, x.blocks, group_prod, y + r,
                                          ldy);
      continue;
    }
    for (int l = 0; l < live; l++) {
      const uint8_t* p = data + static_cast<size_t>(r + l) * stride;
      __m512* out = prod + l * chunks;
      for (int64_t c = 0; c < full; c++, p += kChunkBytes) row_chunk<T, NB, kAligned8>(p, a, c, out + c, out_step);
      if (rem) {
        // A row's partial last chunk reads on into the next row (its products
        // past the row's blocks are never added), unless that would pass the
        // matrix's end: then it is read from a zero-padded copy.
        if (p + kChunkBytes > end) {
          std::memset(last, 0, sizeof last);
          std::memcpy(last, p, static_cast<size_t>(rem) * kBlock);
          p = last;
        }
        // Only the units holding its rem blocks (896 columns: 12 of 16 blocks,
        // a seventh of the row's work).
        constexpr int kUnit = T == QType::Q4_0 ? 4 : 2;  // blocks per unit
        partial_chunk<T, NB, kAligned8>((rem + kUnit - 1) / kUnit, p, a, full, out + full, out_step);
      }
    }
    for (int b = 0; b < NB; b++) {
      __m512 acc = _mm512_setzero_ps();
      for (int64_t c = 0; c < chunks; c++) {
        __m512i t[16];
        for (int l = 0; l < kRows; l++) t[l] = _mm512_castps_si512(prod[b * out_step + l * chunks + c]);
        transpose16(t);
        acc = add_chunk<T>(acc, t, c < full ? kChunk : rem);
      }
      _mm512_mask_storeu_ps(y + b * ldy + r, static_cast<__mmask16>((1u << live) - 1), acc);
    }
  }
}

// Chunks start 8-byte aligned when the matrix and its row stride are (every
// row of 128-multiple columns, in a GGUF's 32-byte aligned data); whether
// whole-line loads pay depends on the CPU (qes::whole_line_loads).
template <QType T, int NB>
void stream_gemv(const QuantMatrix& w, int64_t r0, int64_t r1, const simd::ActView& x, float* y, int64_t ldy) {
  if (reinterpret_cast<uintptr_t>(w.data) % 8 == 0 && w.row_stride() % 8 == 0 && whole_line_loads())
    stream_gemv_rows<T, NB, true>(w, r0, r1, x, y, ldy);
  else
    stream_gemv_rows<T, NB, false>(w, r0, r1, x, y, ldy);
}
