#pragma once
// The tensors that train, and their fixed tiling.
//
// A tensor's codes are numbered row-major (flat = row * cols + col). Tile t of
// a tensor holds flat codes [t * kTileCodes, min((t+1) * kTileCodes, codes)).
// The tiling depends only on the tensor's shape, never on the thread count, so
// a tile's noise (keyed by tensor id and tile index) is the same however the
// work is split. kTileCodes is a multiple of every block and group size and
// rows hold whole blocks, so tiles never share a byte and threads working on
// different tiles never race.
#include <cstdint>
#include <string>
#include <vector>

#include "qes/quant.hpp"

namespace qes::es {

struct NamedMatrix {
  std::string name;
  QuantMatrix matrix;
};

struct TrainableTensor {
  uint32_t id = 0;  // keys the noise: FNV-1a of the name unless given
  std::string name;
  QuantMatrix matrix;
  int code_min = 0, code_max = 0;
  int64_t codes = 0;       // rows * cols
  int64_t first_tile = 0;  // index of its first tile in the set's global tile numbering
  uint32_t tiles = 0;
};

struct TileRef {
  uint32_t tensor = 0;   // index into TrainableSet::tensors()
  uint32_t tile = 0;     // tile index within the tensor (keys the noise)
  int64_t first = 0;     // flat index of its first code
  uint32_t len = 0;      // codes in the tile (kTileCodes except the last one)
};

// Which tensors train. Patterns: "re:<ECMAScript regex>" (whole name must
// match) or a shell glob (fnmatch: *, ?, [...]). A tensor trains if any
// pattern matches and it is quantized; float tensors are never trainable.
struct TensorSelector {
  std::vector<std::string> patterns = default_patterns();
  static std::vector<std::string> default_patterns();  // the paper's: blocks' attention and FFN weights
};

uint32_t tensor_id_from_name(const std::string& name);  // FNV-1a 32

class TrainableSet {
 public:
  // Adds a quantized matrix; throws on a float type, a duplicate name or id.
  void add(const std::string& name, const QuantMatrix& m);
  void add(const std::string& name, const QuantMatrix& m, uint32_t id);

  // The matching quantized tensors, in the order given. Throws if none match.
  static TrainableSet select(const std::vector<NamedMatrix>& all, const TensorSelector& selector = {});
  static bool matches(const std::string& name, const TensorSelector& selector);

  const std::vector<TrainableTensor>& tensors() const { return tensors_; }
  std::vector<TrainableTensor>& tensors() { return tensors_; }
  size_t size() const { return tensors_.size(); }
  int64_t total_codes() const { return total_codes_; }
  int64_t total_tiles() const { return total_tiles_; }
  TileRef tile(int64_t global_tile) const;

 private:
  std::vector<TrainableTensor> tensors_;
  int64_t total_codes_ = 0;
  int64_t total_tiles_ = 0;
};

// Codes of one tile into/out of an int16 buffer (a tile may span rows).
void read_tile(const TrainableTensor& t, const TileRef& ref, int16_t* codes);
void write_tile(TrainableTensor& t, const TileRef& ref, const int16_t* codes);

}  // namespace qes::es
