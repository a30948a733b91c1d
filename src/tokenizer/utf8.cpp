#include "utf8.hpp"

#include "qes/tokenizer.hpp"

namespace qes::utf8 {
namespace {

// Expected sequence length from the lead byte, 0 for bytes that cannot start one.
size_t lead_length(uint8_t b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;  // continuation byte, C0/C1 (overlong), F5..FF
}

// Range allowed for the second byte; it excludes overlongs, surrogates and > U+10FFFF.
bool second_byte_ok(uint8_t lead, uint8_t b) {
  switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return b >= 0x80 && b <= 0xBF;
  }
}

bool is_continuation(uint8_t b) { return (b & 0xC0) == 0x80; }

// Number of bytes from pos that agree with a valid sequence (may be fewer than it needs).
size_t matching_prefix(std::string_view s, size_t pos, size_t need) {
  const auto lead = static_cast<uint8_t>(s[pos]);
  size_t k = 1;
  while (k < need && pos + k < s.size()) {
    const auto b = static_cast<uint8_t>(s[pos + k]);
    if (k == 1 ? !second_byte_ok(lead, b) : !is_continuation(b)) break;
    ++k;
  }
  return k;
}

}  // namespace

size_t valid_sequence_length(std::string_view s, size_t pos) {
  const size_t need = lead_length(static_cast<uint8_t>(s[pos]));
  if (need <= 1) return need;
  return matching_prefix(s, pos, need) == need ? need : 0;
}

size_t invalid_sequence_length(std::string_view s, size_t pos) {
  const size_t need = lead_length(static_cast<uint8_t>(s[pos]));
  return need <= 1 ? 1 : matching_prefix(s, pos, need);
}

size_t incomplete_tail_length(std::string_view s) {
  // An incomplete sequence is at most 3 bytes long, so its lead is among the last 3 bytes.
  const size_t first = s.size() >= 3 ? s.size() - 3 : 0;
  for (size_t pos = s.size(); pos-- > first;) {
    const size_t need = lead_length(static_cast<uint8_t>(s[pos]));
    if (need == 0) continue;  // continuation byte: keep looking for the lead
    const size_t have = s.size() - pos;
    if (need > have && matching_prefix(s, pos, need) == have) return have;
    return 0;
  }
  return 0;
}

void append_codepoint(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace qes::utf8

namespace qes {

std::string sanitize_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t n = utf8::valid_sequence_length(bytes, pos);
    if (n == 0) {
      out += utf8::kReplacementChar;
      pos += utf8::invalid_sequence_length(bytes, pos);
    } else {
      out.append(bytes.substr(pos, n));
      pos += n;
    }
  }
  return out;
}

}  // namespace qes
