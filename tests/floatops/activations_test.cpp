// QuantizedActivations (simd/activations.cpp) gives every kernel path the same
// int8 codes and scales, and the integer kernels are compared exactly against
// scalar: so its vectorizable form must give, bit for bit, what the plain
// per-value loop below gives (the code it replaced), for every input,
// including zeros, subnormals, infinities and NaNs. (Built with
// -ffp-contract=off, like simd/: see tests/floatops/CMakeLists.txt.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "qes/matmul.hpp"

namespace qes {
namespace {

int32_t round_even_plain(float v) {
  const float t = v + 12582912.0f;
  uint32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  return static_cast<int32_t>(bits & 0x7fffff) - 0x400000;
}

struct Block {
  int8_t q[32];
  float d;
  int32_t sum;
  float dsum;
};

Block quantize_block_plain(const float* v) {
  Block b;
  float amax = 0.0f;
  for (int j = 0; j < 32; j++) amax = std::max(amax, std::fabs(v[j]));
  b.d = amax / 127;
  const float id = b.d != 0.0f ? 1.0f / b.d : 0.0f;
  b.sum = 0;
  for (int j = 0; j < 32; j++) {
    int32_t c = round_even_plain(v[j] * id);
    c = c > 127 ? 127 : (c < -127 ? -127 : c);
    b.q[j] = static_cast<int8_t>(c);
    b.sum += c;
  }
  b.dsum = b.d * static_cast<float>(b.sum);
  return b;
}

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

TEST(QuantizedActivations, MatchThePlainPerValueLoopBitForBit) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<uint32_t> any_bits;
  const float specials[] = {0.0f,
                            -0.0f,
                            std::numeric_limits<float>::denorm_min(),
                            -std::numeric_limits<float>::min(),
                            INFINITY,
                            -INFINITY,
                            NAN,
                            from_bits(0xffc01234u),  // NaN with a payload
                            from_bits(0x7f800001u),  // signalling NaN
                            3e38f,
                            -1e-30f,
                            127.5f};
  const int nb = 37;
  const int64_t cols = 32 * 24, ldx = cols + 5;
  std::vector<float> x(static_cast<size_t>(nb) * ldx);
  for (int b = 0; b < nb; b++) {
    float* row = &x[static_cast<size_t>(b) * ldx];
    for (int64_t i = 0; i < cols; i++) {
      switch (b % 6) {
        case 0: row[i] = normal(rng); break;
        case 1: row[i] = normal(rng) * 1e-40f; break;  // subnormal
        case 2: row[i] = from_bits(any_bits(rng)); break;  // anything, NaNs included
        case 3: row[i] = i % 32 == 7 ? specials[(b + i / 32) % std::size(specials)] : normal(rng) * 100.0f; break;
        case 4: row[i] = (i / 32) % 2 ? 0.0f : std::round(normal(rng) * 64.0f) / 2.0f; break;  // ties, zero blocks
        default: row[i] = specials[i % std::size(specials)]; break;
      }
    }
  }
  // The quantizer is built at the baseline ISA and, on x86, with AVX2 and
  // AVX-512 flags; the active path picks one. Every one must match.
  const Isa before = active_isa();
  for (Isa isa : runnable_isas()) {
    force_isa(isa);
    QuantizedActivations qa;
    qa.resize(nb, cols);
    qa.quantize_vectors(x.data(), ldx, 0, 20);  // in two calls, as threads do
    qa.quantize_vectors(x.data(), ldx, 20, nb);
    for (int b = 0; b < nb; b++) {
      for (int64_t i = 0; i < qa.blocks(); i++) {
        const Block want = quantize_block_plain(&x[static_cast<size_t>(b) * ldx + i * 32]);
        const int64_t k = b * qa.blocks() + i;
        const std::string where = std::string(isa_name(isa)) + ": vector " + std::to_string(b) + " block " + std::to_string(i);
        ASSERT_EQ(bits_of(qa.d()[k]), bits_of(want.d)) << where;
        ASSERT_EQ(qa.sum()[k], want.sum) << where;
        ASSERT_EQ(bits_of(qa.dsum()[k]), bits_of(want.dsum)) << where;
        ASSERT_EQ(std::memcmp(qa.q() + b * cols + i * 32, want.q, 32), 0) << where;
      }
    }
  }
  force_isa(before);
}

}  // namespace
}  // namespace qes
