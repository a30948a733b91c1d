#pragma once
// GPT-2's byte-to-unicode table: byte-level BPE vocabularies spell every byte as a printable
// character (printable ASCII and Latin-1 stay themselves, the rest move to U+0100..U+0143),
// so " the" is stored as "Ġthe".
#include <string>
#include <string_view>

namespace qes::byte_level {

// The UTF-8 spelling of byte b in a byte-level vocabulary.
std::string_view encode_byte(unsigned char b);

// Inverse: the bytes a vocabulary token stands for. Characters outside the table are kept as
// their own UTF-8 (added tokens written in plain text).
std::string decode(std::string_view token_text);

}  // namespace qes::byte_level
