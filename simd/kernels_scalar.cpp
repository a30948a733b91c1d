// The scalar reference kernels: the oracle every SIMD path is tested against.
// Plain loops, one output at a time, written to be read (like llama2.c's matmul).
//
// For block i of row r and vector b (32 weights):
//   y += dw * dx * sum_j c_j * xq_j  +  mw * dx * sum_j xq_j
// where c_j is the weight's integer value with the type's offset removed and
// mw is Q4_1's block minimum (0 for the other types).
#include <cstring>

#include "kernels.hpp"

namespace qes::simd {

namespace {

// One 32-weight block of a row, decoded: integer values, scale and minimum.
struct Block {
  int32_t c[32];
  float scale;
  float min;
};

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

int nibble(const uint8_t* qs, int j) { return j < 16 ? (qs[j] & 0x0f) : (qs[j - 16] >> 4); }

Block decode_block(const QuantMatrix& w, int64_t r, int64_t i) {
  Block b{};
  const uint8_t* row = w.row_ptr(r);
  switch (w.type) {
    case DType::Q4_0: {
      const uint8_t* blk = row + i * sizeof(BlockQ4_0);
      b.scale = fp16_to_fp32(load_u16(blk));
      for (int j = 0; j < 32; j++) b.c[j] = nibble(blk + 2, j) - 8;
      break;
    }
    case DType::Q4_1: {
      const uint8_t* blk = row + i * sizeof(BlockQ4_1);
      b.scale = fp16_to_fp32(load_u16(blk));
      b.min = fp16_to_fp32(load_u16(blk + 2));
      for (int j = 0; j < 32; j++) b.c[j] = nibble(blk + 4, j);
      break;
    }
    case DType::Q8_0: {
      const uint8_t* blk = row + i * sizeof(BlockQ8_0);
      b.scale = fp16_to_fp32(load_u16(blk));
      for (int j = 0; j < 32; j++) b.c[j] = static_cast<int8_t>(blk[2 + j]);
      break;
    }
    default: {  // I4_G*: block i is sub-block (i % per_group) of group i / per_group
      const int64_t per_group = block_size(w.type) / 32;
      const uint8_t* group = row + (i / per_group) * block_bytes(w.type);
      GroupI4Header h;
      std::memcpy(&h, group, sizeof h);
      b.scale = fp16_to_fp32(h.scale);
      const uint8_t* qs = group + sizeof h + (i % per_group) * 16;
      for (int j = 0; j < 32; j++) b.c[j] = nibble(qs, j) - h.zero;
      break;
    }
  }
  return b;
}

void gemm_quant(const QuantMatrix& w, int64_t r0, int64_t r1, const ActView& x, float* y, int64_t ldy) {
  for (int64_t r = r0; r < r1; r++) {
    for (int b = 0; b < x.nb; b++) {
      float sum = 0.0f;
      for (int64_t i = 0; i < x.blocks; i++) {
        const Block blk = decode_block(w, r, i);
        const int8_t* xq = x.q + b * x.cols + i * 32;
        int32_t dot = 0;
        for (int j = 0; j < 32; j++) dot += blk.c[j] * xq[j];
        const int64_t xi = b * x.blocks + i;
        sum += blk.scale * x.d[xi] * static_cast<float>(dot) + blk.min * x.dsum[xi];
      }
      y[b * ldy + r] = sum;
    }
  }
}

float weight_f(const QuantMatrix& w, const uint8_t* row, int64_t k) {
  switch (w.type) {
    case DType::F16: return fp16_to_fp32(load_u16(row + 2 * k));
    case DType::BF16: return bf16_to_fp32(load_u16(row + 2 * k));
    default: {
      float v;
      std::memcpy(&v, row + 4 * k, sizeof v);
      return v;
    }
  }
}

void gemm_float(const QuantMatrix& w, int64_t r0, int64_t r1, const float* x, int64_t ldx, int nb, float* y,
                int64_t ldy) {
  for (int64_t r = r0; r < r1; r++) {
    const uint8_t* row = w.row_ptr(r);
    for (int b = 0; b < nb; b++) {
      float sum = 0.0f;
      for (int64_t k = 0; k < w.cols; k++) sum += weight_f(w, row, k) * x[b * ldx + k];
      y[b * ldy + r] = sum;
    }
  }
}

}  // namespace

const KernelTable& kernels_scalar() {
  static const KernelTable table = {
      Isa::Scalar,
      {gemm_quant, gemm_quant, gemm_quant, gemm_quant},
      {gemm_quant, gemm_quant, gemm_quant, gemm_quant},
      {gemm_float, gemm_float, gemm_float},
      {gemm_float, gemm_float, gemm_float},
  };
  return table;
}

}  // namespace qes::simd
