#pragma once
// Applying one population member's perturbation to the codes in place, and
// restoring them exactly (DESIGN.md §4, "Evaluating the population: in place").
//
// Member i uses noise index j = i/2 with sign (-1)^i when mirrored (member 2j+1
// is member 2j negated), else j = i with sign +1. Its perturbation of tile t of
// tensor id T at iteration it is the tile sampler's draw from the stream
// (run seed, kPerturbation, it, j, T, t), times the sign. Boundary gating:
// where q + d leaves [code_min, code_max] the code is left unchanged.
#include <cstdint>
#include <vector>

#include "qes/es/perturbation.hpp"
#include "qes/es/trainable.hpp"

namespace qes::es {

struct NoiseParams {
  uint64_t run_seed = 0;
  uint32_t iteration = 0;
  double sigma = 0.01;
  bool mirrored = true;
  SamplerKind sampler = SamplerKind::kAuto;
  double sparse_threshold = 0.1;
};

inline uint32_t noise_index(uint32_t member, bool mirrored) { return mirrored ? member / 2 : member; }
inline int noise_sign(uint32_t member, bool mirrored) { return mirrored && (member & 1) ? -1 : 1; }

inline PhiloxKey perturbation_key(uint64_t run_seed, uint32_t iteration, uint32_t noise, uint32_t tensor_id,
                                  uint32_t tile) {
  return derive_stream_key({run_seed, StreamPurpose::kPerturbation, iteration, noise, tensor_id, tile});
}

// A member's ungated noise on one tile, sign applied (for the update and for a
// batched evaluator's per-member sparse corrections).
void member_tile_noise(const TrainableSet& set, const NoiseParams& params, const TileNoiseSampler& sampler,
                       uint32_t member, const TileRef& tile, TileNoise& out);

// A member's effective (gated) perturbation of one tensor without touching the
// codes: for a batched evaluator that adds delta * scale * x on the nonzeros
// (DESIGN.md §4 "batched members"). Gating uses the tensor's current codes,
// exactly as apply_member does, so both evaluations see the same weights.
struct SparseDelta {
  std::vector<int64_t> flat;   // ascending within each tile, tiles in order
  std::vector<int16_t> delta;  // never 0
};
SparseDelta gated_member_delta(const TrainableSet& set, const NoiseParams& params, const TileNoiseSampler& sampler,
                               uint32_t member, uint32_t tensor_index);

// What apply_member changed: enough to restore bit-exactly. Compact (3 bytes
// per changed code plus 12 per touched tile), grouped by the thread that
// applied it so restore can run in parallel.
struct PerturbationRecord {
  struct Chunk {
    std::vector<int64_t> tiles;        // global tile index of each touched tile
    std::vector<uint32_t> tile_end;    // end offset of its entries in pos/old
    std::vector<uint16_t> pos;         // tile-local position
    std::vector<int8_t> old_code;      // code before the perturbation
  };
  std::vector<Chunk> chunks;
  uint32_t member = 0;
  int64_t applied = 0;  // codes changed
  int64_t gated = 0;    // nonzero draws skipped at the boundary
  size_t bytes() const;
};

// Perturbs the codes of `set` in place with member `member`'s noise (OpenMP over tiles).
PerturbationRecord apply_member(TrainableSet& set, const NoiseParams& params, uint32_t member);
// Same, with a sampler built once by the caller (must match params.sigma and sampler kind).
PerturbationRecord apply_member(TrainableSet& set, const NoiseParams& params, const TileNoiseSampler& sampler,
                                uint32_t member);
// Puts back every code apply_member changed.
void restore(TrainableSet& set, const PerturbationRecord& record);

}  // namespace qes::es
