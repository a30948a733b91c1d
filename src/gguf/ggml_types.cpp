// The ggml tensor types by id, with their block geometry. Every type is listed
// (not only the ones qes computes with) so that any GGUF file's tensor sizes and
// offsets can be validated and its tensors named in errors. Ids missing here were
// removed from ggml (Q4_2, Q4_3, the Q4_0_4_4-style repacks), so no file written
// by a current ggml uses them.
#include <string>

#include "qes/gguf.hpp"

namespace qes::gguf {
namespace {

constexpr GgmlTypeInfo kTypes[] = {
    {0, "f32", 1, 4},
    {1, "f16", 1, 2},
    {2, "q4_0", 32, 18},
    {3, "q4_1", 32, 20},
    {6, "q5_0", 32, 22},
    {7, "q5_1", 32, 24},
    {8, "q8_0", 32, 34},
    {9, "q8_1", 32, 36},
    {10, "q2_K", 256, 84},
    {11, "q3_K", 256, 110},
    {12, "q4_K", 256, 144},
    {13, "q5_K", 256, 176},
    {14, "q6_K", 256, 210},
    {15, "q8_K", 256, 292},
    {16, "iq2_xxs", 256, 66},
    {17, "iq2_xs", 256, 74},
    {18, "iq3_xxs", 256, 98},
    {19, "iq1_s", 256, 50},
    {20, "iq4_nl", 32, 18},
    {21, "iq3_s", 256, 110},
    {22, "iq2_s", 256, 82},
    {23, "iq4_xs", 256, 136},
    {24, "i8", 1, 1},
    {25, "i16", 1, 2},
    {26, "i32", 1, 4},
    {27, "i64", 1, 8},
    {28, "f64", 1, 8},
    {29, "iq1_m", 256, 56},
    {30, "bf16", 1, 2},
    {34, "tq1_0", 256, 54},
    {35, "tq2_0", 256, 66},
    {39, "mxfp4", 32, 17},
};

}  // namespace

const GgmlTypeInfo* ggml_type_info(uint32_t id) {
  for (const auto& t : kTypes)
    if (t.id == id) return &t;
  return nullptr;
}

std::string ggml_type_name(uint32_t id) {
  const GgmlTypeInfo* t = ggml_type_info(id);
  return t ? std::string(t->name) : "unknown type " + std::to_string(id);
}

bool is_supported_type(uint32_t id) {
  switch (id) {
    case static_cast<uint32_t>(DType::F32):
    case static_cast<uint32_t>(DType::F16):
    case static_cast<uint32_t>(DType::BF16):
    case static_cast<uint32_t>(DType::Q4_0):
    case static_cast<uint32_t>(DType::Q4_1):
    case static_cast<uint32_t>(DType::Q8_0):
      return true;
    default:
      return false;
  }
}

}  // namespace qes::gguf
