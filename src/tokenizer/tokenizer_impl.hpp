#pragma once
// Internal state of qes::Tokenizer, shared by tokenizer.cpp and the two encoders.
#include <array>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "flat_maps.hpp"
#include "pretokenizer.hpp"
#include "qes/tokenizer.hpp"

namespace qes {

// std::string keys looked up by string_view without building a string. (Not noexcept, so that
// libstdc++ caches each node's hash instead of rehashing strings while walking a bucket.)
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// A BPE merge of two adjacent tokens: its rank (lower merges first) and the resulting token.
struct BpeMerge {
  int32_t rank;
  TokenId result;
};

inline uint64_t token_pair_key(TokenId left, TokenId right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

bool spm_word_boundaries_hold(const Vocab& v, const std::vector<bool>& mergeable);  // spm_encoder.cpp

// Encodings of pre-tokenized words: the same words recur across prompts. Bounded: cleared when
// full. Readers share the lock, so parallel encoders rarely wait.
class WordCache {
 public:
  bool lookup(std::string_view word, std::vector<TokenId>& out) const;
  void store(std::string_view word, const TokenId* ids, size_t n);

 private:
  static constexpr size_t kMaxEntries = 1 << 16;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::vector<TokenId>, StringHash, std::equal_to<>> map_;
};

struct Tokenizer::Impl {
  Vocab vocab;
  TokenIndex ids;                      // token text -> id
  std::vector<std::string> pieces;     // decoded bytes per token ("" for control tokens)
  std::vector<bool> special;           // Control, UserDefined or Unknown
  std::vector<bool> mergeable;         // SPM: may result from merging text (not control/byte)
  std::array<TokenId, 256> byte_token; // SPM <0xXX>; BPE: the byte's byte-level character
  std::unordered_set<TokenId> end_of_generation;

  // Tokens split out of the text before encoding, by first byte, longest first.
  struct SpecialText {
    std::string text;
    TokenId id;
    bool control_or_unknown;  // only split when parse_special
  };
  std::array<std::vector<SpecialText>, 256> specials_by_first_byte;
  bool has_specials = false;

  // SPM: words (cut before a "▁" that follows another character) can be merged one by one.
  bool spm_split_words = false;

  // BPE
  U64Map<BpeMerge> merges;             // token_pair_key(left, right) -> merge
  PreTokenizer pre{{}};
  mutable WordCache word_cache;  // a cache: filled by const encode

  TokenId lookup(std::string_view text) const {
    return ids.find(text);
  }

  // Encoders of one piece of raw text (no special tokens inside).
  void spm_encode(std::string_view text, std::vector<TokenId>& out) const;   // spm_encoder.cpp
  void spm_encode_word(std::string_view text, std::vector<TokenId>& out) const;
  void bpe_encode(std::string_view text, std::vector<TokenId>& out) const;   // bpe_encoder.cpp
  void bpe_encode_word(std::string_view word, std::vector<TokenId>& out) const;
};

}  // namespace qes
