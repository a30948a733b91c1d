#pragma once
// Text on both sides of the generator: prompts encoded with a tokenizer, and
// the tokenizer as the generator's TokenDecoder.
#include "qes/generate.hpp"
#include "qes/gguf.hpp"
#include "qes/model_file.hpp"
#include "qes/tokenizer.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace qes {

// The pieces of generated tokens, with SentencePiece's leading space dropped
// from the first word after BOS or a control token (as llama2.c and llama.cpp
// print it). Bytes are passed through: a multi-byte character may arrive in
// two pieces; sanitize_utf8() the final text where valid UTF-8 is required.
class TokenizerDecoder : public TokenDecoder {
 public:
  explicit TokenizerDecoder(const Tokenizer& tokenizer) : tok_(tokenizer) {}
  std::string piece(int32_t previous, int32_t token) const override;

 private:
  const Tokenizer& tok_;
};

// Prompt token ids for `text`: BOS as the vocabulary asks (and always at least
// one token: an empty text gives just BOS).
std::vector<int32_t> encode_prompt(const Tokenizer& tokenizer, std::string_view text);

// A model file, the model over it and its tokenizer: what a command or the
// trainer needs to turn prompts into texts.
struct ModelBundle {
  ModelFile file;
  Model model;                           // its config's extra_eos_ids hold the tokenizer's end-of-turn tokens
  std::unique_ptr<Tokenizer> tokenizer;  // null when there is no vocabulary and none was required
};

// tokenizer_path: a llama2.c tokenizer .bin (also what a llama2.c checkpoint is
// loaded with), a Hugging Face tokenizer.json, or a GGUF whose metadata holds a
// vocabulary; empty = the model file's own vocabulary. Throws naming the file.
// map_mode CopyOnWrite lets the trainer change codes in place (the file is never written).
ModelBundle load_model_bundle(const std::string& model_path, const std::string& tokenizer_path = "",
                              bool need_tokenizer = true, gguf::MapMode map_mode = gguf::MapMode::ReadOnly);

std::string format_bytes(size_t bytes);  // "123.4 MiB"

}  // namespace qes
