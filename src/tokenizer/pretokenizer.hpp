#pragma once
// Splits text into the words that byte-level BPE then encodes one by one, with the regular
// expressions of the model's pre-tokenizer (PCRE2, Unicode-aware). Each expression splits the
// pieces left by the previous one; text between matches stays a piece of its own ("Isolated").
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace qes {

class PreTokenizer {
 public:
  // An empty list keeps every text whole. Throws std::runtime_error on a pattern PCRE2 rejects.
  explicit PreTokenizer(const std::vector<std::string>& patterns);
  ~PreTokenizer();
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;

  // Appends the pieces of text (views into it) to words. Never drops a byte: the pieces
  // concatenate to text, invalid UTF-8 included.
  void split(std::string_view text, std::vector<std::string_view>& words) const;

 private:
  struct Pattern;
  std::vector<std::unique_ptr<Pattern>> patterns_;
};

// The expressions llama.cpp uses for a tokenizer.ggml.pre name; throws for names it does not know.
std::vector<std::string> pre_tokenizer_patterns(std::string_view pre_name);

// GPT-2's pattern (also what a tokenizer.json ByteLevel pre-tokenizer with use_regex means).
extern const char* const kGpt2Pattern;

}  // namespace qes
