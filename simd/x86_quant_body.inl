// The quantized GEMV/GEMM body shared by the x86 paths. Included by
// kernels_avx2.cpp and kernels_avx512*.cpp *inside their own ISA namespace*
// (so every inline helper and template is a distinct entity per ISA: no ODR
// clash between translation units compiled with different flags). The
// including file defines the vector helpers first:
//   kBPV        32-weight blocks per integer vector (ymm: 1, zmm: 2)
//   kRT, kBT    register tile: rows x batch vectors
//   kVnni       whether dot() is vpdpbusd (u8 weights up to 255 never saturate)
//   VI, VF      integer / float vector types
//   load_act(p, n), load_codes(p), expand_sums(p, n), dot(acc, w_u8, x_s8),
//   dot_signed(acc, w_s8, x_s8), block_lanes(v, k) (block k's 8 int32 lanes of v),
//   zero_i, sub_i, shl_i<n>, half_to_float, load_nibble_blocks, load_byte_blocks,
//   flip_sign_bits, store_codes
//
// How a block is computed without touching each weight's offset:
//   sum_j (c_j - off) * x_j = dot(c, x) - off * sum(x)
// The integer term -off*sum(x) enters as the initial value of the integer
// accumulator (the GEMM tile) or is subtracted from 8 block totals at once
// (the GEMV row), so Q4_0 (off 8) and Q8_0 on VNNI (codes stored +128 as
// unsigned, off 128) need nothing per weight. Q4_1's min and I4's zero point
// are float: collected per row as cw[i] (m, or -zero*scale), each block adds
// cw[i] * (d*sum) of the activations to its term.
//
// Weights are read in place from the GGUF layout, and each weight block is
// decoded once per matmul whatever the batch:
//  - more than kBT vectors: unpack_rows decodes a tile of kRT rows into a
//    small per-thread buffer (codes as bytes, block scales as floats) and
//    every batch tile reads it back (ScratchSource);
//  - up to kBT vectors (GEMV): Q4_0, Q4_1 and Q8_0 blocks are decoded
//    straight into registers (row_products, gemv_rows); I4 goes through the buffer one row
//    at a time.

struct RowScratch {
  std::vector<uint8_t> codes;  // kRT rows of kpad unpacked codes
  std::vector<float> dw;       // kRT rows of bpad block scales
  std::vector<float> cw;       // kRT rows of blocks float corrections
  int64_t blocks = 0, bpad = 0, kpad = 0;

  void prepare(int64_t nblocks) {
    if (nblocks == blocks) return;
    blocks = nblocks;
    bpad = (nblocks + kBPV - 1) / kBPV * kBPV;
    kpad = bpad * 32;
    codes.assign(static_cast<size_t>(kRT * kpad), 0);
    dw.assign(static_cast<size_t>(kRT * bpad), 0.0f);
    cw.assign(static_cast<size_t>(kRT * nblocks), 0.0f);
  }
};

inline float load_half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof h);
  return half_to_float(h);
}

inline constexpr int kPrefetchAhead = 1024;

// Where block i of a row keeps its codes and fp16 scale, and its float
// correction cw (Q4_1: the min m; I4: -zero * scale; others: none).
template <QType T>
struct BlockLayout {
  const uint8_t* row;
  int group_shift = 0;      // I4: log2 of the 32-weight blocks per group (1, 2 or 4 blocks)
  size_t group_bytes = 0;   // I4: bytes per group
  const uint8_t* base(int64_t i) const {
    if constexpr (T == QType::Q4_0) return row + i * sizeof(BlockQ4_0);
    if constexpr (T == QType::Q4_1) return row + i * sizeof(BlockQ4_1);
    if constexpr (T == QType::Q8_0) return row + i * sizeof(BlockQ8_0);
    return row + (i >> group_shift) * group_bytes;  // I4: the group header (shift: no division per block)
  }
  const uint8_t* qs(int64_t i) const {
    if constexpr (T == QType::Q4_1) return base(i) + 4;
    if constexpr (T == QType::I4) return base(i) + sizeof(GroupI4Header) + (i & ((1 << group_shift) - 1)) * 16;
    return base(i) + 2;
  }
  const uint8_t* scale(int64_t i) const { return base(i); }
  float cw(int64_t i) const {
    if constexpr (T == QType::Q4_1) return load_half(base(i) + 2);
    if constexpr (T == QType::I4) return -static_cast<float>(base(i)[2]) * load_half(base(i));
    return 0.0f;
  }
};

