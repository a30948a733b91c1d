#pragma once
// Shared helpers of the kernel tests: random matrices in every weight type,
// and "exact" inputs on which every summation order gives the same float.
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "qes/matmul.hpp"
#include "qes/quant.hpp"

namespace qes::test {

struct Matrix {
  std::vector<uint8_t> bytes;
  QuantMatrix m;
  Matrix(DType t, int64_t rows, int64_t cols) : bytes(row_bytes(t, cols) * rows + 64) {
    m = {t, rows, cols, bytes.data()};
  }
};

// Random normal weights quantized (or converted) the way a model file holds them.
inline Matrix random_matrix(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  Matrix w(t, rows, cols);
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  std::vector<float> row(cols);
  for (int64_t r = 0; r < rows; r++) {
    for (auto& v : row) v = nd(rng);
    quantize_row(t, row.data(), w.m.row_ptr(r), cols);
  }
  return w;
}

inline std::vector<float> random_vectors(int nb, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(nb * cols);
  for (auto& v : x) v = nd(rng);
  return x;
}

// Weights whose every block scale is a power of two (and Q4_1 mins small
// multiples of one), with random codes: products with exact activations are
// small dyadic numbers, so every partial sum is exact in float.
inline Matrix exact_matrix(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  Matrix w(t, rows, cols);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pow2(0, 2), code(code_min(t), code_max(t)), small(-8, 8);
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : w.bytes) b = static_cast<uint8_t>(byte(rng));
  const float scales[] = {1.0f, 0.5f, 0.25f};
  for (int64_t r = 0; r < rows; r++) {
    uint8_t* row = w.m.row_ptr(r);
    if (t == DType::F32 || t == DType::F16) {
      for (int64_t k = 0; k < cols; k++) {
        const float v = small(rng) * 0.25f;
        if (t == DType::F32) {
          std::memcpy(row + 4 * k, &v, 4);
        } else {
          const uint16_t h = fp32_to_fp16(v);
          std::memcpy(row + 2 * k, &h, 2);
        }
      }
      continue;
    }
    const int64_t nblk = cols / block_size(t);
    for (int64_t i = 0; i < nblk; i++) {
      uint8_t* b = row + i * block_bytes(t);
      const uint16_t d = fp32_to_fp16(scales[pow2(rng)]);
      std::memcpy(b, &d, 2);
      if (t == DType::Q4_1) {
        const uint16_t m = fp32_to_fp16(small(rng) * 0.25f);
        std::memcpy(b + 2, &m, 2);
      } else if (t != DType::Q4_0 && t != DType::Q8_0) {
        b[2] = static_cast<uint8_t>(code(rng));  // I4 zero point
      }
    }
    for (int64_t k = 0; k < cols; k++) set_code(w.m, r, k, code(rng));
  }
  return w;
}

// Activations that quantize exactly: small integers with one +-127 per
// 32-block, so d = 1 and the int8 values are the inputs themselves.
inline std::vector<float> exact_vectors(int nb, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> small(-2, 2), pos(0, 31), sign(0, 1);
  std::vector<float> x(nb * cols);
  for (auto& v : x) v = static_cast<float>(small(rng));
  for (int64_t i = 0; i < nb * cols / 32; i++) x[i * 32 + pos(rng)] = sign(rng) ? 127.0f : -127.0f;
  return x;
}

}  // namespace qes::test
