#pragma once
// Tokenizers: SentencePiece-style (llama "SPM") and byte-level BPE (gpt2, qwen2, ...),
// with the semantics of llama.cpp, which its test vectors check.
//
// A Vocab is plain data (tokens, scores, types, merges, special ids, flags). It comes from
// GGUF metadata (vocab_from_gguf, gguf_vocab.hpp), a Hugging Face tokenizer.json or a llama2.c
// tokenizer .bin. A Tokenizer is built once from a Vocab; encode/decode are const and may be
// called from many threads at once.
//
// Encoding a prompt for a chat model: render the conversation with chat_template.hpp, then
// encode(text, /*add_special=*/false, /*parse_special=*/true) so that "<|im_start|>" or "<s>"
// in the text become their single control tokens.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qes {

using TokenId = int32_t;
inline constexpr TokenId kNoToken = -1;

// Values are llama.cpp's / GGUF's tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,       // BOS, EOS, <|im_start|>: only produced from text when parse_special
  UserDefined = 4,   // always split out of the text before tokenizing the rest
  Unused = 5,
  Byte = 6,          // SPM byte fallback <0xXX>
};

enum class VocabModel {
  Spm,  // tokenizer.ggml.model "llama": scores, "▁" for spaces, byte fallback
  Bpe,  // tokenizer.ggml.model "gpt2": byte-level BPE with ranked merges
};

struct Vocab {
  VocabModel model = VocabModel::Spm;
  // Pre-tokenizer for BPE: llama.cpp's tokenizer.ggml.pre name ("gpt-2", "qwen2", "llama-bpe",
  // "smollm", "default"). pre_regexes, when not empty, is used instead (tokenizer.json's Split
  // patterns), applied one after the other, each splitting the pieces of the previous one.
  std::string pre = "default";
  std::vector<std::string> pre_regexes;

  std::vector<std::string> tokens;  // as stored: "▁" for spaces (SPM), byte-level chars (BPE)
  std::vector<float> scores;        // SPM merge priority; may be empty for BPE
  std::vector<TokenType> types;     // empty means all Normal
  std::vector<std::pair<std::string, std::string>> merges;  // BPE, in rank order

  TokenId bos = kNoToken, eos = kNoToken, unk = kNoToken, pad = kNoToken, eot = kNoToken;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = true;  // SPM: " " before the text (and after each special token)
  bool ignore_merges = false;    // BPE: a word that is a token is taken whole (llama-3)
  std::string chat_template;     // Jinja source from metadata, if any (chat_template.hpp reads it)
  std::string source;            // where it came from, for error messages
};

// llama2.c's tokenizer file (tok512.bin): int32 max_token_length, then per token float32 score,
// int32 length, bytes. Its pieces use ' ' where SentencePiece has "▁"; they are converted back.
Vocab load_llama2c_vocab(const std::filesystem::path& path);

// Hugging Face tokenizer.json (byte-level BPE model, added_tokens, Split/ByteLevel
// pre-tokenizers). tokenizer_config.json, if given (or found beside it as tokenizer_config.json
// or <stem>_config.json), supplies bos/eos/add_bos and the chat template.
Vocab load_hf_tokenizer(const std::filesystem::path& tokenizer_json,
                        const std::filesystem::path& tokenizer_config = {});

class Tokenizer {
 public:
  explicit Tokenizer(Vocab vocab);  // validates; throws std::runtime_error naming vocab.source
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // add_special: BOS/EOS as the vocab asks (add_bos/add_eos). parse_special: control tokens
  // written in the text ("<|im_end|>") become those tokens; user-defined tokens always do.
  std::vector<TokenId> encode(std::string_view text, bool add_special = true,
                              bool parse_special = false) const;
  void encode_append(std::string_view text, std::vector<TokenId>& out, bool add_special = true,
                     bool parse_special = false) const;

  // Bytes of one token (may be a partial UTF-8 sequence). Control tokens give "" unless
  // render_special. No leading-space handling: see decode and StreamDecoder.
  std::string_view token_to_piece(TokenId id, bool render_special = false) const;

  // Inverse of encode: the concatenated bytes. For SPM with add_space_prefix, the space that
  // encoding put in front of the text (at the start and after each special token) is removed.
  // To decode a continuation (generated tokens without their prompt), pass the last prompt
  // token as `previous`: the first piece then keeps its space unless `previous` is special.
  // Throws std::out_of_range for an id outside the vocabulary.
  std::string decode(std::span<const TokenId> ids, bool render_special = false,
                     TokenId previous = kNoToken) const;

  const Vocab& vocab() const;
  int32_t n_tokens() const;
  TokenId bos() const;
  TokenId eos() const;
  TokenType type(TokenId id) const;
  bool is_special(TokenId id) const;  // Control, UserDefined or Unknown
  // EOS, EOT and the usual end-of-turn tokens present in the vocab (<|im_end|>, <|endoftext|>...)
  bool is_end_of_generation(TokenId id) const;
  std::optional<TokenId> find(std::string_view token_text) const;

  struct Impl;  // lookup tables and encoders: src/tokenizer/tokenizer_impl.hpp

 private:
  std::unique_ptr<Impl> impl_;
};

// Turns generated tokens into text as they come (the Tokenizer must outlive it and not move):
// holds back an incomplete UTF-8 sequence until its last byte arrives, replaces bytes that can
// never become valid UTF-8 with U+FFFD, and drops the leading space of the first word after BOS
// (or at the start), as llama2.c does.
class StreamDecoder {
 public:
  // previous: the token before the first one pushed (the prompt's last), as in decode().
  explicit StreamDecoder(const Tokenizer& tokenizer, bool render_special = false,
                         TokenId previous = kNoToken);
  std::string push(TokenId id);  // text completed by this token (may be empty)
  std::string finish();          // whatever is held back, invalid bytes as U+FFFD
  void reset(TokenId previous = kNoToken);

 private:
  const Tokenizer* tok_;
  bool render_special_;
  bool at_word_start_ = true;  // next SPM piece follows BOS/special/start: strip its space
  std::string pending_;        // bytes of an incomplete UTF-8 sequence
};

// Replaces every byte that is not part of a valid UTF-8 sequence with U+FFFD.
std::string sanitize_utf8(std::string_view bytes);

}  // namespace qes