// Rows [r, r+rt) decoded into the scratch, a whole vector of blocks per step:
// codes as bytes, block scales as floats, float corrections.
template <QType T>
void unpack_rows(const QuantMatrix& w, int64_t r, int rt, RowScratch& s) {
  for (int rr = 0; rr < rt; rr++) {
    BlockLayout<T> L{w.row_ptr(r + rr)};
    if constexpr (T == QType::I4) {
      L.group_shift = block_size(w.type) == 32 ? 0 : block_size(w.type) == 64 ? 1 : 2;
      L.group_bytes = block_bytes(w.type);
    }
    uint8_t* codes = s.codes.data() + rr * s.kpad;
    float* dw = s.dw.data() + rr * s.bpad;
    for (int64_t i = 0; i < s.blocks; i += kBPV) {
      const int n = static_cast<int>(std::min<int64_t>(kBPV, s.blocks - i));
      const int64_t i1 = std::min(i + 1, s.blocks - 1);  // block i+1, read only when n == 2
      _mm_prefetch(reinterpret_cast<const char*>(L.base(i)) + kPrefetchAhead, _MM_HINT_T0);
      VI c;
      if constexpr (T == QType::Q8_0) {
        c = load_byte_blocks(L.qs(i), L.qs(i1), n);
        if constexpr (kVnni) c = flip_sign_bits(c);  // signed -> unsigned + 128
      } else {
        c = load_nibble_blocks(L.qs(i), L.qs(i1), n);
      }
      store_codes(codes + i * 32, c);
      for (int k = 0; k < n; k++) dw[i + k] = load_half(L.scale(i + k));
    }
    if constexpr (T == QType::Q4_1 || T == QType::I4) {
      float* cw = s.cw.data() + rr * s.blocks;
      for (int64_t i = 0; i < s.blocks; i++) cw[i] = L.cw(i);
    }
  }
}

// Reads a row tile back from the scratch.
struct ScratchSource {
  const RowScratch& s;
  VI codes(int r, int64_t i, int) const { return load_codes(s.codes.data() + r * s.kpad + i * 32); }
  float scale(int r, int64_t i) const { return s.dw[r * s.bpad + i]; }
  float cw(int r, int64_t i) const { return s.cw[r * s.blocks + i]; }
};

// log2 of the code offsets 8 (Q4_0) and 128 (Q8_0 on VNNI): offset terms are
// shifts (vpmulld is slow on several cores).
template <int32_t K>
constexpr int offset_shift() {
  static_assert(K == 8 || K == 128, "offsets are 8 (Q4_0) or 128 (Q8_0 on VNNI)");
  return K == 8 ? 3 : 7;
}

// -v * k for the code offset k.
template <int32_t K>
inline VI neg_times_pow2(VI v) {
  return sub_i(zero_i(), shl_i<offset_shift<K>()>(v));
}

// Lane j of the result: the sum of v[j]'s 8 lanes (exact integer sums).
inline __m256i sum8(const __m256i* v) {
  const __m256i h01 = _mm256_hadd_epi32(v[0], v[1]), h23 = _mm256_hadd_epi32(v[2], v[3]);
  const __m256i h45 = _mm256_hadd_epi32(v[4], v[5]), h67 = _mm256_hadd_epi32(v[6], v[7]);
  const __m256i lo = _mm256_hadd_epi32(h01, h23), hi = _mm256_hadd_epi32(h45, h67);  // per 128-bit half
  return _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31));
}

// k * v for the code offset k, 8 int32 lanes.
template <int32_t K>
inline __m256i offset_times(__m256i v) {
  return _mm256_slli_epi32(v, offset_shift<K>());
}

