// Quantizers: bytes equal to ggml's reference rules on hand-computed vectors
// (negative extremes, ties, zeros, clamping), and round-trip error bounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "qes/quant.hpp"

using namespace qes;

TEST(QuantizeQ4_0, HandComputedBlock) {
  // Largest magnitude is -4 (first of the two 4s): d = -4/-8 = 0.5, id = 2,
  // q = min(15, trunc(x*2 + 8.5)).
  float x[32] = {};
  const float lo[] = {-4, 4, 0, 0.25f, -0.25f, 1, -1, -3.75f, 3.9f};  // q: 0 15(clamped) 8 9 8 10 6 1 15
  const float hi[] = {0.5f, -0.5f, 2, -2, 0.75f};                       // q: 9 7 12 4 10
  std::copy(std::begin(lo), std::end(lo), x);
  std::copy(std::begin(hi), std::end(hi), x + 16);
  BlockQ4_0 b;
  quantize_row(DType::Q4_0, x, &b, 32);
  EXPECT_EQ(b.d, 0x3800);
  const uint8_t want[16] = {0x90, 0x7f, 0xc8, 0x49, 0xa8, 0x8a, 0x86, 0x81,
                            0x8f, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88};
  for (int j = 0; j < 16; j++) EXPECT_EQ(b.qs[j], want[j]) << "byte " << j;
}

TEST(QuantizeQ4_0, ZeroBlockAndSignOfScale) {
  float x[64] = {};
  x[32 + 3] = 8.0f;  // positive extreme: d = 8/-8 = -1, x=8 -> q=0
  x[32 + 4] = -8.0f;  // -> (-8)(-1) + 8.5 = 16.5 -> clamped 15
  BlockQ4_0 b[2];
  quantize_row(DType::Q4_0, x, b, 64);
  EXPECT_EQ(b[0].d, 0x8000);  // 0/-8 is -0.0 in ggml too
  for (int j = 0; j < 16; j++) EXPECT_EQ(b[0].qs[j], 0x88);
  EXPECT_EQ(b[1].d, 0xbc00);  // -1
  EXPECT_EQ(b[1].qs[3], 0x80);
  EXPECT_EQ(b[1].qs[4], 0x8f);
}

TEST(QuantizeQ4_1, HandComputedBlock) {
  // min -1, max 2: d = 3/15 = 0.2 (id = 5), q = min(15, trunc((x+1)*5 + 0.5)).
  float x[32] = {};
  const float v[] = {-1, 2, 0, 0.5f, -0.5f, 1, 0.25f, 1.75f};  // q: 0 15 5 8 3 10 6 14; zeros -> 5
  std::copy(std::begin(v), std::end(v), x);
  BlockQ4_1 b;
  quantize_row(DType::Q4_1, x, &b, 32);
  EXPECT_EQ(b.d, fp32_to_fp16(0.2f));
  EXPECT_EQ(b.d, 0x3266);
  EXPECT_EQ(b.m, 0xbc00);
  const uint8_t want[16] = {0x50, 0x5f, 0x55, 0x58, 0x53, 0x5a, 0x56, 0x5e,
                            0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55};
  for (int j = 0; j < 16; j++) EXPECT_EQ(b.qs[j], want[j]) << "byte " << j;
}

TEST(QuantizeQ4_1, ConstantBlock) {
  float x[32];
  std::fill(x, x + 32, 3.0f);  // d = 0: every code 0, m = 3
  BlockQ4_1 b;
  quantize_row(DType::Q4_1, x, &b, 32);
  EXPECT_EQ(b.d, 0);
  EXPECT_EQ(b.m, 0x4200);
  for (int j = 0; j < 16; j++) EXPECT_EQ(b.qs[j], 0);
}

TEST(QuantizeQ8_0, HandComputedBlock) {
  // amax 127: d = 1, q = roundf(x), ties away from zero.
  float x[32] = {};
  const float v[] = {127, -127, 2.5f, -2.5f, 0.5f, -0.5f, 1.49f, -0.0f, 3.5f};
  const int8_t want[] = {127, -127, 3, -3, 1, -1, 1, 0, 4};
  std::copy(std::begin(v), std::end(v), x);
  BlockQ8_0 b;
  quantize_row(DType::Q8_0, x, &b, 32);
  EXPECT_EQ(b.d, 0x3c00);
  for (int j = 0; j < 9; j++) EXPECT_EQ(b.qs[j], want[j]) << "value " << j;
  for (int j = 9; j < 32; j++) EXPECT_EQ(b.qs[j], 0);
}

TEST(QuantizeI4, HandComputedGroup) {
  // min -1 max 2 -> scale = 0.2 (fp16 0x3266 = 0.199951...), zero = round(1/0.19995) = 5.
  float x[32] = {};
  x[0] = -1;
  x[1] = 2;
  x[17] = 0.6f;  // 0.6/0.19995 = 3.0007 -> 3 + 5 = 8, high nibble of byte 1
  std::vector<uint8_t> g(block_bytes(DType::I4_G32));
  quantize_row(DType::I4_G32, x, g.data(), 32);
  GroupI4Header h;
  std::memcpy(&h, g.data(), sizeof h);
  EXPECT_EQ(h.scale, 0x3266);
  EXPECT_EQ(h.zero, 5);
  const uint8_t* qs = g.data() + 4;
  EXPECT_EQ(qs[0], 0x50);  // -1 -> round(-5.001) + 5 = 0; x[16] = 0 -> 5
  EXPECT_EQ(qs[1], 0x8f);  // 2 -> round(10.002) + 5 = 15
  EXPECT_EQ(qs[2], 0x55);
}

