// Integer code access by logical index (row, col). The optimizer sees weights
// only through these functions, so a kernel may change the memory layout
// (e.g. repack rows) by changing only this file.
#include <cstring>
#include <stdexcept>
#include <string>

#include "qes/quant.hpp"

namespace qes {

namespace {

// Where a code lives: the byte and, for 4-bit types, which nibble.
struct CodeSlot {
  uint8_t* byte;
  bool high_nibble;
};

// Position of weight k (0..31) of a 32-weight sub-block inside its 16 bytes
// of nibbles: the first 16 weights are low nibbles, the next 16 high nibbles.
CodeSlot nibble_slot(uint8_t* qs, int k) { return {qs + (k % 16), k >= 16}; }

void check_index(const QuantMatrix& m, int64_t row, int64_t col, int64_t n) {
  if (!is_quantized(m.type))
    throw std::invalid_argument("code access on a " + std::string(dtype_name(m.type)) +
                                " tensor: only quantized tensors have integer codes");
  if (row < 0 || row >= m.rows || col < 0 || n < 0 || col + n > m.cols)
    throw std::out_of_range("code index (" + std::to_string(row) + ", " + std::to_string(col) + ") + " +
                            std::to_string(n) + " outside a " + std::to_string(m.rows) + "x" +
                            std::to_string(m.cols) + " tensor");
}

CodeSlot slot(const QuantMatrix& m, int64_t row, int64_t col) {
  uint8_t* r = const_cast<uint8_t*>(m.row_ptr(row));
  const int64_t blk = col / block_size(m.type);
  const int k = static_cast<int>(col % block_size(m.type));
  uint8_t* b = r + blk * block_bytes(m.type);
  switch (m.type) {
    case DType::Q4_0:
      return nibble_slot(b + offsetof(BlockQ4_0, qs), k);
    case DType::Q4_1:
      return nibble_slot(b + offsetof(BlockQ4_1, qs), k);
    case DType::Q8_0:
      return {b + offsetof(BlockQ8_0, qs) + k, false};
    case DType::I4_G32:
    case DType::I4_G64:
    case DType::I4_G128:
      return nibble_slot(b + sizeof(GroupI4Header) + (k / kBlock) * 16, k % kBlock);
    default:
      throw std::invalid_argument("no integer codes in type " + std::string(dtype_name(m.type)));
  }
}

int load(DType t, CodeSlot s) {
  if (t == DType::Q8_0) return static_cast<int8_t>(*s.byte);
  return s.high_nibble ? (*s.byte >> 4) : (*s.byte & 0x0f);
}

void check_code(DType t, int code) {
  if (code < code_min(t) || code > code_max(t))
    throw std::out_of_range("code " + std::to_string(code) + " outside the " + std::string(dtype_name(t)) +
                            " range [" + std::to_string(code_min(t)) + ", " + std::to_string(code_max(t)) + "]");
}

void store(DType t, CodeSlot s, int code) {
  check_code(t, code);
  if (t == DType::Q8_0) {
    *s.byte = static_cast<uint8_t>(static_cast<int8_t>(code));
  } else if (s.high_nibble) {
    *s.byte = static_cast<uint8_t>((*s.byte & 0x0f) | (code << 4));
  } else {
    *s.byte = static_cast<uint8_t>((*s.byte & 0xf0) | code);
  }
}

}  // namespace

int get_code(const QuantMatrix& m, int64_t row, int64_t col) {
  check_index(m, row, col, 1);
  return load(m.type, slot(m, row, col));
}

void set_code(QuantMatrix& m, int64_t row, int64_t col, int code) {
  check_index(m, row, col, 1);
  store(m.type, slot(m, row, col), code);
}

void read_codes(const QuantMatrix& m, int64_t row, int64_t col, int64_t n, int16_t* out) {
  check_index(m, row, col, n);
  for (int64_t i = 0; i < n; i++) out[i] = static_cast<int16_t>(load(m.type, slot(m, row, col + i)));
}

void write_codes(QuantMatrix& m, int64_t row, int64_t col, int64_t n, const int16_t* in) {
  check_index(m, row, col, n);
  // Validate every code first so a bad one leaves the tensor untouched.
  for (int64_t i = 0; i < n; i++) check_code(m.type, in[i]);
  for (int64_t i = 0; i < n; i++) store(m.type, slot(m, row, col + i), in[i]);
}

}  // namespace qes
