#pragma once
// ModelFile: the in-memory description of a model file, whatever its source.
//
// GGUF files (gguf.hpp) and llama2.c checkpoints (llama2c.hpp) both produce a
// ModelFile: GGUF-style metadata (llama.* / qwen2.* / tokenizer.ggml.* keys,
// exactly as llama.cpp names them) plus named tensors in ggml's conventions
// (token_embd.weight, blk.N.attn_q.weight, ...; dims[0] is the row length).
// The model runtime consumes only this, so it never cares where weights came from.
//
// Tensor data either points into a memory-mapped GGUF file (used in place) or
// into buffers the ModelFile owns (llama2.c conversion). Copies of a ModelFile
// share that storage.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qes/gguf.hpp"
#include "qes/quant.hpp"

namespace qes {

struct TensorView {
  std::string name;
  uint32_t type = 0;          // ggml type id (may be a type qes cannot compute with)
  std::vector<int64_t> dims;  // ggml order: dims[0] = row length (columns)
  void* data = nullptr;
  uint64_t bytes = 0;
  uint64_t offset = 0;  // offset inside the data section of the file (GGUF), else 0
  std::string file;     // for error messages

  int64_t cols() const { return dims.empty() ? 1 : dims[0]; }
  int64_t rows() const;  // product of dims[1..]
  int64_t n_elements() const { return cols() * rows(); }
  bool supported() const { return gguf::is_supported_type(type); }
  // Throws FormatError "unsupported tensor type q4_K in tensor 'X' of file Y".
  DType dtype() const;
  QuantMatrix matrix() const;  // rows x cols view of the data (throws like dtype())
};

class ModelFile {
 public:
  std::string path;
  std::string format;  // "gguf", "llama2.c"
  uint32_t gguf_version = 0;
  uint32_t alignment = gguf::kDefaultAlignment;
  uint64_t data_offset = 0;  // GGUF: where the tensor data section starts in the file
  gguf::Metadata metadata;
  std::vector<TensorView> tensors;  // file order
  std::shared_ptr<void> storage;    // keeps the mapping / buffers alive

  const TensorView* find(std::string_view name) const;
  const TensorView& tensor(std::string_view name) const;  // throws "missing tensor 'X' in file Y"
  QuantMatrix matrix(std::string_view name) const { return tensor(name).matrix(); }
  uint64_t total_tensor_bytes() const;
};

struct LoadOptions {
  // llama2.c checkpoints keep the vocabulary in a separate file; empty means
  // "tokenizer.bin" beside the model, then tok512.bin (llama2.c's defaults).
  std::string tokenizer_path;
  // llama2.c only: llama.context_length to record (0 = the checkpoint's seq_len).
  uint32_t llama2c_context_length = 0;
  gguf::MapMode map_mode = gguf::MapMode::ReadOnly;
};

// Detects the format by its first bytes: GGUF magic, else a llama2.c checkpoint.
ModelFile load_model_file(const std::string& path, const LoadOptions& options = {});

}  // namespace qes
