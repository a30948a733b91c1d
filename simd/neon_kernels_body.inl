// The NEON GEMV/GEMM bodies shared by kernels_neon.cpp (AArch64 and armv7)
// and kernels_neondot.cpp (ARMv8.2 dot product). Included *inside* each
// file's ISA namespace after neon_common.inl, with the includer defining
//   block_dot(acc, w_lo, w_hi, x_lo, x_hi): acc + the 32 products of one block
//       (signed codes x signed activations), summed into the four int32 lanes.
//
// Per 32-weight block i of row r and vector b (as the scalar reference):
//   y += dw * dx * sum_j c_j * xq_j  +  mw * dx * sum_j xq_j
// c_j is the weight's integer value with its offset removed (Q4_0: code - 8,
// I4: code - zero), which always fits int8, so one signed dot covers every
// type; mw is Q4_1's block minimum (times the activations' d*sum).
//
// GEMV (one vector) decodes each weight block straight into registers, four
// rows at a time sharing the activation loads. GEMM (2..64 vectors) first
// decodes a tile of kRT rows into a per-thread buffer and reuses it for every
// batch vector, kRT x kBT outputs in registers.

// Where the blocks of a row are: for I4 the group layout, fixed per matrix.
struct RowFormat {
  int64_t blocks_per_group = 1;
  size_t group_bytes = 0;
  explicit RowFormat(const QuantMatrix& w) {
    if (w.type != DType::Q4_0 && w.type != DType::Q4_1 && w.type != DType::Q8_0) {
      blocks_per_group = block_size(w.type) / 32;
      group_bytes = block_bytes(w.type);
    }
  }
};

// One 32-weight block in registers: signed values, scale and minimum.
struct Block {
  int8x16_t lo, hi;  // weights 0..15, 16..31
  float d, m;
};

template <QType T>
inline Block decode_block(const uint8_t* row, int64_t i, const RowFormat& f) {
  Block b;
  b.m = 0.0f;
  if constexpr (T == QType::Q4_0) {
    const uint8_t* blk = row + i * sizeof(BlockQ4_0);
    b.d = half_to_float(blk);
    uint8x16_t lo, hi;
    unpack_nibbles(blk + 2, &lo, &hi);
    const int8x16_t eight = vdupq_n_s8(8);
    b.lo = vsubq_s8(vreinterpretq_s8_u8(lo), eight);
    b.hi = vsubq_s8(vreinterpretq_s8_u8(hi), eight);
  } else if constexpr (T == QType::Q4_1) {
    const uint8_t* blk = row + i * sizeof(BlockQ4_1);
    b.d = half_to_float(blk);
    b.m = half_to_float(blk + 2);
    uint8x16_t lo, hi;
    unpack_nibbles(blk + 4, &lo, &hi);
    b.lo = vreinterpretq_s8_u8(lo);
    b.hi = vreinterpretq_s8_u8(hi);
  } else if constexpr (T == QType::Q8_0) {
    const uint8_t* blk = row + i * sizeof(BlockQ8_0);
    b.d = half_to_float(blk);
    b.lo = vld1q_s8(reinterpret_cast<const int8_t*>(blk + 2));
    b.hi = vld1q_s8(reinterpret_cast<const int8_t*>(blk + 18));
  } else {  // I4_G*: block i is sub-block (i % per group) of group (i / per group)
    const uint8_t* group = row + (i / f.blocks_per_group) * f.group_bytes;
    b.d = half_to_float(group);
    const int8x16_t zero = vdupq_n_s8(static_cast<int8_t>(group[2]));
    uint8x16_t lo, hi;
    unpack_nibbles(group + sizeof(GroupI4Header) + (i % f.blocks_per_group) * 16, &lo, &hi);
    b.lo = vsubq_s8(vreinterpretq_s8_u8(lo), zero);
    b.hi = vsubq_s8(vreinterpretq_s8_u8(hi), zero);
  }
  return b;
}

// Q4_1's minimum term, sum_i m_i * dsum_i, added in block order exactly as
// gemv_rows accumulates it: GEMV and GEMM must agree bit for bit (a vector's
// outputs may not depend on the batch it is in), so no lane-parallel sum here.
inline float dot_f32(const float* a, const float* b, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; i++) sum += a[i] * b[i];
  return sum;
}

