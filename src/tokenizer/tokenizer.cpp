// qes::Tokenizer: builds the lookup tables from a Vocab, splits special tokens out of the text,
// hands the rest to the SPM or BPE encoder, and decodes.
#include <algorithm>
#include <array>
#include <stdexcept>

#include "byte_level.hpp"
#include "tokenizer_impl.hpp"

namespace qes {
namespace {

[[noreturn]] void fail(const Vocab& v, const std::string& what) {
  throw std::runtime_error((v.source.empty() ? std::string("vocabulary") : v.source) + ": " + what);
}

std::string byte_token_text(unsigned char b) {
  static const char* hex = "0123456789ABCDEF";
  return std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
}

// "<0x0A>" -> 10; -1 when the text is not a byte token's.
int parse_byte_token(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(t[3]), lo = hex(t[4]);
  return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

// SentencePiece writes spaces as U+2581 "▁".
constexpr std::string_view kSpmSpace = "\xE2\x96\x81";

std::string spm_unescape(std::string_view t) {
  std::string out;
  out.reserve(t.size());
  for (size_t i = 0; i < t.size();) {
    if (t.substr(i, 3) == kSpmSpace) {
      out += ' ';
      i += 3;
    } else {
      out += t[i++];
    }
  }
  return out;
}

// Tokens that end a turn in the chat formats qes knows, besides the vocab's EOS/EOT.
constexpr std::array<std::string_view, 9> kEndOfTurnTexts = {
    "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end|>", "<end_of_turn>",
    "<|eom_id|>", "<EOT>",         "<|end_of_text|>", "</s>"};

void validate(Vocab& v) {
  const size_t n = v.tokens.size();
  if (n == 0) fail(v, "the vocabulary has no tokens");
  if (n > static_cast<size_t>(INT32_MAX)) fail(v, "too many tokens");
  if (v.types.empty()) v.types.assign(n, TokenType::Normal);
  if (v.types.size() != n) {
    fail(v, std::to_string(v.types.size()) + " token types for " + std::to_string(n) + " tokens");
  }
  if (v.model == VocabModel::Spm && v.scores.size() != n) {
    fail(v, std::to_string(v.scores.size()) + " scores for " + std::to_string(n) + " tokens");
  }
  if (!v.scores.empty() && v.scores.size() != n) {
    fail(v, std::to_string(v.scores.size()) + " scores for " + std::to_string(n) + " tokens");
  }
  for (size_t i = 0; i < n; ++i) {
    const auto t = static_cast<int32_t>(v.types[i]);
    if (t < 0 || t > static_cast<int32_t>(TokenType::Byte)) {
      fail(v, "token " + std::to_string(i) + " has unknown type " + std::to_string(t));
    }
  }
  auto check_id = [&](TokenId id, const char* name) {
    if (id != kNoToken && (id < 0 || static_cast<size_t>(id) >= n)) {
      fail(v, std::string(name) + " token id " + std::to_string(id) + " is outside the vocabulary (" +
                  std::to_string(n) + " tokens)");
    }
  };
  // GGUF writers store "none" as 0xFFFFFFFF, which reads back as -1.
  check_id(v.bos, "BOS");
  check_id(v.eos, "EOS");
  check_id(v.unk, "unknown");
  check_id(v.pad, "padding");
  check_id(v.eot, "end-of-turn");
  if (v.add_bos && v.bos == kNoToken) fail(v, "add_bos is set but there is no BOS token");
  if (v.add_eos && v.eos == kNoToken) fail(v, "add_eos is set but there is no EOS token");
}

}  // namespace

namespace {

// What each token decodes to, and which tokens are special or may come out of SPM merges.
void build_pieces(Tokenizer::Impl& m) {
  const Vocab& v = m.vocab;
  const size_t n = v.tokens.size();
  m.pieces.resize(n);
  m.special.resize(n);
  m.mergeable.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& text = v.tokens[i];
    const TokenType type = v.types[i];
    m.special[i] = type == TokenType::Control || type == TokenType::UserDefined ||
                   type == TokenType::Unknown;
    // As SentencePiece: control, unknown, byte and unused pieces are never matched from text.
    m.mergeable[i] = !(type == TokenType::Control || type == TokenType::Unknown ||
                       type == TokenType::Byte || type == TokenType::Unused);
    switch (type) {
      case TokenType::Control: break;  // rendered only on request (token_to_piece)
      case TokenType::Unknown: m.pieces[i] = "\xE2\x96\x85"; break;  // llama.cpp's U+2585
      case TokenType::UserDefined: m.pieces[i] = text; break;
      case TokenType::Byte:
        if (int b = parse_byte_token(text); b >= 0) {
          m.pieces[i] = std::string(1, static_cast<char>(b));
        } else {
          fail(v, "byte token " + std::to_string(i) + " '" + text + "' is not of the form <0xXX>");
        }
        break;
      default:
        m.pieces[i] = v.model == VocabModel::Spm ? spm_unescape(text) : byte_level::decode(text);
        break;
    }
  }
}

// The token each byte falls back to (SPM) or starts as (byte-level BPE).
void build_byte_tokens(Tokenizer::Impl& m) {
  for (int b = 0; b < 256; ++b) {
    const auto byte = static_cast<unsigned char>(b);
    TokenId id = kNoToken;
    if (m.vocab.model == VocabModel::Spm) {
      id = m.lookup(byte_token_text(byte));
      if (id == kNoToken && b < 0x80) id = m.lookup(std::string(1, static_cast<char>(b)));
    } else {
      id = m.lookup(byte_level::encode_byte(byte));
    }
    m.byte_token[b] = id;
  }
}

void build_special_index(Tokenizer::Impl& m) {
  const Vocab& v = m.vocab;
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (!m.special[i] || v.tokens[i].empty()) continue;
    const bool control_or_unknown = v.types[i] != TokenType::UserDefined;
    auto& bucket = m.specials_by_first_byte[static_cast<unsigned char>(v.tokens[i][0])];
    bucket.push_back({v.tokens[i], static_cast<TokenId>(i), control_or_unknown});
    m.has_specials = true;
  }
  for (auto& bucket : m.specials_by_first_byte) {  // longest first: leftmost-longest matching
    std::stable_sort(bucket.begin(), bucket.end(),
                     [](const auto& a, const auto& b) { return a.text.size() > b.text.size(); });
  }

