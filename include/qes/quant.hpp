#pragma once
// Quantized weight formats and code access by logical index.
//
// Block layouts are byte-compatible with GGUF (ggml) Q4_0, Q4_1 and Q8_0: 32
// weights per block. I4_G32/64/128 is our GPTQ-style group-wise asymmetric INT4
// (per-group fp16 scale and integer zero point); it is an in-memory format for
// the GPTQ import and is never written to GGUF.
//
// Rows whose length is not a multiple of the block (or group) size cannot be
// stored in a block type; such tensors stay in a float type (F32/F16/BF16),
// exactly as llama.cpp's quantizer does (stories260K's ffn_down, 172 columns).
//
// The optimizer sees weights only through integer codes: code(row, col) in
// [code_min(type), code_max(type)]. The stored value is
//   Q4_0: (code - 8) * d          code in [0, 15]
//   Q4_1: code * d + m            code in [0, 15]
//   Q8_0: code * d                code in [-128, 127]
//   I4_G: (code - zero) * scale   code in [0, 15]
// Memory layout (and any repacking a kernel does) never leaks past this API.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace qes {

// Values are ggml's type ids where ggml has the type (GGUF stores these).
enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q8_0 = 8,
  BF16 = 30,
  I4_G32 = 1000,
  I4_G64 = 1001,
  I4_G128 = 1002,
};

inline constexpr int kBlock = 32;  // weights per Q4_0 / Q4_1 / Q8_0 block

// Nibble order inside a 32-weight block (Q4_0, Q4_1, and each 32-weight
// sub-block of an I4 group): weight j < 16 is the low nibble of qs[j], weight
// j + 16 the high nibble of qs[j]. Half-precision fields are IEEE fp16 bits.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[16];
};
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[16];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[32];
};
static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ8_0) == 34);

// One group of an I4_G<group> row: header then group/2 bytes of nibbles.
struct GroupI4Header {
  uint16_t scale;  // fp16
  uint8_t zero;    // integer zero point, 0..15
  uint8_t unused;
};
static_assert(sizeof(GroupI4Header) == 4);

std::string_view dtype_name(DType t);       // "q4_0", "f32", "i4_g64", ...
bool dtype_from_name(std::string_view name, DType* out);
bool is_quantized(DType t);                  // has integer codes
int block_size(DType t);                     // weights per block/group; 1 for float types
size_t block_bytes(DType t);                 // bytes per block (float types: bytes per element)
size_t row_bytes(DType t, int64_t cols);     // cols must be a multiple of block_size(t)
int code_min(DType t);
int code_max(DType t);
int code_bits(DType t);                      // 4 or 8

// fp16 / bf16 <-> fp32 (round to nearest even, like ggml's reference conversion).
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);
float bf16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f);

// Quantize one row of `cols` floats (a multiple of block_size(t)) into `dst`
// with the same rounding rules as ggml's reference quantizers, so the same
// input gives the same bytes. Float types convert.
void quantize_row(DType t, const float* src, void* dst, int64_t cols);
void dequantize_row(DType t, const void* src, float* dst, int64_t cols);

// A 2-D view of a weight matrix (rows x cols, row-major rows of blocks), which
// may point into a memory-mapped file. Higher-dimensional tensors are viewed
// with rows = product of the outer dimensions.
struct QuantMatrix {
  DType type = DType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  void* data = nullptr;

  size_t row_stride() const { return row_bytes(type, cols); }
  size_t size_bytes() const { return row_stride() * static_cast<size_t>(rows); }
  const uint8_t* row_ptr(int64_t r) const { return static_cast<const uint8_t*>(data) + r * row_stride(); }
  uint8_t* row_ptr(int64_t r) { return static_cast<uint8_t*>(data) + r * row_stride(); }
};

// Code access by logical index, whatever the layout. Only for quantized types.
int get_code(const QuantMatrix& m, int64_t row, int64_t col);
void set_code(QuantMatrix& m, int64_t row, int64_t col, int code);
// Bulk forms for tiles: n consecutive codes of one row starting at col.
void read_codes(const QuantMatrix& m, int64_t row, int64_t col, int64_t n, int16_t* out);
void write_codes(QuantMatrix& m, int64_t row, int64_t col, int64_t n, const int16_t* in);

}  // namespace qes