// ---- GEMV: RT rows of one vector, blocks decoded into registers.
template <QType T, int RT>
void gemv_rows(const QuantMatrix& w, int64_t r, const RowFormat& f, const ActView& x, int b, float* y) {
  const uint8_t* rows[RT];
  for (int k = 0; k < RT; k++) rows[k] = w.row_ptr(r + k);
  float32x4_t acc[RT];
  float min_term[RT];
  for (int k = 0; k < RT; k++) {
    acc[k] = vdupq_n_f32(0.0f);
    min_term[k] = 0.0f;
  }
  const int8_t* xq = x.q + b * x.cols;
  const int64_t xb0 = b * x.blocks;
  for (int64_t i = 0; i < x.blocks; i++) {
    const int8x16_t x_lo = vld1q_s8(xq + i * 32), x_hi = vld1q_s8(xq + i * 32 + 16);
    const float dx = x.d[xb0 + i];
    for (int k = 0; k < RT; k++) {
      const Block blk = decode_block<T>(rows[k], i, f);
      const int32x4_t dot = block_dot(vdupq_n_s32(0), blk.lo, blk.hi, x_lo, x_hi);
      acc[k] = mul_add_n(acc[k], vcvtq_f32_s32(dot), blk.d * dx);
      if constexpr (T == QType::Q4_1) min_term[k] += blk.m * x.dsum[xb0 + i];
    }
  }
  for (int k = 0; k < RT; k++) y[k] = horizontal_sum(acc[k]) + min_term[k];
}

template <QType T>
void gemv_quant(const QuantMatrix& w, int64_t r0, int64_t r1, const ActView& x, float* y, int64_t ldy) {
  const RowFormat f(w);
  for (int b = 0; b < x.nb; b++) {
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) gemv_rows<T, 4>(w, r, f, x, b, y + b * ldy + r);
    for (; r < r1; r++) gemv_rows<T, 1>(w, r, f, x, b, y + b * ldy + r);
  }
}

// ---- GEMM: kRT decoded rows in a per-thread buffer, kRT x kBT register tile.
constexpr int kRT = 2;
constexpr int kBT = 4;

// Decoded rows: codes (32 int8 per block), scales and Q4_1 minimums. Raw
// arrays rather than std::vector: see neon_common.inl.
struct DecodedRows {
  int8_t* codes = nullptr;
  float* d = nullptr;
  float* m = nullptr;
  int64_t capacity = 0;  // blocks per row
  int64_t blocks = 0;

  DecodedRows() = default;
  DecodedRows(const DecodedRows&) = delete;
  DecodedRows& operator=(const DecodedRows&) = delete;
  ~DecodedRows() { release(); }
  void release() {
    delete[] codes;
    delete[] d;
    delete[] m;
    codes = nullptr;
    d = m = nullptr;
  }
  void prepare(int64_t nblocks) {
    blocks = nblocks;
    if (nblocks <= capacity) return;
    release();
    codes = new int8_t[kRT * nblocks * 32];
    d = new float[kRT * nblocks];
    m = new float[kRT * nblocks];
    capacity = nblocks;
  }
  int8_t* row_codes(int k) const { return codes + k * capacity * 32; }
  float* row_d(int k) const { return d + k * capacity; }
  float* row_m(int k) const { return m + k * capacity; }
};

template <QType T>
void decode_rows(const QuantMatrix& w, int64_t r, int rt, const RowFormat& f, DecodedRows& s) {
  for (int k = 0; k < rt; k++) {
    const uint8_t* row = w.row_ptr(r + k);
    int8_t* codes = s.row_codes(k);
    for (int64_t i = 0; i < s.blocks; i++) {
      const Block blk = decode_block<T>(row, i, f);
      vst1q_s8(codes + i * 32, blk.lo);
      vst1q_s8(codes + i * 32 + 16, blk.hi);
      s.row_d(k)[i] = blk.d;
      s.row_m(k)[i] = blk.m;
    }
  }
}

using QuantTileFn = void (*)(const DecodedRows&, const ActView&, int, float (*)[kBT]);

