// llama2.c's tok512.bin (stories260K): loads, matches llama.cpp's GGUF conversion of the same
// vocabulary, encodes exactly as llama2.c's own (quadratic, plain) encoder does, and decodes the
// golden story the way llama2.c prints it.
#include <gtest/gtest.h>

#include <cstring>

#include "qes/gguf.hpp"
#include "qes/gguf_vocab.hpp"
#include "qes/model_file.hpp"
#include "qes/tokenizer.hpp"
#include "test_data.hpp"

namespace qes {
namespace {

// llama2.c's run.c encoder, transcribed plainly: the oracle. Pieces are the file's own (' ' for
// spaces); a dummy " " goes first; merges pick the best-scoring pair anywhere, leftmost on ties.
struct Llama2cReference {
  std::vector<std::string> pieces;
  std::vector<float> scores;

  explicit Llama2cReference(const std::filesystem::path& path) {
    const std::string data = test::read_all(path);
    size_t pos = 4;
    while (pos + 8 <= data.size()) {
      float score;
      int32_t len;
      std::memcpy(&score, data.data() + pos, 4);
      std::memcpy(&len, data.data() + pos + 4, 4);
      pieces.push_back(data.substr(pos + 8, len));
      scores.push_back(score);
      pos += 8 + len;
    }
  }

  int lookup(const std::string& s) const {
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (pieces[i] == s) return static_cast<int>(i);
    }
    return -1;
  }

  std::vector<int32_t> encode(const std::string& text, bool bos) const {
    std::vector<int32_t> tokens;
    if (bos) tokens.push_back(1);
    if (!text.empty()) tokens.push_back(lookup(" "));
    std::string buf;
    for (size_t i = 0; i < text.size(); ++i) {
      buf += text[i];
      // keep collecting while the next byte continues this UTF-8 character (at most 4 bytes)
      if (i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80 && buf.size() < 4) {
        continue;
      }
      if (int id = lookup(buf); id != -1) {
        tokens.push_back(id);
      } else {
        for (unsigned char c : buf) tokens.push_back(c + 3);
      }
      buf.clear();
    }
    while (true) {
      float best_score = -1e10f;
      int best_id = -1, best_idx = -1;
      for (size_t i = 0; i + 1 < tokens.size(); ++i) {
        const int id = lookup(pieces[tokens[i]] + pieces[tokens[i + 1]]);
        if (id != -1 && scores[id] > best_score) {
          best_score = scores[id];
          best_id = id;
          best_idx = static_cast<int>(i);
        }
      }
      if (best_idx == -1) break;
      tokens[best_idx] = best_id;
      tokens.erase(tokens.begin() + best_idx + 1);
    }
    return tokens;
  }
};

std::string golden_story() {
  const auto readme = test::shared_file("README.md");
  if (readme.empty()) return {};
  const std::string text = test::read_all(readme);
  const size_t heading = text.find("## Golden output");
  const size_t start = text.find("```\n", heading) + 4;
  const size_t end = text.find("\n```", start);
  return text.substr(start, end - start);
}

TEST(Llama2cTokenizer, LoadsTok512) {
  QES_REQUIRE_SHARED_FILE(path, "tok512.bin");
  const Vocab v = load_llama2c_vocab(path);
  ASSERT_EQ(v.tokens.size(), 512u);
  EXPECT_EQ(v.tokens[0], "<unk>");
  EXPECT_EQ(v.types[1], TokenType::Control);
  EXPECT_EQ(v.tokens[3 + 0x0A], "<0x0A>");
  EXPECT_EQ(v.types[3 + 0x0A], TokenType::Byte);
  EXPECT_EQ(v.bos, 1);
  EXPECT_EQ(v.eos, 2);
  EXPECT_TRUE(v.add_bos);
}

// llama.cpp's convert-llama2c-to-ggml produced stories260K-f32.gguf from tok512.bin.
TEST(Llama2cTokenizer, SameVocabAsLlamaCppConversion) {
  QES_REQUIRE_SHARED_FILE(bin, "tok512.bin");
  QES_REQUIRE_SHARED_FILE(gguf_path, "stories260K-f32.gguf");
  const Vocab ours = load_llama2c_vocab(bin);
  const Vocab theirs = vocab_from_gguf(gguf::read_gguf(gguf_path.string()).metadata);
  EXPECT_EQ(ours.tokens, theirs.tokens);
  EXPECT_EQ(ours.scores, theirs.scores);
  EXPECT_EQ(ours.types, theirs.types);
  EXPECT_EQ(ours.bos, theirs.bos);
  EXPECT_EQ(ours.eos, theirs.eos);
  EXPECT_EQ(ours.unk, theirs.unk);
}

TEST(Llama2cTokenizer, EncodesAsLlama2c) {
  QES_REQUIRE_SHARED_FILE(bin, "tok512.bin");
  QES_REQUIRE_SHARED_FILE(inp, "tokenizer/ggml-vocab-llama-spm.gguf.inp");
  const Tokenizer tok(load_llama2c_vocab(bin));
  const Llama2cReference ref(bin);
  std::vector<std::string> texts = {golden_story(), "Once upon a time", "Lily's mom said, \"No!\"\n\n"};
  for (const auto& c : test::read_vectors(inp)) texts.push_back(c.text);
  int same = 0;
  for (const auto& text : texts) {
    const auto ids = tok.encode(text, /*add_special=*/true);
    const auto want = ref.encode(text, /*bos=*/true);
    EXPECT_EQ(ids, want) << "text '" << text << "'";
    same += ids == want;
  }
  std::printf("[ llama2.c ] %d/%zu texts encode as llama2.c's encoder does\n", same, texts.size());
}

TEST(Llama2cTokenizer, DecodesGoldenStoryLikeLlama2c) {
  QES_REQUIRE_SHARED_FILE(bin, "tok512.bin");
  const std::string story = golden_story();
  ASSERT_GT(story.size(), 500u);
  ASSERT_EQ(story.rfind("Once upon a time", 0), 0u);
  const Tokenizer tok(load_llama2c_vocab(bin));
  const auto ids = tok.encode(story, /*add_special=*/true);
  ASSERT_EQ(ids.front(), 1);
  // The first piece after BOS is "▁Once": llama2.c prints it without the space.
  EXPECT_EQ(tok.token_to_piece(ids[1]), " Once");
  StreamDecoder stream(tok);
  std::string printed;
  for (TokenId id : ids) printed += stream.push(id);
  printed += stream.finish();
  EXPECT_EQ(printed, story);
  EXPECT_EQ(tok.decode(ids), story);
}

}  // namespace
}  // namespace qes
