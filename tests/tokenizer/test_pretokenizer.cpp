// The PCRE2 pre-tokenizer (an internal class): pieces for the gpt2 and qwen2 patterns, and
// Unicode whitespace as Hugging Face and llama.cpp define it.
#include <gtest/gtest.h>

#include "pretokenizer.hpp"

namespace qes {
namespace {

std::vector<std::string> pieces(const std::string& pre, const std::string& text) {
  const PreTokenizer p(pre_tokenizer_patterns(pre));
  std::vector<std::string_view> words;
  p.split(text, words);
  return {words.begin(), words.end()};
}

using Pieces = std::vector<std::string>;

TEST(PreTokenizer, Gpt2AndQwen2Pieces) {
  EXPECT_EQ(pieces("gpt-2", "Hello world's  end 2024!!\n"),
            (Pieces{"Hello", " world", "'s", " ", " end", " 2024", "!!", "\n"}));
  // qwen2: digits one by one, a non-letter prefix joins a letter run, newlines kept together.
  EXPECT_EQ(pieces("qwen2", "Hello world's  end 2024!!\n\n"),
            (Pieces{"Hello", " world", "'s", " ", " end", " ", "2", "0", "2", "4", "!!\n\n"}));
  EXPECT_EQ(pieces("qwen2", "I'VE $x a.b"), (Pieces{"I", "'VE", " $", "x", " a", ".b"}));
  EXPECT_EQ(pieces("qwen2", "日本語 текст"), (Pieces{"日本語", " текст"}));
}

// \s is Unicode's White_Space, as for Hugging Face and llama.cpp: U+0085 NEXT LINE is in it,
// U+180E MONGOLIAN VOWEL SEPARATOR (whitespace to PCRE2's own \s) is not.
TEST(PreTokenizer, WhiteSpaceIsUnicodeWhiteSpace) {
  const std::string nel = "\xC2\x85", mvs = "\xE1\xA0\x8E";
  // \s+(?!\S) takes " " + NEL (leaving the last NEL before "b"), then NEL joins "b" as a prefix.
  EXPECT_EQ(pieces("qwen2", " " + nel + nel + "b"), (Pieces{" " + nel, nel + "b"}));
  EXPECT_EQ(pieces("gpt-2", "!" + nel), (Pieces{"!", nel}));
  EXPECT_EQ(pieces("qwen2", "!" + mvs + " x"), (Pieces{"!" + mvs, " x"}));
  EXPECT_EQ(pieces("gpt-2", "!" + mvs + " x"), (Pieces{"!" + mvs, " x"}));
  EXPECT_EQ(pieces("qwen2", "a\xE3\x80\x80\t b"), (Pieces{"a", "\xE3\x80\x80\t", " b"}));
}

TEST(PreTokenizer, InvalidUtf8StaysInThePieces) {
  const std::string text = "ab\xFF\xFE cd \xE2\x82";
  std::string joined;
  for (const auto& p : pieces("qwen2", text)) joined += p;
  EXPECT_EQ(joined, text);
}

TEST(PreTokenizer, BadPatternsAndNames) {
  EXPECT_THROW(PreTokenizer({"(unclosed"}), std::runtime_error);
  EXPECT_THROW(pre_tokenizer_patterns("klingon"), std::runtime_error);
  EXPECT_TRUE(pre_tokenizer_patterns("none").empty());
}

}  // namespace
}  // namespace qes