template <int RT, int BT>
void quant_tile(const DecodedRows& s, const ActView& x, int b0, float (*out)[kBT]) {
  float32x4_t acc[RT][BT];
  for (int k = 0; k < RT; k++)
    for (int b = 0; b < BT; b++) acc[k][b] = vdupq_n_f32(0.0f);
  for (int64_t i = 0; i < s.blocks; i++) {
    int8x16_t w_lo[RT], w_hi[RT];
    float dw[RT];
    for (int k = 0; k < RT; k++) {
      w_lo[k] = vld1q_s8(s.row_codes(k) + i * 32);
      w_hi[k] = vld1q_s8(s.row_codes(k) + i * 32 + 16);
      dw[k] = s.row_d(k)[i];
    }
    for (int b = 0; b < BT; b++) {
      const int64_t xb = (b0 + b) * x.blocks + i;
      const int8x16_t x_lo = vld1q_s8(x.q + xb * 32), x_hi = vld1q_s8(x.q + xb * 32 + 16);
      const float dx = x.d[xb];
      for (int k = 0; k < RT; k++) {
        const int32x4_t dot = block_dot(vdupq_n_s32(0), w_lo[k], w_hi[k], x_lo, x_hi);
        acc[k][b] = mul_add_n(acc[k][b], vcvtq_f32_s32(dot), dw[k] * dx);
      }
    }
  }
  for (int k = 0; k < RT; k++)
    for (int b = 0; b < BT; b++) out[k][b] = horizontal_sum(acc[k][b]);
}

// The tile function for rt rows (1..kRT) and bt vectors (1..kBT).
template <int RT, int BT>
QuantTileFn pick_quant_tile(int rt, int bt) {
  if constexpr (BT > 1) {
    if (bt < BT) return pick_quant_tile<RT, BT - 1>(rt, bt);
  }
  if constexpr (RT > 1) {
    if (rt < RT) return pick_quant_tile<RT - 1, BT>(rt, bt);
  }
  return quant_tile<RT, BT>;
}

template <QType T>
void gemm_quant(const QuantMatrix& w, int64_t r0, int64_t r1, const ActView& x, float* y, int64_t ldy) {
  const RowFormat f(w);
  thread_local DecodedRows s;
  s.prepare(x.blocks);
  for (int64_t r = r0; r < r1; r += kRT) {
    const int rt = static_cast<int>(min64(kRT, r1 - r));
    decode_rows<T>(w, r, rt, f, s);
    for (int b0 = 0; b0 < x.nb; b0 += kBT) {
      const int bt = min_int(kBT, x.nb - b0);
      float out[kRT][kBT];
      pick_quant_tile<kRT, kBT>(rt, bt)(s, x, b0, out);
      for (int k = 0; k < rt; k++) {
        for (int b = 0; b < bt; b++) {
          float v = out[k][b];
          if constexpr (T == QType::Q4_1) v += dot_f32(s.row_m(k), x.dsum + (b0 + b) * x.blocks, x.blocks);
          y[(b0 + b) * ldy + r + k] = v;
        }
      }
    }
  }
}

// ---- Float weights (F32, F16, BF16) times float vectors: rows kept in float
// (not whole blocks), embeddings, output layers.
constexpr int kFRT = 2;
constexpr int kFBT = 4;

// n (1..4) weights from column k as floats, zero beyond.
template <FType T>
inline float32x4_t load_weights(const uint8_t* row, int64_t k, int n) {
  if constexpr (T == FType::F32) {
    const float* p = reinterpret_cast<const float*>(row) + k;
    if (n == 4) return vld1q_f32(p);
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::memcpy(t, p, n * sizeof(float));
    return vld1q_f32(t);
  } else {
    const uint16_t* p = reinterpret_cast<const uint16_t*>(row) + k;
    uint16x4_t h;
    if (n == 4) {
      h = vld1_u16(p);
    } else {
      uint16_t t[4] = {0, 0, 0, 0};
      std::memcpy(t, p, n * sizeof(uint16_t));
      h = vld1_u16(t);
    }
    return T == FType::F16 ? half4_to_float(h) : bf16x4_to_float(h);
  }
}
inline float32x4_t load_floats(const float* p, int n) {
  if (n == 4) return vld1q_f32(p);
  float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  std::memcpy(t, p, n * sizeof(float));
  return vld1q_f32(t);
}

