#include "qes/model_file.hpp"

#include <cstring>
#include <fstream>
#include <system_error>

#include "qes/llama2c.hpp"

namespace qes {

int64_t TensorView::rows() const {
  int64_t r = 1;
  for (size_t i = 1; i < dims.size(); ++i) r *= dims[i];
  return r;
}

DType TensorView::dtype() const {
  if (!supported())
    throw gguf::FormatError("unsupported tensor type " + gguf::ggml_type_name(type) + " in tensor '" + name +
                            "' of file " + file + " (qes supports f32, f16, bf16, q4_0, q4_1, q8_0)");
  return static_cast<DType>(type);
}

QuantMatrix TensorView::matrix() const {
  QuantMatrix m;
  m.type = dtype();
  m.rows = rows();
  m.cols = cols();
  m.data = data;
  return m;
}

const TensorView* ModelFile::find(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const TensorView& ModelFile::tensor(std::string_view name) const {
  const TensorView* t = find(name);
  if (!t) throw gguf::FormatError(path + ": missing tensor '" + std::string(name) + "'");
  return *t;
}

uint64_t ModelFile::total_tensor_bytes() const {
  uint64_t total = 0;
  for (const auto& t : tensors) total += t.bytes;
  return total;
}

namespace {
bool file_exists(const std::string& p) { return std::ifstream(p).good(); }
std::string folder_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}
}  // namespace

ModelFile load_model_file(const std::string& path, const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::system_error(errno, std::generic_category(), path + ": cannot open");
  char magic[4] = {};
  in.read(magic, 4);
  // A .gguf name always goes to the GGUF reader, so a corrupt magic is reported as such.
  bool gguf_name = path.size() >= 5 && path.compare(path.size() - 5, 5, ".gguf") == 0;
  if (gguf_name || (in.gcount() == 4 && std::memcmp(magic, "GGUF", 4) == 0))
    return gguf::read_gguf(path, options.map_mode);

  // Not GGUF: treat as a llama2.c checkpoint (its header is validated there).
  Llama2cOptions o;
  o.tokenizer_path = options.tokenizer_path;
  o.context_length = options.llama2c_context_length;
  if (o.tokenizer_path.empty()) {
    for (const char* candidate : {"tokenizer.bin", "tok512.bin"}) {
      std::string p = folder_of(path) + "/" + candidate;
      if (file_exists(p)) {
        o.tokenizer_path = p;
        break;
      }
    }
    if (o.tokenizer_path.empty())
      throw gguf::FormatError(path + ": not a GGUF file, and no llama2.c tokenizer was given (--tokenizer) or found beside it "
                              "(tokenizer.bin, tok512.bin)");
  }
  return load_llama2c(path, o);
}

}  // namespace qes
