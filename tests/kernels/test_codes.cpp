// Code access by logical index: get/set/read/write agree with dequantization,
// touch only their own element, and reject bad input.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "qes/quant.hpp"

using namespace qes;

namespace {
struct Tensor {
  std::vector<uint8_t> bytes;
  QuantMatrix m;
  Tensor(DType t, int64_t rows, int64_t cols, uint32_t seed) : bytes(row_bytes(t, cols) * rows) {
    m = {t, rows, cols, bytes.data()};
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd;
    std::vector<float> row(cols);
    for (int64_t r = 0; r < rows; r++) {
      for (auto& v : row) v = nd(rng);
      quantize_row(t, row.data(), m.row_ptr(r), cols);
    }
  }
};

// The value a code stands for, from the block scales (quant.hpp's table).
float value_of(const QuantMatrix& m, int64_t r, int64_t c, int code) {
  const uint8_t* b = m.row_ptr(r) + (c / block_size(m.type)) * block_bytes(m.type);
  const float d = fp16_to_fp32(*reinterpret_cast<const uint16_t*>(b));
  switch (m.type) {
    case DType::Q4_0: return (code - 8) * d;
    case DType::Q4_1: return code * d + fp16_to_fp32(reinterpret_cast<const uint16_t*>(b)[1]);
    case DType::Q8_0: return code * d;
    default: return (code - b[2]) * d;
  }
}
}  // namespace

class Codes : public ::testing::TestWithParam<DType> {};

TEST_P(Codes, GetMatchesDequantize) {
  Tensor t(GetParam(), 3, 256, 1);
  std::vector<float> row(256);
  for (int64_t r = 0; r < 3; r++) {
    dequantize_row(t.m.type, t.m.row_ptr(r), row.data(), 256);
    for (int64_t c = 0; c < 256; c++) ASSERT_EQ(row[c], value_of(t.m, r, c, get_code(t.m, r, c))) << r << "," << c;
  }
}

TEST_P(Codes, SetTouchesOnlyItsElement) {
  Tensor t(GetParam(), 2, 128, 2);
  const std::vector<uint8_t> before = t.bytes;
  std::vector<int16_t> all(2 * 128);
  for (int64_t r = 0; r < 2; r++) read_codes(t.m, r, 0, 128, all.data() + r * 128);
  const int lo = code_min(t.m.type), hi = code_max(t.m.type);
  for (int64_t c : {0, 1, 15, 16, 17, 31, 32, 63, 64, 127}) {
    const int old = get_code(t.m, 1, c);
    const int code = old == hi ? lo : old + 1;
    set_code(t.m, 1, c, code);
    EXPECT_EQ(get_code(t.m, 1, c), code);
    for (int64_t r = 0; r < 2; r++) {
      for (int64_t k = 0; k < 128; k++) {
        if (r == 1 && k == c) continue;
        ASSERT_EQ(get_code(t.m, r, k), all[r * 128 + k]) << "neighbour " << r << "," << k;
      }
    }
    set_code(t.m, 1, c, old);
  }
  EXPECT_EQ(t.bytes, before);
}

TEST_P(Codes, BulkReadWriteRoundTrip) {
  Tensor t(GetParam(), 2, 128, 3);
  std::vector<int16_t> codes(50);
  std::mt19937 rng(4);
  std::uniform_int_distribution<int> u(code_min(t.m.type), code_max(t.m.type));
  for (auto& c : codes) c = static_cast<int16_t>(u(rng));
  write_codes(t.m, 1, 13, 50, codes.data());
  std::vector<int16_t> back(50);
  read_codes(t.m, 1, 13, 50, back.data());
  EXPECT_EQ(back, codes);
  for (int i = 0; i < 50; i++) EXPECT_EQ(get_code(t.m, 1, 13 + i), codes[i]);
}

TEST_P(Codes, RejectsBadInput) {
  Tensor t(GetParam(), 2, 128, 5);
  const std::vector<uint8_t> before = t.bytes;
  EXPECT_THROW(get_code(t.m, 2, 0), std::out_of_range);
  EXPECT_THROW(get_code(t.m, 0, 128), std::out_of_range);
  EXPECT_THROW(set_code(t.m, 0, 0, code_max(t.m.type) + 1), std::out_of_range);
  std::vector<int16_t> codes(4, static_cast<int16_t>(code_min(t.m.type)));
  codes[3] = static_cast<int16_t>(code_min(t.m.type) - 1);
  EXPECT_THROW(write_codes(t.m, 0, 0, 4, codes.data()), std::out_of_range);
  EXPECT_EQ(t.bytes, before);  // nothing written before the bad code was found
  EXPECT_THROW(read_codes(t.m, 0, 124, 5, codes.data()), std::out_of_range);
}

INSTANTIATE_TEST_SUITE_P(AllQuantTypes, Codes,
                         ::testing::Values(DType::Q4_0, DType::Q4_1, DType::Q8_0, DType::I4_G32, DType::I4_G64,
                                           DType::I4_G128),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(CodesFloat, FloatTensorHasNoCodes) {
  std::vector<float> w(8);
  QuantMatrix m{DType::F32, 2, 4, w.data()};
  EXPECT_THROW(get_code(m, 0, 0), std::invalid_argument);
}
