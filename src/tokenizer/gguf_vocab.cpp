#include "qes/gguf_vocab.hpp"

#include <fstream>
#include <stdexcept>

#include "qes/model_file.hpp"

#include "pretokenizer.hpp"

namespace qes {
namespace {

// Special token ids: 0xFFFFFFFF ("none", as GGUF writers store it) gives kNoToken; an absent
// key gives the fallback if the vocabulary is that large.
TokenId token_id(const gguf::Metadata& meta, const char* key, TokenId fallback, size_t n_tokens) {
  if (!meta.has(key)) return fallback < static_cast<int64_t>(n_tokens) ? fallback : kNoToken;
  const int64_t id = meta.get_i64(key);
  return (id < 0 || id == 0xFFFFFFFFLL) ? kNoToken : static_cast<TokenId>(id);
}

bool flag(const gguf::Metadata& meta, const char* key, bool fallback) {
  return meta.has(key) ? meta.get_bool(key) : fallback;
}

}  // namespace

Vocab vocab_from_gguf(const gguf::Metadata& meta) {
  Vocab v;
  v.source = meta.source();
  const std::string model = meta.get_string("tokenizer.ggml.model");
  if (model == "llama") {
    v.model = VocabModel::Spm;
  } else if (model == "gpt2") {
    v.model = VocabModel::Bpe;
  } else {
    throw std::runtime_error(meta.source() + ": tokenizer.ggml.model '" + model +
                             "' is not supported (qes reads 'llama' and 'gpt2')");
  }
  const bool spm = v.model == VocabModel::Spm;

  v.tokens = meta.get_string_array("tokenizer.ggml.tokens");
  if (meta.has("tokenizer.ggml.scores")) v.scores = meta.get_f32_array("tokenizer.ggml.scores");
  if (meta.has("tokenizer.ggml.token_type")) {
    for (int32_t t : meta.get_i32_array("tokenizer.ggml.token_type")) {
      if (t < 0 || t > static_cast<int32_t>(TokenType::Byte)) {
        throw std::runtime_error(meta.source() + ": tokenizer.ggml.token_type: unknown type " +
                                 std::to_string(t) + " at index " + std::to_string(v.types.size()));
      }
      v.types.push_back(static_cast<TokenType>(t));
    }
  }
  if (!spm) {
    if (!meta.has("tokenizer.ggml.merges")) {
      throw std::runtime_error(meta.source() + ": tokenizer.ggml.merges is missing (needed by a gpt2 vocabulary)");
    }
    const auto merges = meta.get_string_array("tokenizer.ggml.merges");
    v.merges.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      const std::string& m = merges[i];
      const size_t space = m.find(' ', 1);
      if (space == std::string::npos) {
        throw std::runtime_error(meta.source() + ": tokenizer.ggml.merges[" + std::to_string(i) +
                                 "] '" + m + "' is not two tokens separated by a space");
      }
      v.merges.emplace_back(m.substr(0, space), m.substr(space + 1));
    }
    v.pre = meta.get_string_or("tokenizer.ggml.pre", "default");
    try {
      pre_tokenizer_patterns(v.pre);  // fail here, naming the key, if qes does not know it
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(meta.source() + ": tokenizer.ggml.pre: " + e.what());
    }
    v.ignore_merges = v.pre == "llama3" || v.pre == "llama-v3" || v.pre == "llama-bpe" || v.pre == "falcon3";
  }

  // llama.cpp's defaults for SPM vocabularies written without these keys.
  const size_t n = v.tokens.size();
  v.bos = token_id(meta, "tokenizer.ggml.bos_token_id", spm ? 1 : kNoToken, n);
  v.eos = token_id(meta, "tokenizer.ggml.eos_token_id", spm ? 2 : kNoToken, n);
  v.unk = token_id(meta, "tokenizer.ggml.unknown_token_id", spm ? 0 : kNoToken, n);
  v.pad = token_id(meta, "tokenizer.ggml.padding_token_id", kNoToken, n);
  v.eot = token_id(meta, "tokenizer.ggml.eot_token_id", kNoToken, n);
  v.add_bos = flag(meta, "tokenizer.ggml.add_bos_token", spm);
  v.add_eos = flag(meta, "tokenizer.ggml.add_eos_token", false);
  v.add_space_prefix = flag(meta, "tokenizer.ggml.add_space_prefix", spm);
  v.chat_template = meta.get_string_or("tokenizer.chat_template", "");
  return v;
}

Vocab load_vocab_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot open the tokenizer file");
  char head[4] = {};
  in.read(head, sizeof head);
  if (in.gcount() == 4 && std::string_view(head, 4) == "GGUF") {
    return vocab_from_gguf(gguf::read_gguf(path.string()).metadata);
  }
  in.clear();
  in.seekg(0);
  char c = 0;
  while (in.get(c) && (c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
  }
  if (c == '{') return load_hf_tokenizer(path);
  return load_llama2c_vocab(path);
}

}  // namespace qes
