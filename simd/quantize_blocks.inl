// The activation quantizer's loops, included by activations.cpp (baseline
// ISA: SSE2 on x86-64, NEON on AArch64) and by activations_<isa>.cpp (built
// with that ISA's flags), each inside its own namespace. GCC vectorizes the
// same code to each width, and every operation in it is exact or correctly
// rounded (integer max and sums, IEEE division, multiply and add, never fused:
// simd/ is built with -ffp-contract=off), so every build gives the same bits.
//
// Written so that GCC vectorizes it, in three passes over a group of blocks of
// one vector:
//  1. each block's absolute maximum, taken on the float bits, where it is an
//     integer max (for non-NaN floats, ordering |v| is ordering the bits
//     without the sign); a float max reduction is vectorized only under
//     -ffast-math. NaN bits count as 0, as std::max(amax, NaN) keeps amax.
//  2. the scales d = amax / 127 and their inverses, several blocks per
//     vector division (one block at a time, the two dependent divisions'
//     latency was most of the time);
//  3. the int8 codes and their sums.
// The result is bit for bit that of the plain per-block loop
// (tests/floatops/activations_test.cpp).

// No std:: templates here: one instantiated in an AVX-512 build could stand in
// for every other unit's copy (DESIGN.md §3; scripts/cross-test.sh's isa-scan).

// Round to nearest, ties to even, for |v| < 2^22: adding 1.5 * 2^23 pushes the
// fraction out of the float's mantissa. Exact, branch-free, vectorizes (unlike
// a nearbyintf call), and gives the same answer as the SIMD round instructions.
namespace {
inline int32_t round_even(float v) {
  const float t = v + 12582912.0f;
  uint32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  return static_cast<int32_t>(bits & 0x7fffff) - 0x400000;
}
}  // namespace

// Declared in quantize_blocks.hpp.
void quantize_blocks(const float* x, int64_t ldx, int b0, int b1, int64_t cols, int8_t* codes, float* scales,
                     int32_t* sums, float* scaled_sums) {
  constexpr int64_t kGroup = 64;  // blocks per pass
  const int64_t nblocks = cols / 32;
  // Short vectors are taken several at a time, so a pass still has up to
  // kGroup blocks: with 256 columns (the tiny model, 8 blocks) one vector per
  // pass left the two divisions' latency on every 8 blocks.
  const int64_t per_pass = nblocks < kGroup ? kGroup / nblocks : 1;
  for (int64_t b = b0; b < b1; b += per_pass) {
    const int64_t vectors = b1 - b < per_pass ? b1 - b : per_pass;
    for (int64_t first = 0; first < nblocks; first += kGroup) {
      const int64_t width = nblocks - first < kGroup ? nblocks - first : kGroup;  // blocks per vector in this pass
      const int64_t count = vectors * width;  // pass block t: vector b + t / width, block first + t % width
      int32_t amax_bits[kGroup];
      for (int64_t g = 0; g < vectors; g++) {
        const float* __restrict v = x + (b + g) * ldx + first * 32;
        for (int64_t i = 0; i < width; i++) {
          int32_t m = 0;
          for (int j = 0; j < 32; j++) {
            uint32_t bits;
            std::memcpy(&bits, &v[i * 32 + j], sizeof bits);
            const int32_t magnitude = static_cast<int32_t>(bits & 0x7fffffff);
            const int32_t finite = magnitude > 0x7f800000 ? 0 : magnitude;
            m = finite > m ? finite : m;
          }
          amax_bits[g * width + i] = m;
        }
      }
      float d[kGroup], id[kGroup];
      for (int64_t t = 0; t < count; t++) {
        float amax;
        std::memcpy(&amax, &amax_bits[t], sizeof amax);
        d[t] = amax / 127;
        const float inverse = 1.0f / (d[t] != 0.0f ? d[t] : 1.0f);  // no division by zero to mask
        id[t] = d[t] != 0.0f ? inverse : 0.0f;
      }
      int32_t sum[kGroup];
      for (int64_t g = 0; g < vectors; g++) {
        const float* __restrict v = x + (b + g) * ldx + first * 32;
        int8_t* __restrict q = codes + (b + g) * cols + first * 32;
        for (int64_t i = 0; i < width; i++) {
          const float inverse = id[g * width + i];
          int32_t s = 0;
          for (int j = 0; j < 32; j++) {
            int32_t c = round_even(v[i * 32 + j] * inverse);
            c = c > 127 ? 127 : (c < -127 ? -127 : c);  // only non-finite input gets here
            q[i * 32 + j] = static_cast<int8_t>(c);
            s += c;
          }
          sum[g * width + i] = s;
        }
      }
      for (int64_t g = 0; g < vectors; g++) {
        const int64_t k0 = (b + g) * nblocks + first;
        for (int64_t i = 0; i < width; i++) {
          const int64_t t = g * width + i;
          scales[k0 + i] = d[t];
          sums[k0 + i] = sum[t];
          scaled_sums[k0 + i] = d[t] * static_cast<float>(sum[t]);
        }
      }
    }
  }
}
