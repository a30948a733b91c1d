// The float-weight (F32, F16) GEMV/GEMM body shared by the x86 paths, included
// inside each ISA namespace like x86_quant_body.inl. Needs from the includer:
//   kFL (floats per VF), kFRT, kFBT (register tile), VF, zero_f, fmadd, hsum,
//   load_f32(p, n) and load_f16(p, n): n (1..kFL) values, zero beyond.
// Used for tensors kept in float: rows that are not whole blocks (stories260K's
// ffn_down, 172 columns), embeddings and output layers.

template <FType T>
VF load_w(const uint8_t* row, int64_t k, int n) {
  if constexpr (T == FType::F32)
    return load_f32(reinterpret_cast<const float*>(row) + k, n);
  else
    return load_f16(reinterpret_cast<const uint16_t*>(row) + k, n);
}

template <FType T, int RT, int BT>
void float_tile(const QuantMatrix& w, int64_t r, const float* x, int64_t ldx, int b0, float (*out)[kFBT]) {
  VF acc[RT][BT];
  for (int i = 0; i < RT; i++)
    for (int b = 0; b < BT; b++) acc[i][b] = zero_f();
  const uint8_t* rows[RT];
  for (int i = 0; i < RT; i++) rows[i] = w.row_ptr(r + i);
  auto step = [&](int64_t k, int n) __attribute__((always_inline)) {
    VF wv[RT];
    for (int i = 0; i < RT; i++) wv[i] = load_w<T>(rows[i], k, n);
    for (int b = 0; b < BT; b++) {
      const VF xv = load_f32(x + (b0 + b) * ldx + k, n);
      for (int i = 0; i < RT; i++) acc[i][b] = fmadd(wv[i], xv, acc[i][b]);
    }
  };
  int64_t k = 0;
  for (; k + kFL <= w.cols; k += kFL) step(k, kFL);
  if (k < w.cols) step(k, static_cast<int>(w.cols - k));
  for (int i = 0; i < RT; i++)
    for (int b = 0; b < BT; b++) out[i][b] = hsum(acc[i][b]);
}

using FloatTileFn = void (*)(const QuantMatrix&, int64_t, const float*, int64_t, int, float (*)[kFBT]);

template <FType T, int... I>
constexpr std::array<FloatTileFn, sizeof...(I)> make_float_tiles(std::integer_sequence<int, I...>) {
  return {&float_tile<T, I / kFBT + 1, I % kFBT + 1>...};
}

template <FType T>
void gemm_float(const QuantMatrix& w, int64_t r0, int64_t r1, const float* x, int64_t ldx, int nb, float* y,
                int64_t ldy) {
  static constexpr auto tiles = make_float_tiles<T>(std::make_integer_sequence<int, kFRT * kFBT>{});
  for (int64_t r = r0; r < r1; r += kFRT) {
    const int rt = static_cast<int>(std::min<int64_t>(kFRT, r1 - r));
    for (int b0 = 0; b0 < nb; b0 += kFBT) {
      const int bt = std::min(kFBT, nb - b0);
      float out[kFRT][kFBT];
      tiles[(rt - 1) * kFBT + (bt - 1)](w, r, x, ldx, b0, out);
      for (int i = 0; i < rt; i++)
        for (int b = 0; b < bt; b++) y[(b0 + b) * ldy + r + i] = out[i][b];
    }
  }
}

// The table every x86 path returns (BF16 weights use the scalar kernel).
inline simd::KernelTable make_table(Isa isa) {
  simd::KernelTable t{};
  t.isa = isa;
  const simd::QuantKernel q[] = {gemm_quant<QType::Q4_0>, gemm_quant<QType::Q4_1>, gemm_quant<QType::Q8_0>,
                                 gemm_quant<QType::I4>};
  for (int i = 0; i < simd::kQTypes; i++) t.gemv[i] = t.gemm[i] = q[i];
  t.fgemv[0] = t.fgemm[0] = gemm_float<FType::F32>;
  t.fgemv[1] = t.fgemm[1] = gemm_float<FType::F16>;
  return t;
}