using FloatTileFn = void (*)(const QuantMatrix&, int64_t, const float*, int64_t, int, float (*)[kFBT]);

template <FType T, int RT, int BT>
void float_tile(const QuantMatrix& w, int64_t r, const float* x, int64_t ldx, int b0, float (*out)[kFBT]) {
  const uint8_t* rows[RT];
  for (int k = 0; k < RT; k++) rows[k] = w.row_ptr(r + k);
  float32x4_t acc[RT][BT];
  for (int k = 0; k < RT; k++)
    for (int b = 0; b < BT; b++) acc[k][b] = vdupq_n_f32(0.0f);
  for (int64_t c = 0; c < w.cols; c += 4) {
    const int n = static_cast<int>(min64(4, w.cols - c));
    float32x4_t wv[RT];
    for (int k = 0; k < RT; k++) wv[k] = load_weights<T>(rows[k], c, n);
    for (int b = 0; b < BT; b++) {
      const float32x4_t xv = load_floats(x + (b0 + b) * ldx + c, n);
      for (int k = 0; k < RT; k++) acc[k][b] = mul_add(acc[k][b], wv[k], xv);
    }
  }
  for (int k = 0; k < RT; k++)
    for (int b = 0; b < BT; b++) out[k][b] = horizontal_sum(acc[k][b]);
}

template <FType T, int RT, int BT>
FloatTileFn pick_float_tile(int rt, int bt) {
  if constexpr (BT > 1) {
    if (bt < BT) return pick_float_tile<T, RT, BT - 1>(rt, bt);
  }
  if constexpr (RT > 1) {
    if (rt < RT) return pick_float_tile<T, RT - 1, BT>(rt, bt);
  }
  return float_tile<T, RT, BT>;
}

template <FType T>
void gemm_float(const QuantMatrix& w, int64_t r0, int64_t r1, const float* x, int64_t ldx, int nb, float* y,
                int64_t ldy) {
  for (int64_t r = r0; r < r1; r += kFRT) {
    const int rt = static_cast<int>(min64(kFRT, r1 - r));
    for (int b0 = 0; b0 < nb; b0 += kFBT) {
      const int bt = min_int(kFBT, nb - b0);
      float out[kFRT][kFBT];
      pick_float_tile<T, kFRT, kFBT>(rt, bt)(w, r, x, ldx, b0, out);
      for (int k = 0; k < rt; k++)
        for (int b = 0; b < bt; b++) y[(b0 + b) * ldy + r + k] = out[k][b];
    }
  }
}

// constexpr so that the table is constant-initialized: looking it up must run
// no code of this unit (compiled for a CPU that may not be the running one).
constexpr KernelTable make_table(Isa isa) {
  KernelTable t{};
  t.isa = isa;
  t.gemv[static_cast<int>(QType::Q4_0)] = gemv_quant<QType::Q4_0>;
  t.gemv[static_cast<int>(QType::Q4_1)] = gemv_quant<QType::Q4_1>;
  t.gemv[static_cast<int>(QType::Q8_0)] = gemv_quant<QType::Q8_0>;
  t.gemv[static_cast<int>(QType::I4)] = gemv_quant<QType::I4>;
  t.gemm[static_cast<int>(QType::Q4_0)] = gemm_quant<QType::Q4_0>;
  t.gemm[static_cast<int>(QType::Q4_1)] = gemm_quant<QType::Q4_1>;
  t.gemm[static_cast<int>(QType::Q8_0)] = gemm_quant<QType::Q8_0>;
  t.gemm[static_cast<int>(QType::I4)] = gemm_quant<QType::I4>;
  t.fgemv[static_cast<int>(FType::F32)] = t.fgemm[static_cast<int>(FType::F32)] = gemm_float<FType::F32>;
  t.fgemv[static_cast<int>(FType::F16)] = t.fgemm[static_cast<int>(FType::F16)] = gemm_float<FType::F16>;
  t.fgemv[static_cast<int>(FType::BF16)] = t.fgemm[static_cast<int>(FType::BF16)] = gemm_float<FType::BF16>;
  return t;
}
