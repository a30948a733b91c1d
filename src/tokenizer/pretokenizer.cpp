#include "pretokenizer.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdexcept>

namespace qes {

const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

const char* const kQwen2Pattern =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

const char* const kLlama3Pattern =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Unicode's White_Space property, which Hugging Face tokenizers (Oniguruma) and llama.cpp use
// for \s. PCRE2's \s with UCP also counts U+180E MONGOLIAN VOWEL SEPARATOR (a format character
// since Unicode 6.3), so \s and \S are spelled out with this list instead.
constexpr std::string_view kWhiteSpace =
    R"(\x{9}-\x{D}\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

std::string with_unicode_white_space(std::string_view pattern) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[++i];
      if (e == 'Q') {  // \Q...\E: literal text, copied as is
        const size_t end = pattern.find("\\E", i);
        const size_t stop = end == std::string_view::npos ? pattern.size() : end + 2;
        out.append("\\Q").append(pattern.substr(i + 1, stop - i - 1));
        i = stop - 1;
      } else if (e == 's') {
        if (!in_class) out += '[';
        out += kWhiteSpace;
        if (!in_class) out += ']';
      } else if (e == 'S' && !in_class) {
        out.append("[^").append(kWhiteSpace).append("]");
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
    } else if (c == ']' && in_class) {
      in_class = false;
    }
    out += c;
  }
  return out;
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof buf);
  return reinterpret_cast<const char*>(buf);
}

}  // namespace

struct PreTokenizer::Pattern {
  pcre2_code* code = nullptr;

  explicit Pattern(const std::string& source) {
    const std::string pattern = with_unicode_white_space(source);
    int error = 0;
    PCRE2_SIZE offset = 0;
    // UCP: \s, \p{L}... follow Unicode; MATCH_INVALID_UTF: invalid bytes never match (they end
    // up in the gaps between matches) instead of making every match fail.
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                         PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
    if (code == nullptr) {
      throw std::runtime_error("pre-tokenizer pattern '" + source + "': " + pcre2_message(error) +
                               " at offset " + std::to_string(offset));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT fails
  }
  ~Pattern() { pcre2_code_free(code); }
  Pattern(const Pattern&) = delete;
  Pattern& operator=(const Pattern&) = delete;

  void split(std::string_view text, std::vector<std::string_view>& out,
             pcre2_match_data* match) const {
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t gap_start = 0, pos = 0;
    while (pos < text.size()) {
      const int rc = pcre2_match(code, subject, text.size(), pos, 0, match, nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0) throw std::runtime_error("pre-tokenizer match failed: " + pcre2_message(rc));
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(match);
      const size_t start = ov[0], end = ov[1];
      if (start > gap_start) out.push_back(text.substr(gap_start, start - gap_start));
      if (end > start) {
        out.push_back(text.substr(start, end - start));
        pos = end;
      } else {
        pos = start + 1;  // empty match: step over one byte (it joins the next gap)
        while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
        continue;
      }
      gap_start = end;
    }
    if (gap_start < text.size()) out.push_back(text.substr(gap_start));
  }
};

PreTokenizer::PreTokenizer(const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) patterns_.push_back(std::make_unique<Pattern>(p));
}
PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& words) const {
  if (text.empty()) return;
  if (patterns_.empty()) {
    words.push_back(text);
    return;
  }
  // One match block per call keeps split() safe to call from many threads at once.
  struct MatchData {
    pcre2_match_data* p = pcre2_match_data_create(1, nullptr);
    ~MatchData() { pcre2_match_data_free(p); }
  } match;
  if (match.p == nullptr) throw std::bad_alloc();

  std::vector<std::string_view> pieces{text}, next;
  for (size_t i = 0; i < patterns_.size(); ++i) {
    auto& dest = (i + 1 == patterns_.size()) ? words : next;
    for (std::string_view piece : pieces) patterns_[i]->split(piece, dest, match.p);
    if (&dest == &next) {
      pieces.swap(next);
      next.clear();
    }
  }
}

std::vector<std::string> pre_tokenizer_patterns(std::string_view pre) {
  if (pre == "gpt-2" || pre == "gpt2" || pre == "phi-2" || pre == "jina-es" || pre == "jina-de" ||
      pre == "roberta-bpe") {
    return {kGpt2Pattern};
  }
  if (pre == "qwen2" || pre == "deepseek-r1-qwen" || pre == "megrez") return {kQwen2Pattern};
  if (pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe" || pre == "falcon3" ||
      pre == "pixtral") {
    return {kLlama3Pattern};
  }
  if (pre == "smollm" || pre == "starcoder" || pre == "refact" || pre == "command-r" ||
      pre == "codeshell" || pre == "exaone" || pre == "minerva-7b") {
    return {R"(\p{N})", R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))"};
  }
  if (pre == "none") return {};  // every text is one word
  if (pre == "default" || pre.empty()) {
    // llama.cpp's fallback for BPE vocabularies that name no pre-tokenizer.
    return {R"([\p{P}\$\+<=>\^~\|]+)",
            R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
            R"(\p{N}+)", R"([0-9][0-9][0-9])"};
  }
  throw std::runtime_error("unsupported BPE pre-tokenizer '" + std::string(pre) + "'");
}

}  // namespace qes
