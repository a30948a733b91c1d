#pragma once
// Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random
// numbers: as easy as 1, 2, 3", SC'11). output = f(key, counter), no state, so
// any draw of any stream can be regenerated alone, in any order, on any thread.
//
// Streams are keyed by (run seed, purpose, iteration, member, tensor id, tile):
// derive_stream_key() hashes those with one Philox call into the 64-bit key of
// the stream; the i-th block of a stream region is philox(key, {i, region, 0, 0}).
// Everything here is integer arithmetic: bit-identical on every compiler and ISA.
#include <cstdint>

namespace qes::es {

struct PhiloxKey {
  uint32_t k0 = 0, k1 = 0;
};
struct PhiloxBlock {
  uint32_t w[4];
};

inline PhiloxBlock philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, PhiloxKey key) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  uint32_t k0 = key.k0, k1 = key.k1;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t(kMul0) * c0;
    const uint64_t p1 = uint64_t(kMul1) * c2;
    const uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
    const uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return {{c0, c1, c2, c3}};
}

// What a stream is used for; part of the key so streams never overlap.
enum class StreamPurpose : uint32_t {
  kPerturbation = 1,    // member noise of one tile at one iteration
  kDither = 2,          // initial residual of one tile
  kUpdateRounding = 3,  // stochastic rounding of the update (mode none)
  kTest = 15,           // tests and tools
};

struct StreamId {
  uint64_t run_seed = 0;
  StreamPurpose purpose = StreamPurpose::kTest;
  uint32_t iteration = 0;
  uint32_t member = 0;  // < 2^28 (the top 4 bits of the word carry the purpose)
  uint32_t tensor = 0;
  uint32_t tile = 0;
};

inline PhiloxKey derive_stream_key(const StreamId& id) {
  const PhiloxKey seed{uint32_t(id.run_seed), uint32_t(id.run_seed >> 32)};
  const PhiloxBlock b = philox4x32_10(id.iteration, (uint32_t(id.purpose) << 28) | (id.member & 0x0FFFFFFFu),
                                      id.tensor, id.tile, seed);
  return {b.w[0] ^ b.w[2], b.w[1] ^ b.w[3]};
}

// Regions of one stream (second counter word): independent sub-streams.
enum StreamRegion : uint32_t {
  kRegionCount = 0,     // sparse sampler: how many nonzeros in the tile
  kRegionPosition = 1,  // sparse sampler: their positions
  kRegionValue = 2,     // sparse sampler: their values
  kRegionDense = 3,     // dense sampler / per-position draws: block index = position
  kRegionGeneric = 4,   // CounterStream default
};

inline PhiloxBlock stream_block(PhiloxKey key, uint32_t region, uint64_t index) {
  return philox4x32_10(uint32_t(index), region, uint32_t(index >> 32), 0, key);
}

// Uniform doubles from raw words, exactly representable, never libm.
// [0, 1) with 53 random bits.
inline double uniform53(uint32_t lo, uint32_t hi) {
  const uint64_t x = ((uint64_t(hi) << 32) | lo) >> 11;
  return double(x) * 0x1p-53;
}
// (0, 1] with 53 random bits: safe to take the logarithm of.
inline double uniform53_open0(uint32_t lo, uint32_t hi) {
  const uint64_t x = ((uint64_t(hi) << 32) | lo) >> 11;
  return double(x + 1) * 0x1p-53;
}
// (0, 1) with 32 random bits, centred in its cell.
inline double uniform32_open(uint32_t w) { return (double(w) + 0.5) * 0x1p-32; }

// A sequential reader over one region of a stream (consumes words in order).
class CounterStream {
 public:
  explicit CounterStream(PhiloxKey key, uint32_t region = kRegionGeneric) : key_(key), region_(region) {}
  uint32_t next_u32() {
    if (used_ == 4) {
      block_ = stream_block(key_, region_, index_++);
      used_ = 0;
    }
    return block_.w[used_++];
  }
  double uniform() {  // [0, 1)
    const uint32_t lo = next_u32();
    return uniform53(lo, next_u32());
  }
  double uniform_open0() {  // (0, 1]
    const uint32_t lo = next_u32();
    return uniform53_open0(lo, next_u32());
  }

 private:
  PhiloxKey key_;
  uint32_t region_;
  uint64_t index_ = 0;
  PhiloxBlock block_{};
  int used_ = 4;
};

}  // namespace qes::es
