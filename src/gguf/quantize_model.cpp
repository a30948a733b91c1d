// `qes quantize`: float GGUF / llama2.c model -> Q4_0 / Q4_1 / Q8_0 (or float) GGUF.
#include "qes/quantize_model.hpp"

#include <algorithm>
#include <cstring>

#include "qes/gguf.hpp"
#include "row_emitter.hpp"

namespace qes {
namespace {

bool is_target_type(DType t) {
  return t == DType::Q4_0 || t == DType::Q4_1 || t == DType::Q8_0 || t == DType::F32 || t == DType::F16 ||
         t == DType::BF16;
}

}  // namespace

uint32_t llama_file_type(DType t) {
  switch (t) {
    case DType::F32: return 0;   // LLAMA_FTYPE_ALL_F32
    case DType::F16: return 1;   // LLAMA_FTYPE_MOSTLY_F16
    case DType::Q4_0: return 2;  // LLAMA_FTYPE_MOSTLY_Q4_0
    case DType::Q4_1: return 3;  // LLAMA_FTYPE_MOSTLY_Q4_1
    case DType::Q8_0: return 7;  // LLAMA_FTYPE_MOSTLY_Q8_0
    case DType::BF16: return 32; // LLAMA_FTYPE_MOSTLY_BF16
    default: throw std::invalid_argument("no llama.cpp file type for " + std::string(dtype_name(t)));
  }
}

TensorDecision choose_tensor_type(const TensorView& t, const QuantizeOptions& options, bool tied_output) {
  const DType from = t.dtype();  // throws "unsupported tensor type X in tensor Y of file Z"
  const bool to_blocks = is_quantized(options.type);
  if (is_quantized(from) && to_blocks && from != options.type)
    throw gguf::FormatError(t.file + ": tensor '" + t.name + "' is already " + gguf::ggml_type_name(t.type) +
                            "; re-quantizing to " + std::string(dtype_name(options.type)) +
                            " would compound the rounding: start from the F32/F16/BF16 model");
  TensorDecision d{t.name, t.type, DType::F32, ""};
  if (t.dims.size() < 2) {
    d.reason = "1-D (norm or bias): F32";
    return d;
  }
  if (!to_blocks) {
    d.to = options.type;
    d.reason = "converted";
    return d;
  }
  if (t.cols() % kBlock != 0) {
    d.to = from;
    d.reason = "row length " + std::to_string(t.cols()) + " is not a multiple of 32: kept " + std::string(dtype_name(from));
    return d;
  }
  if (is_quantized(from)) {
    d.to = from;
    d.reason = "already " + std::string(dtype_name(from));
    return d;
  }
  const bool is_output = t.name == "output.weight" || (tied_output && t.name == "token_embd.weight");
  if (is_output && !options.pure && options.type != DType::Q8_0) {
    d.to = DType::Q8_0;
    d.reason = "output projection: q8_0 (llama.cpp uses q6_K here)";
    return d;
  }
  d.to = options.type;
  d.reason = "quantized";
  return d;
}

std::vector<TensorDecision> quantize_model(const ModelFile& in, const std::string& out_path,
                                           const QuantizeOptions& options) {
  if (!is_target_type(options.type))
    throw std::invalid_argument("quantize: target type must be q4_0, q4_1, q8_0, f32, f16 or bf16, not " +
                                std::string(dtype_name(options.type)));
  const bool tied = in.find("token_embd.weight") && !in.find("output.weight");
  std::vector<TensorDecision> decisions;
  std::vector<gguf::OutTensor> out;
  for (const auto& t : in.tensors) {
    TensorDecision d = choose_tensor_type(t, options, tied);
    gguf::OutTensor o{t.name, static_cast<uint32_t>(d.to), t.dims, nullptr, {}};
    if (static_cast<uint32_t>(d.to) == t.type) {
      o.data = t.data;  // unchanged: copy the bytes
    } else {
      const TensorView* src = &t;
      const DType to = d.to;
      o.produce = [src, to](const gguf::EmitBytes& emit) {
        const int64_t cols = src->cols();
        const DType from = src->dtype();
        const size_t in_row = row_bytes(from, cols);
        const auto* base = static_cast<const uint8_t*>(src->data);
        gguf::emit_rows(to, src->rows(), cols, emit,
                  [&](int64_t r, float* row) { dequantize_row(from, base + static_cast<size_t>(r) * in_row, row, cols); });
      };
    }
    out.push_back(std::move(o));
    decisions.push_back(std::move(d));
  }
  gguf::Metadata meta = in.metadata;
  meta.set("general.file_type", llama_file_type(options.type));
  if (is_quantized(options.type)) meta.set("general.quantization_version", uint32_t{2});  // GGML_QNT_VERSION
  gguf::write_gguf(out_path, meta, out);
  return decisions;
}

}  // namespace qes
