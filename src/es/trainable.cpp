#include "qes/es/trainable.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <regex>
#include <stdexcept>

#include "qes/es/perturbation.hpp"

namespace qes::es {

std::vector<std::string> TensorSelector::default_patterns() {
  return {"re:blk\\.[0-9]+\\.(attn|ffn)_[A-Za-z0-9_]+\\.weight"};
}

uint32_t tensor_id_from_name(const std::string& name) {
  uint32_t h = 2166136261u;
  for (unsigned char c : name) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

bool TrainableSet::matches(const std::string& name, const TensorSelector& selector) {
  for (const std::string& p : selector.patterns) {
    if (p.rfind("re:", 0) == 0) {
      std::regex re;
      try {
        re = std::regex(p.substr(3), std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw std::invalid_argument("tensor selection: bad regular expression '" + p.substr(3) + "': " + e.what());
      }
      if (std::regex_match(name, re)) return true;
    } else if (fnmatch(p.c_str(), name.c_str(), 0) == 0) {
      return true;
    }
  }
  return false;
}

void TrainableSet::add(const std::string& name, const QuantMatrix& m) { add(name, m, tensor_id_from_name(name)); }

void TrainableSet::add(const std::string& name, const QuantMatrix& m, uint32_t id) {
  if (!is_quantized(m.type))
    throw std::invalid_argument("trainable tensor '" + name + "' has type " + std::string(dtype_name(m.type)) +
                                ": only quantized codes can be trained");
  if (m.rows <= 0 || m.cols <= 0 || m.data == nullptr)
    throw std::invalid_argument("trainable tensor '" + name + "' is empty");
  if (kTileCodes % block_size(m.type) != 0 || m.cols % block_size(m.type) != 0)
    throw std::invalid_argument("trainable tensor '" + name + "': columns not a multiple of the block size");
  for (const TrainableTensor& t : tensors_) {
    if (t.name == name) throw std::invalid_argument("trainable tensor '" + name + "' added twice");
    if (t.id == id)
      throw std::invalid_argument("trainable tensors '" + t.name + "' and '" + name + "' have the same id " +
                                  std::to_string(id));
  }
  TrainableTensor t;
  t.id = id;
  t.name = name;
  t.matrix = m;
  t.code_min = code_min(m.type);
  t.code_max = code_max(m.type);
  t.codes = m.rows * m.cols;
  t.first_tile = total_tiles_;
  t.tiles = static_cast<uint32_t>((t.codes + kTileCodes - 1) / kTileCodes);
  total_codes_ += t.codes;
  total_tiles_ += t.tiles;
  tensors_.push_back(std::move(t));
}

TrainableSet TrainableSet::select(const std::vector<NamedMatrix>& all, const TensorSelector& selector) {
  TrainableSet set;
  for (const NamedMatrix& nm : all)
    if (is_quantized(nm.matrix.type) && matches(nm.name, selector)) set.add(nm.name, nm.matrix);
  if (set.size() == 0) {
    std::string pats;
    for (const auto& p : selector.patterns) pats += (pats.empty() ? "" : ", ") + p;
    throw std::invalid_argument("tensor selection: no quantized tensor matches " + pats);
  }
  return set;
}

TileRef TrainableSet::tile(int64_t global_tile) const {
  // Binary search on first_tile (tensors are few; tiles many).
  auto it = std::upper_bound(tensors_.begin(), tensors_.end(), global_tile,
                             [](int64_t g, const TrainableTensor& t) { return g < t.first_tile; });
  const size_t index = size_t(it - tensors_.begin()) - 1;
  const TrainableTensor& t = tensors_[index];
  TileRef ref;
  ref.tensor = static_cast<uint32_t>(index);
  ref.tile = static_cast<uint32_t>(global_tile - t.first_tile);
  ref.first = int64_t(ref.tile) * kTileCodes;
  ref.len = static_cast<uint32_t>(std::min<int64_t>(kTileCodes, t.codes - ref.first));
  return ref;
}

namespace {
// A tile is a run of codes in row-major order that may wrap across rows; calls
// fn(row, col, n, offset into the tile) once per row segment, in order.
template <class Fn>
void for_each_row_segment(const TrainableTensor& t, const TileRef& ref, Fn fn) {
  int64_t flat = ref.first, done = 0;
  while (done < ref.len) {
    const int64_t row = flat / t.matrix.cols, col = flat % t.matrix.cols;
    const int64_t n = std::min<int64_t>(ref.len - done, t.matrix.cols - col);
    fn(row, col, n, done);
    done += n;
    flat += n;
  }
}
}  // namespace

void read_tile(const TrainableTensor& t, const TileRef& ref, int16_t* codes) {
  for_each_row_segment(t, ref, [&](int64_t row, int64_t col, int64_t n, int64_t offset) {
    read_codes(t.matrix, row, col, n, codes + offset);
  });
}

void write_tile(TrainableTensor& t, const TileRef& ref, const int16_t* codes) {
  for_each_row_segment(t, ref, [&](int64_t row, int64_t col, int64_t n, int64_t offset) {
    write_codes(t.matrix, row, col, n, codes + offset);
  });
}

}  // namespace qes::es
