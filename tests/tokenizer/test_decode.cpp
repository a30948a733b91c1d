// Decoding: exact inverse of encoding (invalid UTF-8 included), streaming with partial UTF-8,
// special tokens, thread safety, and no quadratic blow-up on long words.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "qes/gguf.hpp"
#include "qes/gguf_vocab.hpp"
#include "qes/model_file.hpp"
#include "qes/tokenizer.hpp"
#include "test_data.hpp"

namespace qes {
namespace {

const std::string kFFFD = "\xEF\xBF\xBD";

// Loading the 150k-token Qwen2 vocabulary once for the whole file keeps the suite fast.
const Tokenizer* qwen2() {
  static const std::unique_ptr<Tokenizer> tok = [] {
    const auto path = test::shared_file("tokenizer/qwen2-tokenizer.json");
    return path.empty() ? nullptr : std::make_unique<Tokenizer>(load_hf_tokenizer(path));
  }();
  return tok.get();
}

const Tokenizer* from_gguf(const char* relative) {
  const auto path = test::shared_file(relative);
  if (path.empty()) return nullptr;
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[relative];
  if (!slot) slot = std::make_unique<Tokenizer>(vocab_from_gguf(gguf::read_gguf(path.string()).metadata));
  return slot.get();
}

#define QES_REQUIRE_TOKENIZER(var, expr)                                     \
  const Tokenizer* var = (expr);                                             \
  if (var == nullptr) GTEST_SKIP() << "shared tokenizer data not found (" #expr ")";

TEST(Utf8, SanitizeReplacesEachMaximalInvalidSubpart) {
  EXPECT_EQ(sanitize_utf8("plain é 世界 🌍"), "plain é 世界 🌍");
  EXPECT_EQ(sanitize_utf8("a\xFF" "b"), "a" + kFFFD + "b");
  EXPECT_EQ(sanitize_utf8("\xF0\x9F\x98" "x"), kFFFD + "x");         // truncated 4-byte sequence
  EXPECT_EQ(sanitize_utf8("\xC0\xAF"), kFFFD + kFFFD);                // overlong
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), kFFFD + kFFFD + kFFFD);    // surrogate
  EXPECT_EQ(sanitize_utf8("\xE2\x82"), kFFFD);                        // cut at the end
}

TEST(Decode, InvalidUtf8RoundTripsExactly) {
  const std::vector<std::string> texts = {
      "\xFF\xFE plain", "caf\xC3", "\xE2\x82 half a euro \xE2\x82\xAC", "\x80\x80\x80",
      "mixed \xF0\x9F\x98 emoji \xF0\x9F\x98\x80!", std::string("nul\0inside", 10)};
  for (const char* name : {"qwen2", "tokenizer/ggml-vocab-gpt-2.gguf", "tokenizer/ggml-vocab-llama-spm.gguf"}) {
    const Tokenizer* tok = std::string(name) == "qwen2" ? qwen2() : from_gguf(name);
    if (tok == nullptr) GTEST_SKIP() << "shared tokenizer data not found";
    for (const auto& text : texts) {
      const auto ids = tok->encode(text, /*add_special=*/false);
      EXPECT_EQ(tok->decode(ids), text) << name << ": '" << sanitize_utf8(text) << "'";
    }
  }
}

TEST(Decode, StreamHoldsPartialUtf8UntilComplete) {
  QES_REQUIRE_TOKENIZER(tok, qwen2());
  const std::string text = "Emoji 🌍🚀 and 世界, café: ∑x²";
  const auto ids = tok->encode(text, false);
  int partial_pieces = 0;
  StreamDecoder stream(*tok);
  std::string out;
  for (TokenId id : ids) {
    const std::string piece(tok->token_to_piece(id));
    partial_pieces += sanitize_utf8(piece) != piece;
    const std::string chunk = stream.push(id);
    EXPECT_EQ(sanitize_utf8(chunk), chunk) << "the stream emitted invalid UTF-8";
    out += chunk;
  }
  out += stream.finish();
  EXPECT_GT(partial_pieces, 0) << "the text should need tokens that are partial UTF-8 on their own";
  EXPECT_EQ(out, text);
}

