#pragma once
// Open-addressing hash tables for the tokenizer's two hot lookups. A vocabulary of 150k tokens
// and as many merges is built every time a model loads: node-based std::unordered_map spends
// most of that time allocating nodes and copying strings, these two tables do neither.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qes {

inline uint64_t mix64(uint64_t x) {  // splitmix64's finalizer: spreads every input bit
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

inline uint64_t hash_text(std::string_view s) {  // FNV-1a, then mixed: tokens are short
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ULL;
  return mix64(h);
}

inline size_t table_capacity(size_t n) {  // power of two, at most half full
  size_t cap = 16;
  while (cap < 2 * n) cap *= 2;
  return cap;
}

// Token text -> id. The texts stay in the vocabulary; slots hold only (hash, id).
class TokenIndex {
 public:
  void build(const std::vector<std::string>& tokens) {
    tokens_ = &tokens;
    slots_.assign(table_capacity(tokens.size()), Slot{0, -1});
    mask_ = slots_.size() - 1;
    for (size_t id = 0; id < tokens.size(); ++id) {
      const uint64_t h = hash_text(tokens[id]);
      size_t i = h & mask_;
      while (slots_[i].id >= 0 && !(slots_[i].hash == h && tokens[slots_[i].id] == tokens[id])) {
        i = (i + 1) & mask_;
      }
      slots_[i] = {h, static_cast<int32_t>(id)};  // a duplicate text: the last id wins (llama.cpp)
    }
  }

  int32_t find(std::string_view text) const {
    const uint64_t h = hash_text(text);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.hash == h && (*tokens_)[s.id] == text) return s.id;
    }
  }

 private:
  struct Slot {
    uint64_t hash;
    int32_t id;
  };
  const std::vector<std::string>* tokens_ = nullptr;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// 64-bit key -> value; the key ~0 is reserved as "empty".
template <class Value>
class U64Map {
 public:
  static constexpr uint64_t kEmpty = ~0ULL;

  void reserve(size_t n) {
    slots_.assign(table_capacity(n), Slot{kEmpty, Value{}});
    mask_ = slots_.size() - 1;
  }

  // Inserts unless the key is present (the first value wins). reserve() must allow for it.
  void insert(uint64_t key, const Value& value) {
    size_t i = mix64(key) & mask_;
    while (slots_[i].key != kEmpty) {
      if (slots_[i].key == key) return;
      i = (i + 1) & mask_;
    }
    slots_[i] = {key, value};
  }

  const Value* find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = mix64(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmpty) return nullptr;
    }
  }

 private:
  struct Slot {
    uint64_t key;
    Value value;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace qes