// The register tile: RT rows x BT vectors, accumulated over all blocks in
// the scalar reference's order (kernels_scalar.cpp), so every output equals
// the reference bit for bit: for each block, in order,
//   acc = acc + (float(isum) * (dw * dx) [+ cw * dsum])      (no FMA)
// where isum is the block's exact integer dot product. That makes the logits
// the same on every x86 path (AVX2 laptops, AVX-512 servers, the VNNI row-lane
// kernels) and for every tile shape, batch size and thread count, so QES
// rewards do not depend on the machine. The dot leaves 8 partial sums per
// block in its lanes; sum8 folds 8 outputs' partial sums into one vector of 8
// exact totals (a few horizontal adds per 8 outputs), and one float vector
// then scales and accumulates 8 outputs at once.
// kCw: Q4_1 / I4, whose float correction cw * dsum joins each block's term
// (for Q4_1 that is the reference's min * dsum; I4's integer zero point is a
// float correction here, so I4 stays within rounding of the reference).
template <int RT, int BT, bool kSignedW, int32_t kOffset, bool kCw, class Src>
void tile(const Src& src, const simd::ActView& x, int b0, float (*out)[kBT]) {
  constexpr int kOut = RT * BT;            // output o is row o / BT, vector o % BT
  constexpr int kGroups = (kOut + 7) / 8;  // 8 outputs per float accumulator
  __m256 acc[kGroups];
  for (int g = 0; g < kGroups; g++) acc[g] = _mm256_setzero_ps();
  auto step = [&](int64_t i, int n) __attribute__((always_inline)) {
    VI wv[RT];
    for (int r = 0; r < RT; r++) wv[r] = src.codes(r, i, n);
    VI d[kGroups * 8];
    for (int o = kOut; o < kGroups * 8; o++) d[o] = zero_i();
    for (int b = 0; b < BT; b++) {
      const int64_t xb = (b0 + b) * x.blocks + i;
      const VI xq = load_act(x.q + xb * 32, n);
      VI bias = zero_i();
      if constexpr (kOffset != 0) bias = neg_times_pow2<kOffset>(expand_sums(x.sum + xb, n));
      for (int r = 0; r < RT; r++) d[r * BT + b] = kSignedW ? dot_signed(bias, wv[r], xq) : dot(bias, wv[r], xq);
    }
    for (int k = 0; k < n; k++) {  // the step's blocks, in order
      alignas(32) float scale[kGroups * 8] = {};
      alignas(32) float corr[kGroups * 8] = {};
      for (int o = 0; o < kOut; o++) {
        const int64_t xb = (b0 + o % BT) * x.blocks + i + k;
        scale[o] = src.scale(o / BT, i + k) * x.d[xb];
        if constexpr (kCw) corr[o] = src.cw(o / BT, i + k) * x.dsum[xb];
      }
      for (int g = 0; g < kGroups; g++) {
        __m256i lanes[8];
        for (int l = 0; l < 8; l++) lanes[l] = block_lanes(d[g * 8 + l], k);
        __m256 term = _mm256_mul_ps(_mm256_cvtepi32_ps(sum8(lanes)), _mm256_load_ps(scale + g * 8));
        if constexpr (kCw) term = _mm256_add_ps(term, _mm256_load_ps(corr + g * 8));
        acc[g] = _mm256_add_ps(acc[g], term);
      }
    }
  };
  int64_t i = 0;
  for (; i + kBPV <= x.blocks; i += kBPV) step(i, kBPV);
  if (i < x.blocks) step(i, static_cast<int>(x.blocks - i));
  alignas(32) float total[kGroups * 8];
  for (int g = 0; g < kGroups; g++) _mm256_store_ps(total + g * 8, acc[g]);
  for (int o = 0; o < kOut; o++) out[o / BT][o % BT] = total[o];
}

template <class Src>
using TileFn = void (*)(const Src&, const simd::ActView&, int, float (*)[kBT]);

template <class Src, bool kSignedW, int32_t kOffset, bool kCw, int... I>
constexpr std::array<TileFn<Src>, sizeof...(I)> make_tiles(std::integer_sequence<int, I...>) {
  return {&tile<I / kBT + 1, I % kBT + 1, kSignedW, kOffset, kCw, Src>...};
}