TEST(Decode, StreamReplacesBytesThatCannotComplete) {
  QES_REQUIRE_TOKENIZER(tok, qwen2());
  // Byte-level tokens for the lone bytes E2 and 82 (half of "€"), then "a".
  const TokenId e2 = tok->encode("\xE2", false).at(0);
  const TokenId x82 = tok->encode("\x82", false).at(0);
  const TokenId a = tok->encode("a", false).at(0);
  StreamDecoder stream(*tok);
  EXPECT_EQ(stream.push(e2), "");
  EXPECT_EQ(stream.push(x82), "");
  EXPECT_EQ(stream.push(a), kFFFD + "a");
  EXPECT_EQ(stream.push(e2), "");
  EXPECT_EQ(stream.finish(), kFFFD);
}

TEST(Decode, SpecialTokensParsedAndRendered) {
  QES_REQUIRE_TOKENIZER(tok, qwen2());
  const std::string text = "<|im_start|>user\nhi<|im_end|>";
  const auto parsed = tok->encode(text, false, /*parse_special=*/true);
  ASSERT_GE(parsed.size(), 3u);
  EXPECT_EQ(parsed.front(), 151644);
  EXPECT_EQ(parsed.back(), 151645);
  EXPECT_EQ(tok->decode(parsed, /*render_special=*/true), text);
  EXPECT_EQ(tok->decode(parsed), "user\nhi");
  const auto literal = tok->encode(text, false, /*parse_special=*/false);
  EXPECT_EQ(std::count(literal.begin(), literal.end(), 151644), 0);
  EXPECT_EQ(tok->decode(literal), text);
}

TEST(Decode, SpmBosAndLeadingSpace) {
  QES_REQUIRE_TOKENIZER(tok, from_gguf("tokenizer/ggml-vocab-llama-spm.gguf"));
  EXPECT_EQ(tok->encode("Hello", /*add_special=*/true), (std::vector<TokenId>{1, 15043}));
  EXPECT_EQ(tok->encode("<s>Hello", false, /*parse_special=*/true), (std::vector<TokenId>{1, 15043}));
  EXPECT_EQ(tok->decode(std::vector<TokenId>{1, 15043}), "Hello");
  EXPECT_EQ(tok->decode(std::vector<TokenId>{1, 15043}, /*render_special=*/true), "<s>Hello");
  // A continuation keeps its space: "Hello" + " world" decoded after the prompt's last token.
  const auto prompt = tok->encode("Hello", true);
  const auto generated = tok->encode("Hello world", true);
  ASSERT_EQ(generated.size(), 3u);
  const std::vector<TokenId> rest(generated.begin() + 2, generated.end());
  EXPECT_EQ(tok->decode(rest, false, prompt.back()), " world");
  EXPECT_EQ(tok->decode(rest), "world");
  StreamDecoder stream(*tok, false, prompt.back());
  EXPECT_EQ(stream.push(rest[0]), " world");
  stream.reset(/*previous=*/1);
  EXPECT_EQ(stream.push(rest[0]), "world");
  EXPECT_EQ(tok->encode("", true), (std::vector<TokenId>{1}));
  EXPECT_TRUE(tok->encode("", false).empty());
  // Without parse_special, "<s>" is text.
  const auto literal = tok->encode("<s>", false);
  EXPECT_EQ(std::count(literal.begin(), literal.end(), 1), 0);
  EXPECT_EQ(tok->decode(literal), "<s>");
}

TEST(Encode, LongWordsStayFast) {
  QES_REQUIRE_TOKENIZER(spm, from_gguf("tokenizer/ggml-vocab-llama-spm.gguf"));
  QES_REQUIRE_TOKENIZER(bpe, qwen2());
  std::string word;
  for (int i = 0; i < 100000; ++i) word += static_cast<char>('a' + (i * 7 + i / 13) % 26);
  for (const Tokenizer* tok : {spm, bpe}) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = tok->encode(word, false);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("[ long     ] %s: 100000-byte word -> %zu tokens in %.1f ms\n",
                tok == spm ? "spm" : "qwen2", ids.size(), ms);
    EXPECT_EQ(tok->decode(ids), word);
    EXPECT_LT(ms, 2000.0) << "merging a long word must not be quadratic";
  }
}

