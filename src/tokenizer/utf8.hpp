#pragma once
// UTF-8 helpers shared by the tokenizers and decoders.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace qes::utf8 {

// Length of the valid UTF-8 sequence starting at s[pos] (1..4), or 0 when the bytes there are
// not a valid sequence (stray continuation byte, overlong form, surrogate, truncated sequence).
size_t valid_sequence_length(std::string_view s, size_t pos);

// Where valid_sequence_length is 0: how many bytes from pos form one "maximal subpart" (a lead
// byte and the continuation bytes that still agree with it), replaced by one U+FFFD as Unicode
// recommends and as Python's errors="replace" does.
size_t invalid_sequence_length(std::string_view s, size_t pos);

// How the tail of s ends: the number of bytes at the end that begin a valid sequence which is
// still missing its last bytes (0 when s ends on a complete character or on invalid bytes).
size_t incomplete_tail_length(std::string_view s);

void append_codepoint(std::string& out, uint32_t cp);

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace qes::utf8
