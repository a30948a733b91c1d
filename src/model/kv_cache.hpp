#pragma once
// Keys and values of every layer for a fixed number of sequence slots, each of
// a fixed number of positions, allocated once. Layout [layer][slot][pos][kv_dim]
// keeps one sequence's positions of one layer contiguous for attention.
#include "qes/generate.hpp"

#include <cstdint>
#include <memory>

namespace qes {

class KvCache {
 public:
  KvCache(const ModelConfig& config, int slots, int context, KvType type);

  int slots() const { return slots_; }
  int context() const { return context_; }
  KvType type() const { return type_; }
  size_t bytes() const { return 2 * elements_ * (type_ == KvType::F16 ? 2 : 4); }
  static size_t bytes_for(const ModelConfig& config, int slots, int context, KvType type);

  // Start of position 0 of (layer, slot); positions follow kv_dim elements apart.
  void* keys(int layer, int slot) { return at(k_.get(), layer, slot); }
  void* values(int layer, int slot) { return at(v_.get(), layer, slot); }

 private:
  void* at(uint8_t* base, int layer, int slot) const {
    const size_t index = (static_cast<size_t>(layer) * slots_ + slot) * context_ * kv_dim_;
    return base + index * (type_ == KvType::F16 ? 2 : 4);
  }
  int slots_, context_, kv_dim_;
  KvType type_;
  size_t elements_;                 // per cache (keys or values)
  std::unique_ptr<uint8_t[]> k_, v_;  // uninitialised: only positions written are read
};

}  // namespace qes