// GEMV (up to kBT vectors): one row at a time, its Q4_0 / Q4_1 / Q8_0 blocks
// decoded straight into registers, 8 blocks per round. One sequential stream
// through the weights measured about twice the GB/s of 4 interleaved row
// streams on Zen 5 (prefetchers). A round folds the 8 blocks' partial sums
// into one vector of 8 exact block totals (sum8), removes the code offset from
// all 8 at once (-off * sum(x)), and scales them in one vector multiply: the
// round's 8 block products float(isum) * (d * dx) [+ m * dsum for Q4_1],
// stored at prod[b * stride + round] for vector b.
template <QType T, int BT, bool kSignedW, int32_t kOffset>
void row_products(const uint8_t* row, const simd::ActView& x, __m256* prod, int64_t stride) {
  static_assert(T == QType::Q4_0 || T == QType::Q4_1 || T == QType::Q8_0, "I4 uses the scratch");
  constexpr int kSteps = 8 / kBPV;  // vectors of blocks per round
  const BlockLayout<T> L{row};
  // n valid blocks (1..8) from block i; a short round zero-fills the rest.
  auto round = [&](int64_t i, int n) __attribute__((always_inline)) {
    _mm_prefetch(reinterpret_cast<const char*>(L.base(i)) + kPrefetchAhead, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(L.base(i)) + kPrefetchAhead + 64, _MM_HINT_T0);
    alignas(16) uint16_t half[8] = {};
    alignas(32) float mw[8] = {};  // Q4_1's block minima
    for (int k = 0; k < n; k++) std::memcpy(&half[k], L.scale(i + k), 2);
    if constexpr (T == QType::Q4_1)
      for (int k = 0; k < n; k++) mw[k] = L.cw(i + k);
    const __m256 dw = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(half)));
    VI wv[kSteps];
    for (int st = 0; st < kSteps; st++) {
      const int m = std::min(kBPV, n - st * kBPV);  // blocks of this vector
      if (m <= 0) {
        wv[st] = zero_i();
        continue;
      }
      const int64_t j = i + st * kBPV;  // its first block; j + 1 is read only when m == 2
      if constexpr (T != QType::Q8_0) {
        wv[st] = load_nibble_blocks(L.qs(j), L.qs(j + 1), m);
      } else {
        wv[st] = load_byte_blocks(L.qs(j), L.qs(j + 1), m);
        if constexpr (kVnni) wv[st] = flip_sign_bits(wv[st]);  // signed -> unsigned + 128
      }
    }
    for (int b = 0; b < BT; b++) {
      const int64_t xb = b * x.blocks + i;
      __m256i lanes[8];
      for (int st = 0; st < kSteps; st++) {
        const int m = std::min(kBPV, n - st * kBPV);
        const VI xq = m > 0 ? load_act(x.q + (xb + st * kBPV) * 32, m) : zero_i();
        const VI d = kSignedW ? dot_signed(zero_i(), wv[st], xq) : dot(zero_i(), wv[st], xq);
        for (int h = 0; h < kBPV; h++) lanes[st * kBPV + h] = block_lanes(d, h);
      }
      __m256i total = sum8(lanes);
      // The activations' block scales, sums and d*sums; a short round copies
      // them so it never reads past the last vector's.
      alignas(32) float d8[8] = {}, ds8[8] = {};
      alignas(32) int32_t s8[8] = {};
      const float* xd = x.d + xb;
      const float* xds = x.dsum + xb;
      const int32_t* xs = x.sum + xb;
      if (n < 8) {
        std::memcpy(d8, xd, n * sizeof(float));
        xd = d8;
        if constexpr (T == QType::Q4_1) {
          std::memcpy(ds8, xds, n * sizeof(float));
          xds = ds8;
        }
        if constexpr (kOffset != 0) {
          std::memcpy(s8, xs, n * sizeof(int32_t));
          xs = s8;
        }
      }
      if constexpr (kOffset != 0)
        total = _mm256_sub_epi32(total, offset_times<kOffset>(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs))));
      __m256 p = _mm256_mul_ps(_mm256_cvtepi32_ps(total), _mm256_mul_ps(dw, _mm256_loadu_ps(xd)));
      if constexpr (T == QType::Q4_1) p = _mm256_add_ps(p, _mm256_mul_ps(_mm256_load_ps(mw), _mm256_loadu_ps(xds)));
      _mm256_store_ps(reinterpret_cast<float*>(prod + b * stride + i / 8), p);
    }
  };
  int64_t i = 0;
  for (; i + 8 <= x.blocks; i += 8) round(i, 8);
  if (i < x.blocks) round(i, static_cast<int>(x.blocks - i));
}

// 8x8 float transpose: r[k] lane l <- r[l] lane k.
inline void transpose8(__m256 (&r)[8]) {
  __m256 t[8], u[8];
  for (int q = 0; q < 4; q++) {
    t[2 * q] = _mm256_unpacklo_ps(r[2 * q], r[2 * q + 1]);
    t[2 * q + 1] = _mm256_unpackhi_ps(r[2 * q], r[2 * q + 1]);
  }
  for (int q = 0; q < 2; q++) {
    u[4 * q] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
    u[4 * q + 1] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0xee);
    u[4 * q + 2] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
    u[4 * q + 3] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xee);
  }
  for (int k = 0; k < 4; k++) {
    r[k] = _mm256_permute2f128_ps(u[k], u[4 + k], 0x20);
    r[4 + k] = _mm256_permute2f128_ps(u[k], u[4 + k], 0x31);
  }
}

