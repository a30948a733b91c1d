// The quantized GEMV/GEMM body shared by the x86 paths. Included by
// kernels_avx2.cpp and kernels_avx512*.cpp *inside their own ISA namespace*
// (so every inline helper and template is a distinct entity per ISA: no ODR
// clash between translation units compiled with different flags). The
// including file defines the vector helpers first:
//   kBPV        32-weight blocks per integer vector (ymm: 1, zmm: 2)
//   kRT, kBT    register tile: rows x batch vectors
//   kVnni       whether dot() is vpdpbusd (u8 weights up to 255 never saturate)
//   VI, VF      integer / float vector types
//   load_act(p, n), load_codes(p), expand_scales(p, n), expand_sums(p, n),
//   dot(acc, w_u8, x_s8), dot_signed(acc, w_s8, x_s8), to_float, fmadd, mul, add_f,
//   hsum, zero_i, zero_f, sub_i, shl_i<n>, dot_f32, half_to_float, expand_halves,
//   load_nibble_blocks, load_byte_blocks, flip_sign_bits, store_codes, store_f, load_f
//
// How a block is computed without touching each weight's offset:
//   sum_j (c_j - off) * x_j = dot(c, x) - off * sum(x)
// The integer term -off*sum(x) enters as the initial value of the integer
// accumulator (free with vpdpbusd), so Q4_0 (off 8) and Q8_0 on VNNI (codes
// stored +128 as unsigned, off 128) need nothing per weight. Q4_1's min and
// I4's zero point differ per weight block and are float: they are collected
// per row as cw[i] (m, or -zero*scale) and added at the end as one float dot
// product with the activations' d*sum.
//
// Weights are read in place from the GGUF layout, and each weight block is
// decoded once per matmul whatever the batch:
//  - more than kBT vectors: unpack_rows decodes a tile of kRT rows into a
//    small per-thread buffer (codes as bytes, scales expanded to lanes) and
//    every batch tile reads it back (ScratchSource);
//  - up to kBT vectors (GEMV): Q4_0 and Q8_0 blocks are decoded straight into
//    registers (DirectSource); Q4_1 and I4 go through the buffer one row at a
//    time. One row at a time keeps the weight reads a single sequential
//    stream, which measured about twice the GB/s of 4 interleaved rows here.

struct RowScratch {
  std::vector<uint8_t> codes;  // kRT rows of kpad unpacked codes
  std::vector<float> dwl;      // kRT rows of block scales expanded to the dot's lanes (8 per block)
  std::vector<float> cw;       // kRT rows of blocks float corrections
  int64_t blocks = 0, bpad = 0, kpad = 0;

  void prepare(int64_t nblocks) {
    if (nblocks == blocks) return;
    blocks = nblocks;
    bpad = (nblocks + kBPV - 1) / kBPV * kBPV;
    kpad = bpad * 32;
    codes.assign(static_cast<size_t>(kRT * kpad), 0);
    dwl.assign(static_cast<size_t>(kRT * bpad * 8), 0.0f);
    cw.assign(static_cast<size_t>(kRT * nblocks), 0.0f);
  }
};

inline float load_half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof h);
  return half_to_float(h);
}

inline constexpr int kPrefetchAhead = 1024;

// Decodes GGUF blocks straight into registers.
template <QType T>
struct DirectSource {
  static_assert(T == QType::Q4_0 || T == QType::Q8_0, "types with a float correction use the scratch");
  static constexpr bool kScalesInMemory = false;
  static constexpr size_t kStride = T == QType::Q4_0 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0);
  const uint8_t* row[kRT];
  VI codes(int r, int64_t i, int n) const {
    const uint8_t* b0 = row[r] + i * kStride;
    const uint8_t* b1 = b0 + kStride;  // only read when n == 2
    // Rows are streamed once from DRAM: ask for them a little ahead so the
    // loads do not wait on memory.
    _mm_prefetch(reinterpret_cast<const char*>(b0) + kPrefetchAhead, _MM_HINT_T0);
    if constexpr (T == QType::Q4_0) {
      return load_nibble_blocks(b0 + 2, b1 + 2, n);
    } else {
      const VI w = load_byte_blocks(b0 + 2, b1 + 2, n);
      if constexpr (kVnni) return flip_sign_bits(w);  // signed -> unsigned + 128
      return w;
    }
  }
  VF scales(int r, int64_t i, int n) const {
    const uint8_t* b0 = row[r] + i * kStride;
    return expand_halves(b0, b0 + kStride, n);
  }
};

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
// codes as bytes, scales expanded to lanes, float corrections.
template <QType T>
void unpack_rows(const QuantMatrix& w, int64_t r, int rt, RowScratch& s) {
  for (int rr = 0; rr < rt; rr++) {
    BlockLayout<T> L{w.row_ptr(r + rr)};
    if constexpr (T == QType::I4) {
      L.group_shift = block_size(w.type) == 32 ? 0 : block_size(w.type) == 64 ? 1 : 2;
      L.group_bytes = block_bytes(w.type);
    }
    uint8_t* codes = s.codes.data() + rr * s.kpad;
    float* dwl = s.dwl.data() + rr * s.bpad * 8;
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
      store_f(dwl + i * 8, expand_halves(L.scale(i), L.scale(i1), n));
    }
    if constexpr (T == QType::Q4_1 || T == QType::I4) {
      float* cw = s.cw.data() + rr * s.blocks;
      for (int64_t i = 0; i < s.blocks; i++) cw[i] = L.cw(i);
    }
  }
}

