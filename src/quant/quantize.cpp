// Quantize and dequantize rows. The Q4_0 / Q4_1 / Q8_0 quantizers follow the
// rounding rules of ggml's reference quantizers (quantize_row_*_ref), so the
// same floats give the same bytes as llama.cpp's converter:
//   Q4_0: d = v/-8 where v is the signed value of largest magnitude (first one
//         wins on ties), id = 1/d (from the unrounded d), q = min(15, trunc(x*id + 8.5))
//   Q4_1: d = (max-min)/15, m = min, q = min(15, trunc((x-min)*id + 0.5))
//   Q8_0: d = amax/127, q = roundf(x*id) (ties away from zero)
// I4_G (our GPTQ-style group format) follows GPTQ's min/max quantizer: the
// range always contains 0 (so 0 is exact), scale = (max-min)/15,
// zero = round(-min/scale) clamped to 0..15, q = clamp(round(x/scale) + zero, 0, 15),
// with the fp16-rounded scale used for the codes so dequantization matches.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "qes/quant.hpp"

namespace qes {

namespace {

void check_cols(DType t, int64_t cols) {
  if (cols < 0 || cols % block_size(t) != 0)
    throw std::invalid_argument("cannot quantize a row of " + std::to_string(cols) + " values to " +
                                std::string(dtype_name(t)) + ": not a multiple of its block size " +
                                std::to_string(block_size(t)));
}

// ggml's (int8_t)(v) followed by MIN(15, .): truncation toward zero. The clamp
// to [0, 15] first keeps the conversion defined for any input (NaN -> 0).
uint8_t trunc_nibble(float v) {
  if (!(v > 0.0f)) return 0;
  return static_cast<uint8_t>(v >= 15.0f ? 15 : static_cast<int>(v));
}

void quantize_q4_0(const float* x, BlockQ4_0* y, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; i++, x += kBlock) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kBlock; j++) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kBlock / 2; j++) {
      const uint8_t lo = trunc_nibble(x[j] * id + 8.5f);
      const uint8_t hi = trunc_nibble(x[j + kBlock / 2] * id + 8.5f);
      y[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void quantize_q4_1(const float* x, BlockQ4_1* y, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; i++, x += kBlock) {
    float min = x[0], max = x[0];
    for (int j = 1; j < kBlock; j++) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(min);
    for (int j = 0; j < kBlock / 2; j++) {
      const uint8_t lo = trunc_nibble((x[j] - min) * id + 0.5f);
      const uint8_t hi = trunc_nibble((x[j + kBlock / 2] - min) * id + 0.5f);
      y[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void quantize_q8_0(const float* x, BlockQ8_0* y, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; i++, x += kBlock) {
    float amax = 0.0f;
    for (int j = 0; j < kBlock; j++) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kBlock; j++) {
      // |x*id| <= 127 up to rounding; the clamp only guards NaN/overflow.
      const float q = std::round(x[j] * id);
      y[i].qs[j] = static_cast<int8_t>(q >= 127.0f ? 127 : q <= -128.0f ? -128 : (q == q ? q : 0));
    }
  }
}

void quantize_i4(const float* x, uint8_t* y, int64_t ngroups, int group) {
  const size_t gbytes = sizeof(GroupI4Header) + group / 2;
  for (int64_t g = 0; g < ngroups; g++, x += group, y += gbytes) {
    float min = 0.0f, max = 0.0f;  // GPTQ: the range always contains zero
    for (int j = 0; j < group; j++) {
      min = std::min(min, x[j]);
      max = std::max(max, x[j]);
    }
    if (min == 0.0f && max == 0.0f) {  // GPTQ's all-zero rule: use [-1, 1]
      min = -1.0f;
      max = 1.0f;
    }
    GroupI4Header h{};
    h.scale = fp32_to_fp16((max - min) / 15);
    const float scale = fp16_to_fp32(h.scale);
    const float id = scale != 0.0f ? 1.0f / scale : 0.0f;
    h.zero = static_cast<uint8_t>(std::clamp(static_cast<int>(std::nearbyint(-min * id)), 0, 15));
    std::memcpy(y, &h, sizeof h);
    uint8_t* qs = y + sizeof h;
    std::memset(qs, 0, group / 2);
    for (int j = 0; j < group; j++) {
      const int q = std::clamp(static_cast<int>(std::nearbyint(x[j] * id)) + h.zero, 0, 15);
      const int sub = j / kBlock, k = j % kBlock;
      qs[sub * 16 + k % 16] |= static_cast<uint8_t>(k < 16 ? q : q << 4);
    }
  }
}

}  // namespace

void quantize_row(DType t, const float* src, void* dst, int64_t cols) {
  check_cols(t, cols);
  switch (t) {
    case DType::F32:
      std::memcpy(dst, src, cols * sizeof(float));
      return;
    case DType::F16:
      for (int64_t i = 0; i < cols; i++) static_cast<uint16_t*>(dst)[i] = fp32_to_fp16(src[i]);
      return;
    case DType::BF16:
      for (int64_t i = 0; i < cols; i++) static_cast<uint16_t*>(dst)[i] = fp32_to_bf16(src[i]);
      return;
    case DType::Q4_0:
      return quantize_q4_0(src, static_cast<BlockQ4_0*>(dst), cols / kBlock);
    case DType::Q4_1:
      return quantize_q4_1(src, static_cast<BlockQ4_1*>(dst), cols / kBlock);
    case DType::Q8_0:
      return quantize_q8_0(src, static_cast<BlockQ8_0*>(dst), cols / kBlock);
    case DType::I4_G32:
    case DType::I4_G64:
    case DType::I4_G128:
      return quantize_i4(src, static_cast<uint8_t*>(dst), cols / block_size(t), block_size(t));
  }
  throw std::invalid_argument("quantize_row: unknown weight type");
}

void dequantize_row(DType t, const void* src, float* dst, int64_t cols) {
  check_cols(t, cols);
  switch (t) {
    case DType::F32:
      std::memcpy(dst, src, cols * sizeof(float));
      return;
    case DType::F16:
      for (int64_t i = 0; i < cols; i++) dst[i] = fp16_to_fp32(static_cast<const uint16_t*>(src)[i]);
      return;
    case DType::BF16:
      for (int64_t i = 0; i < cols; i++) dst[i] = bf16_to_fp32(static_cast<const uint16_t*>(src)[i]);
      return;
    case DType::Q4_0: {
      const auto* b = static_cast<const BlockQ4_0*>(src);
      for (int64_t i = 0; i < cols / kBlock; i++, dst += kBlock) {
        const float d = fp16_to_fp32(b[i].d);
        for (int j = 0; j < 16; j++) {
          dst[j] = ((b[i].qs[j] & 0x0f) - 8) * d;
          dst[j + 16] = ((b[i].qs[j] >> 4) - 8) * d;
        }
      }
      return;
    }
    case DType::Q4_1: {
      const auto* b = static_cast<const BlockQ4_1*>(src);
      for (int64_t i = 0; i < cols / kBlock; i++, dst += kBlock) {
        const float d = fp16_to_fp32(b[i].d), m = fp16_to_fp32(b[i].m);
        for (int j = 0; j < 16; j++) {
          dst[j] = (b[i].qs[j] & 0x0f) * d + m;
          dst[j + 16] = (b[i].qs[j] >> 4) * d + m;
        }
      }
      return;
    }
    case DType::Q8_0: {
      const auto* b = static_cast<const BlockQ8_0*>(src);
      for (int64_t i = 0; i < cols / kBlock; i++, dst += kBlock) {
        const float d = fp16_to_fp32(b[i].d);
        for (int j = 0; j < kBlock; j++) dst[j] = b[i].qs[j] * d;
      }
      return;
    }
    case DType::I4_G32:
    case DType::I4_G64:
    case DType::I4_G128: {
      const int group = block_size(t);
      const auto* p = static_cast<const uint8_t*>(src);
      for (int64_t g = 0; g < cols / group; g++, p += block_bytes(t), dst += group) {
        GroupI4Header h;
        std::memcpy(&h, p, sizeof h);
        const float scale = fp16_to_fp32(h.scale);
        const uint8_t* qs = p + sizeof h;
        for (int j = 0; j < group; j++) {
          const int sub = j / kBlock, k = j % kBlock;
          const uint8_t byte = qs[sub * 16 + k % 16];
          const int q = k < 16 ? (byte & 0x0f) : (byte >> 4);
          dst[j] = (q - h.zero) * scale;
        }
      }
      return;
    }
  }
  throw std::invalid_argument("dequantize_row: unknown weight type");
}

}  // namespace qes
