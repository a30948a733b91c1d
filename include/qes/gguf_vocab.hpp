#pragma once
// The tokenizer vocabulary stored in a model's metadata (tokenizer.ggml.* keys, as llama.cpp
// writes them in GGUF files and as the llama2.c loader fills them in).
#include "qes/gguf.hpp"
#include "qes/tokenizer.hpp"

namespace qes {

// Reads tokenizer.ggml.{model, pre, tokens, scores, token_type, merges, bos/eos/unk/pad/eot ids,
// add_bos_token, add_eos_token, add_space_prefix} and tokenizer.chat_template. Defaults where a
// key is absent are llama.cpp's. Throws std::runtime_error naming the file and the key.
Vocab vocab_from_gguf(const gguf::Metadata& meta);

// A vocabulary from any file qes reads one from, told apart by content: a GGUF file (its
// tokenizer.ggml.* metadata), a Hugging Face tokenizer.json, or a llama2.c tokenizer .bin.
// For `--tokenizer FILE` options.
Vocab load_vocab_file(const std::filesystem::path& path);

}  // namespace qes
