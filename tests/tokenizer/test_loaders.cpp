// Loaders and vocabulary validation: small hand-written vocabularies that exercise each rule,
// and bad inputs that must give a clear error naming the file and the problem.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "qes/gguf.hpp"
#include "qes/gguf_vocab.hpp"
#include "qes/llama2c.hpp"
#include "qes/model_file.hpp"
#include "qes/tokenizer.hpp"
#include "test_data.hpp"

namespace qes {
namespace {

// A file in a fresh temporary folder, removed with the test.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& contents) {
    dir_ = std::filesystem::temp_directory_path() /
           ("qes_tok_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = dir_ / name;
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() { std::filesystem::remove_all(dir_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path dir_, path_;
};

// Runs f, expects std::exception whose message contains every part.
template <class F>
void expect_error(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << *parts.begin() << "'";
  } catch (const std::exception& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

const char* kTinyBpe = R"({
  "added_tokens": [{"id": 5, "content": "<|end|>", "special": true},
                   {"id": 6, "content": "<x>", "special": false}],
  "normalizer": null,
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
  "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 4},
            "merges": ["a b", ["Ġ", "ab"]]}
})";

TEST(HfTokenizerJson, TinyByteLevelBpe) {
  TempFile f("tokenizer.json", kTinyBpe);
  const Tokenizer tok(load_hf_tokenizer(f.path()));
  EXPECT_EQ(tok.n_tokens(), 7);
  EXPECT_EQ(tok.encode("ab ab ba"), (std::vector<TokenId>{2, 4, 3, 1, 0}));
  EXPECT_EQ(tok.encode("<x>ab"), (std::vector<TokenId>{6, 2}));          // user-defined: always split
  EXPECT_EQ(tok.encode("a<|end|>", false, true), (std::vector<TokenId>{0, 5}));
  EXPECT_EQ(tok.eos(), kNoToken);  // no <|endoftext|>, no config
  EXPECT_EQ(tok.decode(std::vector<TokenId>{2, 4, 5, 6}), "ab ab<x>");
  EXPECT_EQ(tok.decode(std::vector<TokenId>{2, 5}, true), "ab<|end|>");
  // '<' is no token of this vocabulary: a clear error, not a crash or a silent drop.
  expect_error([&] { tok.encode("a<|end|>", false, false); }, {"tokenizer.json", "0x3C"});
}

TEST(HfTokenizerJson, BadFiles) {
  expect_error([] { load_hf_tokenizer("/nonexistent/tokenizer.json"); }, {"/nonexistent/tokenizer.json", "cannot open"});
  {
    TempFile f("tokenizer.json", std::string(kTinyBpe).substr(0, 200));
    expect_error([&] { load_hf_tokenizer(f.path()); }, {f.path().string(), "invalid JSON"});
  }
  auto with = [](std::string from, const std::string& to) {
    std::string s = kTinyBpe;
    return s.replace(s.find(from), from.size(), to);
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {with(R"("type": "BPE")", R"("type": "Unigram")"), "Unigram"},
      {with(R"("Ġab": 4)", R"("Ġab": 40)"), "no token has id 4"},
      {with(R"("a b")", R"("a c")"), "'c' is not a token"},
      {with(R"("a b")", R"("ab")"), "not two tokens"},
      {with(R"(["Ġ", "ab"])", R"(["Ġ"])"), "1 parts instead of 2"},
      {with(R"("normalizer": null)", R"("normalizer": {"type": "Lowercase"})"), "Lowercase"},
      {with(R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})",
            R"({"type": "Whitespace"})"), "Whitespace"},
      {with(R"("use_regex": true})", R"("use_regex": true}, "x": {"Regex": "("})"), ""},  // unknown keys are fine
      {with(R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})",
            R"({"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated"})"), "(unclosed"},
  };
  for (const auto& [json, message] : cases) {
    TempFile f("tokenizer.json", json);
    if (message.empty()) {
      EXPECT_NO_THROW(Tokenizer(load_hf_tokenizer(f.path())));
    } else {
      expect_error([&] { Tokenizer tok(load_hf_tokenizer(f.path())); }, {f.path().string(), message});
    }
  }
}

// Corrupted files (bytes changed, cut short) load or fail with an exception: never a crash
// (run under the sanitizer build to check memory errors too).
TEST(HfTokenizerJson, CorruptedFilesNeverCrash) {
  std::mt19937 rng(7);
  const std::string good = kTinyBpe;
  const std::string alphabet = "{}[]\",:0123456789 -abBPEnulltrue\\";
  int loaded = 0, rejected = 0;
  TempFile f("tokenizer.json", good);
  for (int i = 0; i < 200; ++i) {
    std::string bad = good;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) bad[rng() % bad.size()] = alphabet[rng() % alphabet.size()];
    if (i % 4 == 0) bad.resize(rng() % bad.size());
    std::ofstream(f.path(), std::ios::binary | std::ios::trunc) << bad;
    try {
      const Tokenizer tok(load_hf_tokenizer(f.path()));
      tok.encode("ab ab", false);
      ++loaded;
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(f.path().string()), std::string::npos) << e.what();
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  std::printf("[ corrupt  ] 200 corrupted tokenizer.json files: %d loaded, %d rejected with an error\n", loaded, rejected);
}

