#include "byte_level.hpp"

#include <array>
#include <cstdint>

#include "utf8.hpp"

namespace qes::byte_level {
namespace {

bool maps_to_itself(int b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct Tables {
  std::array<std::string, 256> byte_to_text;
  std::array<int16_t, 0x144> codepoint_to_byte;  // every mapped code point is below U+0144

  Tables() {
    codepoint_to_byte.fill(-1);
    int next_shifted = 0x100;
    for (int b = 0; b < 256; ++b) {
      const uint32_t cp = maps_to_itself(b) ? b : next_shifted++;
      utf8::append_codepoint(byte_to_text[b], cp);
      codepoint_to_byte[cp] = static_cast<int16_t>(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

// Decodes one (valid) UTF-8 character of length n.
uint32_t codepoint_at(std::string_view s, size_t pos, size_t n) {
  const auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(s[pos + i])); };
  switch (n) {
    case 1: return b(0);
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

}  // namespace

std::string_view encode_byte(unsigned char b) { return tables().byte_to_text[b]; }

std::string decode(std::string_view text) {
  const Tables& t = tables();
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t n = utf8::valid_sequence_length(text, pos);
    if (n == 0) {  // not UTF-8 at all: pass the byte through
      out += text[pos++];
      continue;
    }
    const uint32_t cp = codepoint_at(text, pos, n);
    if (cp < t.codepoint_to_byte.size() && t.codepoint_to_byte[cp] >= 0) {
      out += static_cast<char>(t.codepoint_to_byte[cp]);
    } else {
      out.append(text.substr(pos, n));
    }
    pos += n;
  }
  return out;
}

}  // namespace qes::byte_level
