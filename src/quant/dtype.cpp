// Metadata of the weight types: names, block sizes and byte sizes, code ranges.
#include <stdexcept>
#include <string>

#include "qes/quant.hpp"

namespace qes {

namespace {
struct DTypeInfo {
  DType type;
  std::string_view name;
  int block;           // weights per block (1 for float types)
  size_t bytes;        // bytes per block
  int cmin, cmax, bits;
};

constexpr DTypeInfo kInfo[] = {
    {DType::F32, "f32", 1, 4, 0, 0, 0},
    {DType::F16, "f16", 1, 2, 0, 0, 0},
    {DType::BF16, "bf16", 1, 2, 0, 0, 0},
    {DType::Q4_0, "q4_0", 32, sizeof(BlockQ4_0), 0, 15, 4},
    {DType::Q4_1, "q4_1", 32, sizeof(BlockQ4_1), 0, 15, 4},
    {DType::Q8_0, "q8_0", 32, sizeof(BlockQ8_0), -128, 127, 8},
    {DType::I4_G32, "i4_g32", 32, sizeof(GroupI4Header) + 16, 0, 15, 4},
    {DType::I4_G64, "i4_g64", 64, sizeof(GroupI4Header) + 32, 0, 15, 4},
    {DType::I4_G128, "i4_g128", 128, sizeof(GroupI4Header) + 64, 0, 15, 4},
};

const DTypeInfo& info(DType t) {
  for (const auto& i : kInfo)
    if (i.type == t) return i;
  throw std::invalid_argument("unknown weight type id " + std::to_string(static_cast<uint32_t>(t)));
}
}  // namespace

std::string_view dtype_name(DType t) { return info(t).name; }

bool dtype_from_name(std::string_view name, DType* out) {
  for (const auto& i : kInfo) {
    if (i.name == name) {
      *out = i.type;
      return true;
    }
  }
  return false;
}

bool is_quantized(DType t) { return info(t).bits != 0; }
int block_size(DType t) { return info(t).block; }
size_t block_bytes(DType t) { return info(t).bytes; }

size_t row_bytes(DType t, int64_t cols) {
  const DTypeInfo& i = info(t);
  if (cols < 0 || cols % i.block != 0)
    throw std::invalid_argument("row of " + std::to_string(cols) + " columns is not a multiple of the " +
                                std::string(i.name) + " block size " + std::to_string(i.block));
  return static_cast<size_t>(cols / i.block) * i.bytes;
}

int code_min(DType t) { return info(t).cmin; }
int code_max(DType t) { return info(t).cmax; }
int code_bits(DType t) { return info(t).bits; }

}  // namespace qes
