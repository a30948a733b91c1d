// Byte-level BPE: the pre-tokenizer cuts the text into words; each word starts as one token per
// byte (the byte's byte-level character) and repeatedly merges the adjacent pair with the lowest
// merge rank (leftmost on ties). Merges are looked up by token-id pairs, and a priority queue
// over a linked list of symbols keeps long words O(n log n).
#include <queue>
#include <stdexcept>

#include "byte_level.hpp"
#include "tokenizer_impl.hpp"

namespace qes {
namespace {

struct Symbol {
  int prev, next;
  TokenId id;  // kNoToken once merged into its left neighbour
};

struct Candidate {
  int32_t rank;
  int left, right;
  TokenId left_id, right_id;  // the pair as queued: a symbol's id changes when it merges
  TokenId result;
};

struct LowerPriority {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

}  // namespace

bool WordCache::lookup(std::string_view word, std::vector<TokenId>& out) const {
  std::shared_lock lock(mutex_);
  auto it = map_.find(word);
  if (it == map_.end()) return false;
  out.insert(out.end(), it->second.begin(), it->second.end());
  return true;
}

void WordCache::store(std::string_view word, const TokenId* ids, size_t n) {
  std::unique_lock lock(mutex_);
  if (map_.size() >= kMaxEntries) map_.clear();
  map_.try_emplace(std::string(word), ids, ids + n);
}

void Tokenizer::Impl::bpe_encode(std::string_view text, std::vector<TokenId>& out) const {
  std::vector<std::string_view> words;
  pre.split(text, words);
  for (std::string_view word : words) {
    if (word_cache.lookup(word, out)) continue;
    const size_t first = out.size();
    bpe_encode_word(word, out);
    word_cache.store(word, out.data() + first, out.size() - first);
  }
}

void Tokenizer::Impl::bpe_encode_word(std::string_view word, std::vector<TokenId>& out) const {
  if (vocab.ignore_merges) {
    // The vocabulary spells the word in byte-level characters.
    std::string spelled;
    for (unsigned char b : word) spelled += byte_level::encode_byte(b);
    if (TokenId id = lookup(spelled); id != kNoToken) {
      out.push_back(id);
      return;
    }
  }

  std::vector<Symbol> symbols(word.size());
  for (size_t i = 0; i < word.size(); ++i) {
    const auto b = static_cast<unsigned char>(word[i]);
    if (byte_token[b] == kNoToken) {
      throw std::runtime_error(vocab.source + ": byte 0x" + "0123456789ABCDEF"[b >> 4] +
                               "0123456789ABCDEF"[b & 15] + " has no token in the vocabulary");
    }
    const int index = static_cast<int>(i);
    symbols[i] = {index - 1, index + 1, byte_token[b]};
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  std::priority_queue<Candidate, std::vector<Candidate>, LowerPriority> queue;
  auto consider = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const TokenId l = symbols[left].id, r = symbols[right].id;
    if (const BpeMerge* m = merges.find(token_pair_key(l, r))) {
      queue.push({m->rank, left, right, l, r, m->result});
    }
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) consider(i - 1, i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = symbols[c.left];
    Symbol& r = symbols[c.right];
    if (l.id != c.left_id || r.id != c.right_id || l.next != c.right) continue;
    l.id = c.result;
    r.id = kNoToken;
    l.next = r.next;
    if (r.next >= 0) symbols[r.next].prev = c.left;
    consider(l.prev, c.left);
    consider(c.left, l.next);
  }
  for (int i = 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
}

}  // namespace qes