TEST(Encode, ConcurrentCallersGetTheSameIds) {
  QES_REQUIRE_TOKENIZER(tok, qwen2());
  QES_REQUIRE_SHARED_FILE(inp, "tokenizer/ggml-vocab-qwen2.gguf.inp");
  const auto cases = test::read_vectors(inp);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 20; ++rep) {
        for (const auto& c : cases) mismatches[t] += tok->encode(c.text, false) != c.ids;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace qes

namespace qes {
namespace {

// Random byte strings (ASCII, multi-byte characters, stray and truncated sequences, fragments
// of special tokens) must survive encode -> decode unchanged. U+2581 "▁" is left out: SPM
// spells spaces with it, so like SentencePiece it comes back as a space.
TEST(Encode, RandomBytesRoundTrip) {
  std::vector<std::pair<std::string, const Tokenizer*>> tokenizers = {
      {"qwen2", qwen2()},
      {"gpt-2", from_gguf("tokenizer/ggml-vocab-gpt-2.gguf")},
      {"llama-spm", from_gguf("tokenizer/ggml-vocab-llama-spm.gguf")},
      {"llama-2-tiny-random", from_gguf("llama-2-tiny-random.gguf")}};
  const std::vector<std::string> atoms = {
      "a", "Z", " ", "  ", "\n", "\t", "'s", "123", "é", "世", "🌍", "\xE2\x82", "\xFF", "\x80", "\xF0\x9F",
      "<|im", "_end|>", "<s>", "</s", "<think>", "<0x41>", ".", "!!", "\r\n", "\xC2\xA0", "\xE3\x80\x80"};
  std::mt19937 rng(1234);
  for (const auto& [name, tok] : tokenizers) {
    if (tok == nullptr) GTEST_SKIP() << "shared tokenizer data not found";
    int failures = 0;
    for (int i = 0; i < 300; ++i) {
      std::string text;
      const int n = static_cast<int>(rng() % 24);
      for (int k = 0; k < n; ++k) text += atoms[rng() % atoms.size()];
      const auto ids = tok->encode(text, /*add_special=*/false);
      if (tok->decode(ids) != text) {
        ADD_FAILURE() << name << ": '" << sanitize_utf8(text) << "' decodes to '" << sanitize_utf8(tok->decode(ids)) << "'";
        if (++failures > 5) break;
      }
    }
  }
}

}  // namespace
}  // namespace qes

namespace qes {
namespace {

Vocab tiny_spm(std::vector<std::pair<std::string, float>> normal) {
  Vocab v;
  v.model = VocabModel::Spm;
  v.source = "tiny-spm";
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.scores = {0, 0, 0};
  v.types = {TokenType::Unknown, TokenType::Control, TokenType::Control};
  for (auto& [text, score] : normal) {
    v.tokens.push_back(text);
    v.scores.push_back(score);
    v.types.push_back(TokenType::Normal);
  }
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  return v;
}

// Cutting the text into words before each "▁" is only exact when no token spans such a cut;
// with a token like "a▁" the whole text must be merged at once.
TEST(Encode, SpmMergesAcrossWordsWhenTheVocabAllowsIt) {
  const Tokenizer across(tiny_spm({{"\xE2\x96\x81", -5}, {"a", -5}, {"b", -5}, {"a\xE2\x96\x81", -1},
                                   {"a\xE2\x96\x81" "b", 0}, {"\xE2\x96\x81" "a", -2}, {"\xE2\x96\x81" "b", -3}}));
  // "a b" -> "▁a▁b": "a▁" (-1) beats "▁a" (-2), then "a▁b" (0).
  EXPECT_EQ(across.encode("a b", false), (std::vector<TokenId>{3, 7}));
  // Without the tokens that cross the cut, word by word: "▁a", "▁b".
  const Tokenizer words(tiny_spm({{"\xE2\x96\x81", -5}, {"a", -5}, {"b", -5}, {"\xE2\x96\x81" "a", -2},
                                  {"\xE2\x96\x81" "b", -3}}));
  EXPECT_EQ(words.encode("a b", false), (std::vector<TokenId>{6, 7}));
  EXPECT_EQ(words.encode("a b a b", false), (std::vector<TokenId>{6, 7, 6, 7}));
  // No byte tokens: a character outside the vocabulary becomes <unk> (one per character).
  EXPECT_EQ(words.encode("a é", false), (std::vector<TokenId>{6, 3, 0}));
}

}  // namespace
}  // namespace qes
