#include "qes/generate_text.hpp"

#include "qes/gguf.hpp"
#include "qes/gguf_vocab.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace qes {

static bool ends_with(const std::string& s, const char* suffix) {
  const std::string x(suffix);
  return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

ModelBundle load_model_bundle(const std::string& model_path, const std::string& tokenizer_path, bool need_tokenizer,
                              gguf::MapMode map_mode) {
  ModelBundle s;
  LoadOptions options;
  options.map_mode = map_mode;
  // llama2.c checkpoints take their vocabulary from the tokenizer file.
  if (ends_with(tokenizer_path, ".bin")) options.tokenizer_path = tokenizer_path;
  s.file = load_model_file(model_path, options);
  s.model = build_model(s.file);

  Vocab vocab;
  bool have_vocab = true;
  if (tokenizer_path.empty()) {
    have_vocab = s.file.metadata.has("tokenizer.ggml.tokens");
    if (have_vocab) vocab = vocab_from_gguf(s.file.metadata);
  } else {
    vocab = load_vocab_file(tokenizer_path);  // GGUF, tokenizer.json or llama2.c .bin, by content
  }
  if (have_vocab) {
    if (static_cast<int>(vocab.tokens.size()) > s.model.config.vocab_size)
      throw std::runtime_error(vocab.source + ": the vocabulary has " + std::to_string(vocab.tokens.size()) +
                               " tokens, more than the " + std::to_string(s.model.config.vocab_size) + " rows of " +
                               model_path + "'s embedding");
    s.tokenizer = std::make_unique<Tokenizer>(std::move(vocab));
    // The tokenizer knows the end-of-turn tokens of chat vocabularies.
    for (int32_t id = 0; id < s.tokenizer->n_tokens(); id++)
      if (s.tokenizer->is_end_of_generation(id) && id != s.model.config.eos_id) {
        auto& extra = s.model.config.extra_eos_ids;
        if (std::find(extra.begin(), extra.end(), id) == extra.end()) extra.push_back(id);
      }
  } else if (need_tokenizer) {
    throw std::runtime_error(model_path + ": the file has no vocabulary (tokenizer.ggml.tokens); give --tokenizer");
  }
  return s;
}

std::string format_bytes(size_t bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

}  // namespace qes
