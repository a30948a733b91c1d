// SentencePiece-style encoding as llama.cpp does it for llama vocabularies: start from one
// symbol per UTF-8 character, repeatedly merge the adjacent pair whose concatenation is the
// highest-scoring token (leftmost on ties), then spell characters that are not tokens with
// byte-fallback tokens <0xXX>. A priority queue of candidate pairs over a linked list of
// symbols makes this O(n log n) in the length of the text.
//
// When no token has a "▁" right after another character (true of llama's and TinyStories'
// vocabularies: SentencePiece splits by whitespace by default), no merge can cross the point
// before a "▁" that follows a non-space, so the text is cut into words there, merged word by
// word, and each word's result is cached.
#include <queue>
#include <stdexcept>

#include "tokenizer_impl.hpp"
#include "utf8.hpp"

namespace qes {
namespace {

struct Symbol {
  int prev, next;
  uint32_t start, len;  // bytes of the text; len == 0 once merged into its left neighbour
  TokenId id;           // kNoToken for a character that is not a token
};

struct Candidate {
  float score;
  int left, right;
  uint32_t len;  // combined length when queued: a stale candidate no longer adds up
  TokenId id;
};

struct LowerPriority {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";

bool spm_word_boundaries_hold(const Vocab& v, const std::vector<bool>& mergeable) {
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    if (!mergeable[id]) continue;
    const std::string& t = v.tokens[id];
    for (size_t p = t.find(kSpmSpace, 1); p != std::string::npos; p = t.find(kSpmSpace, p + 1)) {
      if (p < 3 || t.compare(p - 3, 3, kSpmSpace) != 0) return false;
    }
  }
  return true;
}

void Tokenizer::Impl::spm_encode(std::string_view text, std::vector<TokenId>& out) const {
  if (!spm_split_words) {
    spm_encode_word(text, out);
    return;
  }
  size_t start = 0;
  auto emit = [&](size_t end) {
    const std::string_view word = text.substr(start, end - start);
    if (word.empty() || word_cache.lookup(word, out)) return;
    const size_t first = out.size();
    spm_encode_word(word, out);
    word_cache.store(word, out.data() + first, out.size() - first);
  };
  for (size_t p = text.find(kSpmSpace, 1); p != std::string_view::npos; p = text.find(kSpmSpace, p + 1)) {
    if (p >= 3 && text.compare(p - 3, 3, kSpmSpace) == 0) continue;  // inside a run of spaces
    emit(p);
    start = p;
  }
  emit(text.size());
}

void Tokenizer::Impl::spm_encode_word(std::string_view text, std::vector<TokenId>& out) const {
  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    size_t n = utf8::valid_sequence_length(text, pos);
    if (n == 0) n = 1;  // invalid byte: a symbol of its own, spelled by byte fallback
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({index - 1, index + 1, static_cast<uint32_t>(pos), static_cast<uint32_t>(n),
                       lookup(text.substr(pos, n))});
    pos += n;
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  std::priority_queue<Candidate, std::vector<Candidate>, LowerPriority> queue;
  auto consider = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[left];
    const Symbol& r = symbols[right];
    const TokenId id = lookup(text.substr(l.start, l.len + r.len));
    if (id == kNoToken || !mergeable[id]) return;
    queue.push({vocab.scores[id], left, right, l.len + r.len, id});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) consider(i - 1, i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = symbols[c.left];
    Symbol& r = symbols[c.right];
    if (l.len == 0 || r.len == 0 || l.next != c.right || l.len + r.len != c.len) continue;
    l.len += r.len;
    l.id = c.id;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[r.next].prev = c.left;
    consider(l.prev, c.left);
    consider(c.left, l.next);
  }

  for (int i = 0; i >= 0; i = symbols[i].next) {
    const Symbol& s = symbols[i];
    if (s.id != kNoToken) {
      out.push_back(s.id);
      continue;
    }
    for (uint32_t k = 0; k < s.len; ++k) {
      const TokenId b = byte_token[static_cast<unsigned char>(text[s.start + k])];
      if (b == kNoToken) {
        if (vocab.unk == kNoToken) {
          throw std::runtime_error(vocab.source + ": text needs byte fallback but the vocabulary has "
                                   "neither <0xXX> byte tokens nor an unknown token");
        }
        out.push_back(vocab.unk);
        break;  // one unknown token for the whole character, as SentencePiece does
      }
      out.push_back(b);
    }
  }
}

}  // namespace qes
