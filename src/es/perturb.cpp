#include "qes/es/perturb.hpp"

#include <omp.h>

#include <algorithm>
#include <stdexcept>

namespace qes::es {
namespace {
// Below these sizes a parallel region costs more than the work (and on a
// loaded machine a barrier can cost a whole scheduler time slice).
constexpr int64_t kMinParallelTiles = 16;
constexpr int64_t kMinParallelCodes = 4096;
}  // namespace

size_t PerturbationRecord::bytes() const {
  size_t b = 0;
  for (const Chunk& c : chunks)
    b += c.tiles.capacity() * 8 + c.tile_end.capacity() * 4 + c.pos.capacity() * 2 + c.old_code.capacity();
  return b;
}

void member_tile_noise(const TrainableSet& set, const NoiseParams& params, const TileNoiseSampler& sampler,
                       uint32_t member, const TileRef& tile, TileNoise& out) {
  const TrainableTensor& t = set.tensors()[tile.tensor];
  const PhiloxKey key =
      perturbation_key(params.run_seed, params.iteration, noise_index(member, params.mirrored), t.id, tile.tile);
  sampler.sample(key, tile.len, out);
  if (noise_sign(member, params.mirrored) < 0)
    for (int16_t& v : out.val) v = static_cast<int16_t>(-v);
}

SparseDelta gated_member_delta(const TrainableSet& set, const NoiseParams& params, const TileNoiseSampler& sampler,
                               uint32_t member, uint32_t tensor_index) {
  const TrainableTensor& t = set.tensors().at(tensor_index);
  SparseDelta out;
  TileNoise noise;
  std::vector<uint32_t> order;
  for (uint32_t tile = 0; tile < t.tiles; ++tile) {
    const TileRef ref = set.tile(t.first_tile + tile);
    member_tile_noise(set, params, sampler, member, ref, noise);
    order.resize(noise.size());
    for (uint32_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return noise.pos[a] < noise.pos[b]; });
    for (uint32_t k : order) {
      const int64_t flat = ref.first + noise.pos[k];
      const int q = get_code(t.matrix, flat / t.matrix.cols, flat % t.matrix.cols);
      const int nq = q + noise.val[k];
      if (nq < t.code_min || nq > t.code_max) continue;
      out.flat.push_back(flat);
      out.delta.push_back(noise.val[k]);
    }
  }
  return out;
}

PerturbationRecord apply_member(TrainableSet& set, const NoiseParams& params, uint32_t member) {
  const TileNoiseSampler sampler(params.sigma, params.sampler, params.sparse_threshold);
  return apply_member(set, params, sampler, member);
}

PerturbationRecord apply_member(TrainableSet& set, const NoiseParams& params, const TileNoiseSampler& sampler,
                                uint32_t member) {
  if (sampler.sigma() != params.sigma) throw std::invalid_argument("apply_member: sampler sigma differs from params");
  PerturbationRecord rec;
  rec.member = member;
  rec.chunks.resize(static_cast<size_t>(omp_get_max_threads()));
  int64_t applied = 0, gated = 0;
  const int64_t tiles = set.total_tiles();
#pragma omp parallel reduction(+ : applied, gated) if (tiles >= kMinParallelTiles)
  {
    PerturbationRecord::Chunk& chunk = rec.chunks[static_cast<size_t>(omp_get_thread_num())];
    TileNoise noise;
#pragma omp for schedule(dynamic, 16)
    for (int64_t g = 0; g < tiles; ++g) {
      const TileRef ref = set.tile(g);
      member_tile_noise(set, params, sampler, member, ref, noise);
      if (noise.size() == 0) continue;
      TrainableTensor& t = set.tensors()[ref.tensor];
      const int64_t cols = t.matrix.cols;
      bool touched = false;
      for (size_t k = 0; k < noise.size(); ++k) {
        const int64_t flat = ref.first + noise.pos[k];
        const int64_t row = flat / cols, col = flat % cols;
        const int q = get_code(t.matrix, row, col);
        const int nq = q + noise.val[k];
        if (nq < t.code_min || nq > t.code_max) {
          ++gated;
          continue;
        }
        set_code(t.matrix, row, col, nq);
        chunk.pos.push_back(noise.pos[k]);
        chunk.old_code.push_back(static_cast<int8_t>(q));
        touched = true;
        ++applied;
      }
      if (touched) {
        chunk.tiles.push_back(g);
        chunk.tile_end.push_back(static_cast<uint32_t>(chunk.pos.size()));
      }
    }
  }
  rec.applied = applied;
  rec.gated = gated;
  return rec;
}

void restore(TrainableSet& set, const PerturbationRecord& record) {
  const int64_t n = static_cast<int64_t>(record.chunks.size());
#pragma omp parallel for schedule(static, 1) if (record.applied >= kMinParallelCodes)
  for (int64_t c = 0; c < n; ++c) {
    const PerturbationRecord::Chunk& chunk = record.chunks[static_cast<size_t>(c)];
    uint32_t begin = 0;
    for (size_t i = 0; i < chunk.tiles.size(); ++i) {
      const TileRef ref = set.tile(chunk.tiles[i]);
      TrainableTensor& t = set.tensors()[ref.tensor];
      for (uint32_t k = begin; k < chunk.tile_end[i]; ++k) {
        const int64_t flat = ref.first + chunk.pos[k];
        set_code(t.matrix, flat / t.matrix.cols, flat % t.matrix.cols, chunk.old_code[k]);
      }
      begin = chunk.tile_end[i];
    }
  }
}

}  // namespace qes::es