namespace {
std::vector<float> random_row(int64_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  // A few outliers and exact zeros, as real weights have.
  for (int64_t i = 0; i < n; i += 37) v[i] *= 6;
  for (int64_t i = 5; i < n; i += 101) v[i] = 0;
  return v;
}
}  // namespace

// Round trip: every value within half a step of its block, plus the fp16
// rounding of the scales; values clamped at the top code within one step.
TEST(Quantize, RoundTripErrorBounds) {
  const int64_t n = 1024;
  const auto x = random_row(n, 7, 0.02f);
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q8_0, DType::I4_G32, DType::I4_G64, DType::I4_G128}) {
    std::vector<uint8_t> q(row_bytes(t, n));
    std::vector<float> y(n);
    quantize_row(t, x.data(), q.data(), n);
    dequantize_row(t, q.data(), y.data(), n);
    const int g = block_size(t);
    for (int64_t b = 0; b < n / g; b++) {
      float mn = 0, mx = 0, amax = 0;
      for (int j = 0; j < g; j++) {
        mn = std::min(mn, x[b * g + j]);
        mx = std::max(mx, x[b * g + j]);
        amax = std::max(amax, std::fabs(x[b * g + j]));
      }
      float bound = 0;
      switch (t) {
        case DType::Q4_0: bound = amax / 8 * 1.01f; break;     // one step (clamped extreme)
        case DType::Q4_1: bound = (mx - mn) / 15 * 0.51f + std::fabs(mn) * 0x1p-10f; break;
        case DType::Q8_0: bound = amax / 127 * 0.57f; break;   // half step + 127 * fp16 error
        default: bound = (mx - mn) / 15 * 1.01f; break;        // zero-point rounding: one step
      }
      for (int j = 0; j < g; j++) {
        ASSERT_LE(std::fabs(y[b * g + j] - x[b * g + j]), bound) << dtype_name(t) << " block " << b << " j " << j;
      }
    }
    // Requantizing dequantized values reproduces the bytes (a fixed point).
    std::vector<uint8_t> q2(q.size());
    quantize_row(t, y.data(), q2.data(), n);
    if (t == DType::Q8_0 || t == DType::Q4_0) {
      EXPECT_EQ(q, q2) << dtype_name(t);
    }
  }
}

TEST(Quantize, Q4_0TypicalErrorIsHalfStep) {
  // Values of the same sign as the extreme never clamp: error <= d/2 (+ fp16 of d).
  const auto x = random_row(4096, 3, 1.0f);
  std::vector<BlockQ4_0> q(4096 / 32);
  std::vector<float> y(4096);
  quantize_row(DType::Q4_0, x.data(), q.data(), 4096);
  dequantize_row(DType::Q4_0, q.data(), y.data(), 4096);
  for (int b = 0; b < 128; b++) {
    const float d = std::fabs(fp16_to_fp32(q[b].d));
    for (int j = 0; j < 32; j++) {
      const float v = x[b * 32 + j] / fp16_to_fp32(q[b].d);  // in units of d: the extreme is -8
      if (v < 7.4f) { ASSERT_LE(std::fabs(y[b * 32 + j] - x[b * 32 + j]), d * 0.51f);
      }
    }
  }
}

TEST(Quantize, FloatTypesAndBadLengths) {
  const float x[3] = {1.5f, -2.0f, 65504.0f};
  uint16_t h[3];
  float y[3];
  quantize_row(DType::F16, x, h, 3);
  dequantize_row(DType::F16, h, y, 3);
  for (int i = 0; i < 3; i++) EXPECT_EQ(x[i], y[i]);
  quantize_row(DType::BF16, x, h, 2);
  EXPECT_EQ(h[0], 0x3fc0);
  std::vector<uint8_t> buf(64);
  EXPECT_THROW(quantize_row(DType::Q4_0, x, buf.data(), 3), std::invalid_argument);
  EXPECT_THROW(row_bytes(DType::I4_G64, 96), std::invalid_argument);
  EXPECT_EQ(row_bytes(DType::Q4_0, 4096), 4096 / 32 * 18u);
  EXPECT_EQ(row_bytes(DType::I4_G128, 256), 2 * 68u);
}

TEST(DType, NamesAndRanges) {
  DType t;
  ASSERT_TRUE(dtype_from_name("q4_1", &t));
  EXPECT_EQ(t, DType::Q4_1);
  EXPECT_FALSE(dtype_from_name("q5_0", &t));
  EXPECT_EQ(dtype_name(DType::I4_G64), "i4_g64");
  EXPECT_EQ(code_min(DType::Q8_0), -128);
  EXPECT_EQ(code_max(DType::Q4_0), 15);
  EXPECT_FALSE(is_quantized(DType::F16));
  EXPECT_EQ(code_bits(DType::I4_G128), 4);
}