  if (v.eos != kNoToken) m.end_of_generation.insert(v.eos);
  if (v.eot != kNoToken) m.end_of_generation.insert(v.eot);
  for (std::string_view t : kEndOfTurnTexts) {
    const TokenId id = m.lookup(t);
    if (id != kNoToken && v.types[id] == TokenType::Control) m.end_of_generation.insert(id);
  }
}

void build_bpe(Tokenizer::Impl& m) {
  const Vocab& v = m.vocab;
  try {
    m.pre = PreTokenizer(v.pre_regexes.empty() ? pre_tokenizer_patterns(v.pre) : v.pre_regexes);
  } catch (const std::runtime_error& e) {
    fail(v, e.what());
  }
  m.merges.reserve(v.merges.size());
  std::string joined;
  for (size_t r = 0; r < v.merges.size(); ++r) {
    const auto& [a, b] = v.merges[r];
    const TokenId left = m.lookup(a), right = m.lookup(b);
    joined.assign(a).append(b);
    const TokenId result = m.lookup(joined);
    if (left == kNoToken || right == kNoToken || result == kNoToken) {
      const std::string& missing = left == kNoToken ? a : right == kNoToken ? b : joined;
      fail(v, "merge " + std::to_string(r) + " '" + a + " " + b + "': '" + missing + "' is not a token");
    }
    m.merges.insert(token_pair_key(left, right), BpeMerge{static_cast<int32_t>(r), result});
  }
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  validate(vocab);
  m.vocab = std::move(vocab);
  m.ids.build(m.vocab.tokens);
  build_pieces(m);
  build_byte_tokens(m);
  build_special_index(m);
  if (m.vocab.model == VocabModel::Spm) {
    m.spm_split_words = spm_word_boundaries_hold(m.vocab, m.mergeable);
  } else {
    build_bpe(m);
  }
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 4);
  encode_append(text, out, add_special, parse_special);
  return out;
}

