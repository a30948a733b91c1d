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
//   dot(acc, w_u8, x_s8), dot_signed(acc, w_s8, x_s8), to_float, fmadd, mul,
//   hsum, zero_i, zero_f, set1_i, mullo_i, unpack_nibbles, copy_q8, dot_f32, half_to_float
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
// Weights are read in place from the GGUF layout. A tile of kRT rows is first
// unpacked into a small per-thread buffer (codes as bytes, scales as floats)
// and then reused for every batch vector: each weight block is decoded once
// per matmul whatever the batch.

struct RowScratch {
  std::vector<uint8_t> codes;  // kRT rows of kpad unpacked codes
  std::vector<float> dw;       // kRT rows of bpad block scales (zero padded)
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

template <QType T>
void unpack_rows(const QuantMatrix& w, int64_t r, int rt, RowScratch& s) {
  for (int rr = 0; rr < rt; rr++) {
    const uint8_t* row = w.row_ptr(r + rr);
    uint8_t* codes = s.codes.data() + rr * s.kpad;
    float* dw = s.dw.data() + rr * s.bpad;
    float* cw = s.cw.data() + rr * s.blocks;
    for (int64_t i = 0; i < s.blocks; i++) {
      if constexpr (T == QType::Q4_0) {
        const uint8_t* blk = row + i * sizeof(BlockQ4_0);
        dw[i] = load_half(blk);
        unpack_nibbles(blk + 2, codes + i * 32);
      } else if constexpr (T == QType::Q4_1) {
        const uint8_t* blk = row + i * sizeof(BlockQ4_1);
        dw[i] = load_half(blk);
        cw[i] = load_half(blk + 2);
        unpack_nibbles(blk + 4, codes + i * 32);
      } else if constexpr (T == QType::Q8_0) {
        const uint8_t* blk = row + i * sizeof(BlockQ8_0);
        dw[i] = load_half(blk);
        copy_q8(blk + 2, codes + i * 32, kVnni);
      } else {
        const int64_t per_group = block_size(w.type) / 32;
        const uint8_t* group = row + (i / per_group) * block_bytes(w.type);
        const float scale = load_half(group);
        dw[i] = scale;
        cw[i] = -static_cast<float>(group[2]) * scale;
        unpack_nibbles(group + sizeof(GroupI4Header) + (i % per_group) * 16, codes + i * 32);
      }
    }
  }
}

// The register tile: RT rows x BT vectors, accumulated over all blocks.
template <int RT, int BT, bool kSignedW, int32_t kOffset>
void tile(const RowScratch& s, const simd::ActView& x, int b0, float (*out)[kBT]) {
  VF acc[RT][BT];
  for (int r = 0; r < RT; r++)
    for (int b = 0; b < BT; b++) acc[r][b] = zero_f();
  const VI neg_off = set1_i(-kOffset);
  auto step = [&](int64_t i, int n) __attribute__((always_inline)) {
    VI wv[RT];
    VF dwv[RT];
    for (int r = 0; r < RT; r++) {
      wv[r] = load_codes(s.codes.data() + r * s.kpad + i * 32);
      dwv[r] = expand_scales(s.dw.data() + r * s.bpad + i, n);
    }
    for (int b = 0; b < BT; b++) {
      const int64_t xb = (b0 + b) * x.blocks + i;
      const VI xq = load_act(x.q + xb * 32, n);
      const VF dx = expand_scales(x.d + xb, n);
      VI bias = zero_i();
      if constexpr (kOffset != 0) bias = mullo_i(expand_sums(x.sum + xb, n), neg_off);
      for (int r = 0; r < RT; r++) {
        const VI d = kSignedW ? dot_signed(bias, wv[r], xq) : dot(bias, wv[r], xq);
        acc[r][b] = fmadd(to_float(d), mul(dwv[r], dx), acc[r][b]);
      }
    }
  };
  int64_t i = 0;
  for (; i + kBPV <= x.blocks; i += kBPV) step(i, kBPV);
  if (i < x.blocks) step(i, static_cast<int>(x.blocks - i));
  for (int r = 0; r < RT; r++)
    for (int b = 0; b < BT; b++) out[r][b] = hsum(acc[r][b]);
}

using TileFn = void (*)(const RowScratch&, const simd::ActView&, int, float (*)[kBT]);

template <bool kSignedW, int32_t kOffset, int... I>
constexpr std::array<TileFn, sizeof...(I)> make_tiles(std::integer_sequence<int, I...>) {
  return {&tile<I / kBT + 1, I % kBT + 1, kSignedW, kOffset>...};
}

template <QType T>
void gemm_quant(const QuantMatrix& w, int64_t r0, int64_t r1, const simd::ActView& x, float* y, int64_t ldy) {
  // Q8_0 codes are signed: vpdpbusd takes them shifted to unsigned (+128,
  // offset 128); maddubs would saturate on that, so the other paths keep them
  // signed and move the sign onto the activations instead.
  constexpr bool kSignedW = T == QType::Q8_0 && !kVnni;
  constexpr int32_t kOffset = T == QType::Q4_0 ? 8 : (T == QType::Q8_0 && kVnni) ? 128 : 0;
  constexpr bool kHasCw = T == QType::Q4_1 || T == QType::I4;
  static constexpr auto tiles = make_tiles<kSignedW, kOffset>(std::make_integer_sequence<int, kRT * kBT>{});

  thread_local RowScratch s;
  s.prepare(x.blocks);
  for (int64_t r = r0; r < r1; r += kRT) {
    const int rt = static_cast<int>(std::min<int64_t>(kRT, r1 - r));
    unpack_rows<T>(w, r, rt, s);
    for (int b0 = 0; b0 < x.nb; b0 += kBT) {
      const int bt = std::min(kBT, x.nb - b0);
      float out[kRT][kBT];
      tiles[(rt - 1) * kBT + (bt - 1)](s, x, b0, out);
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