// Reads a row tile back from the scratch. Scales are re-loaded where used
// (a memory operand) rather than held in registers: the 4x4 tile needs the
// registers for its accumulators (holding them spilled).
struct ScratchSource {
  static constexpr bool kScalesInMemory = true;
  const RowScratch& s;
  VI codes(int r, int64_t i, int) const { return load_codes(s.codes.data() + r * s.kpad + i * 32); }
  VF scales(int r, int64_t i, int) const { return load_f(s.dwl.data() + (r * s.bpad + i) * 8); }
};

// -v * k for the offsets 8 and 128: a shift and a subtraction (vpmulld is
// slow on several cores).
template <int32_t K>
inline VI neg_times_pow2(VI v) {
  static_assert(K == 8 || K == 128, "offsets are 8 (Q4_0) or 128 (Q8_0 on VNNI)");
  return sub_i(zero_i(), shl_i<K == 8 ? 3 : 7>(v));
}

// The register tile: RT rows x BT vectors, accumulated over all blocks.
// The float accumulation order must be the same for every tile shape: the
// model requires logits that do not depend on how many sequences share a
// step (GEMV and GEMM tiles must agree bit for bit). So one accumulator chain
// per output for every shape; kChains > 1 only for all shapes at once.
template <int RT, int BT, bool kSignedW, int32_t kOffset, class Src>
void tile(const Src& src, const simd::ActView& x, int b0, float (*out)[kBT]) {
  constexpr int kChains = 1;
  VF acc[kChains][RT][BT];
  for (int c = 0; c < kChains; c++)
    for (int r = 0; r < RT; r++)
      for (int b = 0; b < BT; b++) acc[c][r][b] = zero_f();
  auto step = [&](int64_t i, int n, int c) __attribute__((always_inline)) {
    VI wv[RT];
    VF dwv[RT];
    for (int r = 0; r < RT; r++) {
      wv[r] = src.codes(r, i, n);
      if constexpr (!Src::kScalesInMemory) dwv[r] = src.scales(r, i, n);
    }
    for (int b = 0; b < BT; b++) {
      const int64_t xb = (b0 + b) * x.blocks + i;
      const VI xq = load_act(x.q + xb * 32, n);
      const VF dx = expand_scales(x.d + xb, n);
      VI bias = zero_i();
      if constexpr (kOffset != 0) bias = neg_times_pow2<kOffset>(expand_sums(x.sum + xb, n));
      for (int r = 0; r < RT; r++) {
        const VI d = kSignedW ? dot_signed(bias, wv[r], xq) : dot(bias, wv[r], xq);
        const VF dw = Src::kScalesInMemory ? src.scales(r, i, n) : dwv[r];
        acc[c][r][b] = fmadd(to_float(d), mul(dw, dx), acc[c][r][b]);
      }
    }
  };
  int64_t i = 0;
  for (; i + kBPV * kChains <= x.blocks; i += kBPV * kChains)
    for (int c = 0; c < kChains; c++) step(i + c * kBPV, kBPV, c);
  for (; i + kBPV <= x.blocks; i += kBPV) step(i, kBPV, 0);
  if (i < x.blocks) step(i, static_cast<int>(x.blocks - i), 0);
  for (int r = 0; r < RT; r++) {
    for (int b = 0; b < BT; b++) {
      VF total = acc[0][r][b];
      for (int c = 1; c < kChains; c++) total = add_f(total, acc[c][r][b]);
      out[r][b] = hsum(total);
    }
  }
}

template <class Src>
using TileFn = void (*)(const Src&, const simd::ActView&, int, float (*)[kBT]);

template <class Src, bool kSignedW, int32_t kOffset, int... I>
constexpr std::array<TileFn<Src>, sizeof...(I)> make_tiles(std::integer_sequence<int, I...>) {
  return {&tile<I / kBT + 1, I % kBT + 1, kSignedW, kOffset, Src>...};
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

  if constexpr (!kHasCw) {
    if (x.nb <= kBT) {
      // One batch tile: decode each block once, in registers, one row at a
      // time. A single sequential stream through the weights measured about
      // twice the GB/s of 4 interleaved row streams on Zen 5 (prefetchers).
      static constexpr auto tiles =
          make_tiles<DirectSource<T>, kSignedW, kOffset>(std::make_integer_sequence<int, kTiles>{});
      for (int64_t r = r0; r < r1; r++) {
        DirectSource<T> src{};
        src.row[0] = w.row_ptr(r);
        float out[kRT][kBT];
        tiles[x.nb - 1](src, x, 0, out);
        for (int bb = 0; bb < x.nb; bb++) y[bb * ldy + r] = out[0][bb];
      }
      return;
    }
  }

  static constexpr auto tiles = make_tiles<ScratchSource, kSignedW, kOffset>(std::make_integer_sequence<int, kTiles>{});
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
          float v = out[rr][bb];
          if constexpr (kHasCw) v += dot_f32(s.cw.data() + rr * s.blocks, x.dsum + (b0 + bb) * x.blocks, s.blocks);
          y[(b0 + bb) * ldy + r + rr] = v;
        }
      }
    }
  }
}