void Tokenizer::encode_append(std::string_view text, std::vector<TokenId>& out, bool add_special,
                              bool parse_special) const {
  const Impl& m = *impl_;
  const Vocab& v = m.vocab;
  if (add_special && v.add_bos) out.push_back(v.bos);

  // SPM puts a space in front of the text and after every special token, as llama.cpp does.
  bool after_special = true;
  std::string escaped;
  auto encode_raw = [&](std::string_view raw) {
    if (raw.empty()) return;
    if (v.model == VocabModel::Bpe) {
      m.bpe_encode(raw, out);
      return;
    }
    escaped.clear();
    if (v.add_space_prefix && after_special) escaped += kSpmSpace;
    for (char c : raw) {
      if (c == ' ') {
        escaped += kSpmSpace;
      } else {
        escaped += c;
      }
    }
    m.spm_encode(escaped, out);
    after_special = false;
  };

  // Leftmost-longest match of the special tokens this call splits out.
  size_t start = 0;
  if (m.has_specials) {
    for (size_t pos = 0; pos < text.size();) {
      const auto& bucket = m.specials_by_first_byte[static_cast<unsigned char>(text[pos])];
      const Impl::SpecialText* hit = nullptr;
      for (const auto& s : bucket) {
        if ((parse_special || !s.control_or_unknown) && text.substr(pos, s.text.size()) == s.text) {
          hit = &s;
          break;
        }
      }
      if (hit == nullptr) {
        ++pos;
        continue;
      }
      encode_raw(text.substr(start, pos - start));
      out.push_back(hit->id);
      after_special = true;
      pos += hit->text.size();
      start = pos;
    }
  }
  encode_raw(text.substr(start));

  if (add_special && v.add_eos) out.push_back(v.eos);
}

std::string_view Tokenizer::token_to_piece(TokenId id, bool render_special) const {
  const Impl& m = *impl_;
  if (id < 0 || id >= n_tokens()) {
    throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary (" +
                            std::to_string(n_tokens()) + " tokens)");
  }
  if (render_special && m.vocab.types[id] == TokenType::Control) return m.vocab.tokens[id];
  return m.pieces[id];
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool render_special,
                              TokenId previous) const {
  const Impl& m = *impl_;
  const bool strip_spaces = m.vocab.model == VocabModel::Spm && m.vocab.add_space_prefix;
  std::string out;
  bool after_special = previous == kNoToken || is_special(previous);
  for (TokenId id : ids) {
    std::string_view piece = token_to_piece(id, render_special);
    if (strip_spaces && after_special && !m.special[id] && !piece.empty() && piece[0] == ' ') {
      piece.remove_prefix(1);
    }
    after_special = m.special[id];
    out += piece;
  }
  return out;
}

const Vocab& Tokenizer::vocab() const { return impl_->vocab; }
int32_t Tokenizer::n_tokens() const { return static_cast<int32_t>(impl_->vocab.tokens.size()); }
TokenId Tokenizer::bos() const { return impl_->vocab.bos; }
TokenId Tokenizer::eos() const { return impl_->vocab.eos; }

TokenType Tokenizer::type(TokenId id) const {
  if (id < 0 || id >= n_tokens()) throw std::out_of_range("token id " + std::to_string(id));
  return impl_->vocab.types[id];
}

bool Tokenizer::is_special(TokenId id) const {
  return id >= 0 && id < n_tokens() && impl_->special[id];
}

bool Tokenizer::is_end_of_generation(TokenId id) const {
  return impl_->end_of_generation.count(id) != 0;
}

std::optional<TokenId> Tokenizer::find(std::string_view token_text) const {
  const TokenId id = impl_->lookup(token_text);
  if (id == kNoToken) return std::nullopt;
  return id;
}

}  // namespace qes
