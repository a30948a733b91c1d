// llama2.c's tokenizer.bin: int32 max_token_length, then until the end of the file, per token:
// float32 score, int32 byte length, the bytes. The file holds no types or special ids; llama2.c
// hard-codes <unk>=0, <s>=1 (BOS), </s>=2 (EOS) and byte tokens <0xXX>, so types follow the text.
// Its exporter writes BOS and EOS as "\n<s>\n" and "\n</s>\n" (for printing); they get their
// SentencePiece names back, as llama.cpp's convert-llama2c-to-ggml does.
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "qes/tokenizer.hpp"

namespace qes {
namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";

bool is_byte_token(std::string_view t) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
  return t.size() == 6 && t.substr(0, 3) == "<0x" && hex(t[3]) && hex(t[4]) && t[5] == '>';
}

}  // namespace

Vocab load_llama2c_vocab(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(name + ": cannot open the llama2.c tokenizer file");
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  size_t pos = 0;
  auto read_bytes = [&](void* dst, size_t n, const char* what) {
    if (data.size() - pos < n) {
      throw std::runtime_error(name + ": truncated at byte " + std::to_string(pos) + " (reading " +
                               what + ")");
    }
    std::memcpy(dst, data.data() + pos, n);
    pos += n;
  };

  int32_t max_token_length = 0;
  read_bytes(&max_token_length, 4, "max_token_length");
  if (max_token_length <= 0 || max_token_length > (1 << 16)) {
    throw std::runtime_error(name + ": max_token_length " + std::to_string(max_token_length) +
                             " is not plausible; is this a llama2.c tokenizer file?");
  }

  Vocab v;
  v.model = VocabModel::Spm;
  v.source = name;
  while (pos < data.size()) {
    const std::string token_no = "token " + std::to_string(v.tokens.size());
    float score = 0;
    int32_t len = 0;
    read_bytes(&score, 4, (token_no + " score").c_str());
    read_bytes(&len, 4, (token_no + " length").c_str());
    if (len < 0 || len > max_token_length) {
      throw std::runtime_error(name + ": " + token_no + " has length " + std::to_string(len) +
                               " (max_token_length is " + std::to_string(max_token_length) + ")");
    }
    std::string text(static_cast<size_t>(len), '\0');
    read_bytes(text.data(), text.size(), (token_no + " text").c_str());

    TokenType type = TokenType::Normal;
    if (v.tokens.empty() && text == "<unk>") {
      type = TokenType::Unknown;
    } else if (v.tokens.size() <= 2 && (text == "<s>" || text == "\n<s>\n")) {
      type = TokenType::Control;
      text = "<s>";
    } else if (v.tokens.size() <= 2 && (text == "</s>" || text == "\n</s>\n")) {
      type = TokenType::Control;
      text = "</s>";
    } else if (is_byte_token(text)) {
      type = TokenType::Byte;
    } else {
      // llama2.c's exporter turned SentencePiece's "▁" into ' '; turn it back.
      std::string escaped;
      for (char c : text) {
        if (c == ' ') {
          escaped += kSpmSpace;
        } else {
          escaped += c;
        }
      }
      text = std::move(escaped);
    }
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.types.push_back(type);
  }
  if (v.tokens.size() < 3) throw std::runtime_error(name + ": holds fewer than 3 tokens");
  v.unk = v.types[0] == TokenType::Unknown ? 0 : kNoToken;
  v.bos = 1;
  v.eos = 2;
  v.add_bos = true;
  v.add_space_prefix = true;
  return v;
}

}  // namespace qes