// The GEMV over rows [r0, r1), 8 rows at a time. Each output is the sum of
// its row's block products in block order (the scalar reference's sum), a
// chain of dependent float adds. Added one output at a time, that chain (4
// cycles per block) bounded the kernel, so the products of 8 rows are stored
// first (row_products, still one sequential stream through the weights), then
// an 8x8 transpose per round puts the 8 rows in the lanes of one vector and
// the 8 chains advance together, one vector add per block.
template <QType T, int BT, bool kSignedW, int32_t kOffset>
void gemv_rows(const QuantMatrix& w, int64_t r0, int64_t r1, const simd::ActView& x, float* y, int64_t ldy) {
  struct alignas(32) Round {
    float p[8];
  };
  const int64_t rounds = (x.blocks + 7) / 8;
  thread_local std::vector<Round> buffer;  // [vector][row of 8][round]
  if (buffer.size() < static_cast<size_t>(BT * 8 * rounds)) buffer.resize(static_cast<size_t>(BT * 8 * rounds));
  __m256* prod = reinterpret_cast<__m256*>(buffer.data());
  for (int64_t r = r0; r < r1; r += 8) {
    const int live = static_cast<int>(std::min<int64_t>(8, r1 - r));
    for (int l = 0; l < live; l++) row_products<T, BT, kSignedW, kOffset>(w.row_ptr(r + l), x, prod + l * rounds, 8 * rounds);
    for (int b = 0; b < BT; b++) {
      const __m256* pb = prod + b * 8 * rounds;
      __m256 acc = _mm256_setzero_ps();
      for (int64_t c = 0; c < rounds; c++) {
        __m256 t[8];
        for (int l = 0; l < 8; l++) t[l] = l < live ? pb[l * rounds + c] : _mm256_setzero_ps();
        transpose8(t);
        const int n = static_cast<int>(std::min<int64_t>(8, x.blocks - c * 8));
        for (int k = 0; k < n; k++) acc = _mm256_add_ps(acc, t[k]);
      }
      alignas(32) float out[8];
      _mm256_store_ps(out, acc);
      for (int l = 0; l < live; l++) y[b * ldy + r + l] = out[l];
    }
  }
}

template <QType T>
void gemm_quant(const QuantMatrix& w, int64_t r0, int64_t r1, const simd::ActView& x, float* y, int64_t ldy) {
  // Q8_0 codes are signed: vpdpbusd takes them shifted to unsigned (+128,
  // offset 128); maddubs would saturate on that, so the other paths keep them
  // signed and move the sign onto the activations instead.
  constexpr bool kSignedW = T == QType::Q8_0 && !kVnni;
  constexpr int32_t kOffset = T == QType::Q4_0 ? 8 : (T == QType::Q8_0 && kVnni) ? 128 : 0;
  constexpr bool kHasCw = T == QType::Q4_1 || T == QType::I4;
  constexpr int kTiles = kRT * kBT;

  if constexpr (T != QType::I4) {
    if (x.nb <= kBT) {
      static constexpr auto gemv = []<int... B>(std::integer_sequence<int, B...>) {
        return std::array{&gemv_rows<T, B + 1, kSignedW, kOffset>...};
      }(std::make_integer_sequence<int, kBT>{});
      gemv[x.nb - 1](w, r0, r1, x, y, ldy);
      return;
    }
  }

  static constexpr auto tiles = make_tiles<ScratchSource, kSignedW, kOffset, kHasCw>(std::make_integer_sequence<int, kTiles>{});
  thread_local RowScratch scratch;
  RowScratch& s = scratch;
  s.prepare(x.blocks);
  const ScratchSource src{s};
  // Row tiles of kRT share the unpacking across batch tiles; with a single
  // batch tile, one row at a time keeps the weight reads one sequential stream.
  const int64_t row_step = x.nb <= kBT ? 1 : kRT;
  for (int64_t r = r0; r < r1; r += row_step) {
    const int rt = static_cast<int>(std::min<int64_t>(row_step, r1 - r));
    unpack_rows<T>(w, r, rt, s);
    for (int b0 = 0; b0 < x.nb; b0 += kBT) {
      const int bt = std::min(kBT, x.nb - b0);
      float out[kRT][kBT];
      tiles[(rt - 1) * kBT + (bt - 1)](src, x, b0, out);
      for (int rr = 0; rr < rt; rr++) {
        for (int bb = 0; bb < bt; bb++) {
          y[(b0 + bb) * ldy + r + rr] = out[rr][bb];
        }
      }
    }
  }
}