TEST(HfTokenizerJson, ConfigSuppliesSpecialsAndTemplate) {
  TempFile f("tokenizer.json", kTinyBpe);
  std::ofstream(f.path().parent_path() / "tokenizer_config.json")
      << R"({"bos_token": {"content": "<|end|>"}, "eos_token": "<|end|>", "add_bos_token": true,
            "chat_template": "{{ '<|im_start|>' }}"})";
  const Tokenizer tok(load_hf_tokenizer(f.path()));
  EXPECT_EQ(tok.bos(), 5);
  EXPECT_EQ(tok.eos(), 5);
  EXPECT_EQ(tok.encode("ab"), (std::vector<TokenId>{5, 2}));
  EXPECT_EQ(tok.vocab().chat_template, "{{ '<|im_start|>' }}");
  std::ofstream(f.path().parent_path() / "tokenizer_config.json") << R"({"eos_token": "<nope>"})";
  expect_error([&] { load_hf_tokenizer(f.path()); }, {"tokenizer_config.json", "<nope>"});
}

TEST(Llama2cVocab, BadFiles) {
  QES_REQUIRE_SHARED_FILE(bin, "tok512.bin");
  const std::string data = test::read_all(bin);
  {
    TempFile f("tok.bin", data.substr(0, 1001));
    expect_error([&] { load_llama2c_vocab(f.path()); }, {f.path().string(), "truncated"});
  }
  {
    TempFile f("tok.bin", std::string("\xFF\xFF\xFF\xFF", 4) + data.substr(4));
    expect_error([&] { load_llama2c_vocab(f.path()); }, {f.path().string(), "max_token_length"});
  }
  {
    std::string bad = data;
    const int32_t huge = 1 << 20;
    std::memcpy(bad.data() + 8, &huge, 4);  // length of token 0
    TempFile f("tok.bin", bad);
    expect_error([&] { load_llama2c_vocab(f.path()); }, {f.path().string(), "token 0 has length"});
  }
  expect_error([] { load_llama2c_vocab("/nonexistent/tok.bin"); }, {"/nonexistent/tok.bin", "cannot open"});
}

// The gguf subsystem's llama2.c loader fills tokenizer.ggml.* from the same file.
TEST(Llama2cVocab, AgreesWithModelLoaderMetadata) {
  QES_REQUIRE_SHARED_FILE(model, "stories260K.bin");
  QES_REQUIRE_SHARED_FILE(bin, "tok512.bin");
  LoadOptions options;
  options.tokenizer_path = bin.string();
  const Vocab from_model = vocab_from_gguf(load_model_file(model.string(), options).metadata);
  const Vocab direct = load_llama2c_vocab(bin);
  EXPECT_EQ(from_model.tokens, direct.tokens);
  EXPECT_EQ(from_model.scores, direct.scores);
  EXPECT_EQ(from_model.types, direct.types);
}

TEST(LoadVocabFile, TellsFormatsApart) {
  QES_REQUIRE_SHARED_FILE(bin, "tok512.bin");
  QES_REQUIRE_SHARED_FILE(gguf_path, "stories260K-f32.gguf");
  EXPECT_EQ(load_vocab_file(bin).tokens, load_vocab_file(gguf_path).tokens);
  EXPECT_EQ(load_vocab_file(bin).source, bin.string());
  TempFile json("tokenizer.json", std::string("\n  ") + kTinyBpe);
  EXPECT_EQ(load_vocab_file(json.path()).model, VocabModel::Bpe);
  TempFile junk("junk.bin", "not a tokenizer");
  expect_error([&] { load_vocab_file(junk.path()); }, {junk.path().string()});
  expect_error([] { load_vocab_file("/nonexistent/t.json"); }, {"/nonexistent/t.json", "cannot open"});
}

TEST(GgufVocab, BadMetadata) {
  gguf::Metadata m("model.gguf");
  expect_error([&] { vocab_from_gguf(m); }, {"model.gguf", "tokenizer.ggml.model"});
  m.set("tokenizer.ggml.model", "bert");
  expect_error([&] { vocab_from_gguf(m); }, {"model.gguf", "'bert'"});
  m.set("tokenizer.ggml.model", "llama");
  m.set("tokenizer.ggml.tokens", gguf::make_string_array({"<unk>", "<s>", "</s>", "a"}));
  m.set("tokenizer.ggml.scores", gguf::make_f32_array({0, 0, 0}));
  expect_error([&] { Tokenizer t(vocab_from_gguf(m)); }, {"model.gguf", "3 scores for 4 tokens"});
  m.set("tokenizer.ggml.scores", gguf::make_f32_array({0, 0, 0, -1}));
  m.set("tokenizer.ggml.token_type", gguf::make_i32_array({2, 3, 3, 9}));
  expect_error([&] { vocab_from_gguf(m); }, {"model.gguf", "unknown type 9"});
  m.set("tokenizer.ggml.token_type", gguf::make_i32_array({2, 3, 3, 1}));
  m.set("tokenizer.ggml.bos_token_id", uint32_t{7});
  expect_error([&] { Tokenizer t(vocab_from_gguf(m)); }, {"model.gguf", "BOS token id 7"});
  m.set("tokenizer.ggml.bos_token_id", uint32_t{1});
  const Tokenizer ok(vocab_from_gguf(m));
  // "a" is a token, "b" has neither a token nor byte fallback: the unknown token stands in.
  EXPECT_EQ(ok.encode("ab", false), (std::vector<TokenId>{0, 3, 0}));

  gguf::Metadata b("gpt.gguf");
  b.set("tokenizer.ggml.model", "gpt2");
  b.set("tokenizer.ggml.tokens", gguf::make_string_array({"a", "b"}));
  expect_error([&] { vocab_from_gguf(b); }, {"gpt.gguf", "tokenizer.ggml.merges"});
  b.set("tokenizer.ggml.merges", gguf::make_string_array({"a b"}));
  b.set("tokenizer.ggml.pre", "klingon");
  expect_error([&] { vocab_from_gguf(b); }, {"gpt.gguf", "tokenizer.ggml.pre", "klingon"});
}

}  // namespace
}  // namespace qes
