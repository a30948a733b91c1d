// GGUF writer (always version 3, little-endian), laid out the way ggml's own
// writer does it: header, key/values in order, tensor infos with offsets packed
// in order at multiples of the alignment, zero padding, then each tensor's data
// followed by zero padding to the alignment. A file read by read_gguf and
// written back unchanged is therefore byte-identical when its writer followed
// that layout (llama.cpp's and ollama's do).
#include <cstring>
#include <set>
#include <stdexcept>

#include "atomic_file.hpp"
#include "qes/model_file.hpp"

namespace qes::gguf {
namespace {

class Buffer {
 public:
  template <class T>
  void put(const T& x) {
    append(&x, sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    append(s.data(), s.size());
  }
  void append(const void* p, size_t n) {
    size_t at = bytes.size();
    bytes.resize(at + n);
    if (n) std::memcpy(bytes.data() + at, p, n);
  }
  void put_value(const MetaValue& v) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) {
            put_string(x);
          } else if constexpr (std::is_same_v<T, MetaArray>) {
            put<uint32_t>(static_cast<uint32_t>(x.type));
            put<uint64_t>(x.items.size());
            for (const auto& item : x.items) {
              if (item.type() != x.type)
                throw std::invalid_argument("array of " + std::string(value_type_name(x.type)) + " holds a " +
                                            std::string(value_type_name(item.type())));
              put_value(item);
            }
          } else if constexpr (std::is_same_v<T, bool>) {
            put<uint8_t>(x ? 1 : 0);
          } else {
            put<T>(x);
          }
        },
        v.v);
  }
  std::vector<uint8_t> bytes;
};

uint64_t align_up(uint64_t x, uint64_t a) { return x + (a - x % a) % a; }

}  // namespace

void write_gguf(const std::string& path, const Metadata& meta, const std::vector<OutTensor>& tensors) {
  uint64_t alignment = kDefaultAlignment;
  if (const MetaValue* a = meta.find("general.alignment")) {
    const auto* v = std::get_if<uint32_t>(&a->v);
    if (!v || *v == 0 || (*v & (*v - 1)) != 0)
      throw FormatError(path + ": metadata 'general.alignment' must be a u32 power of two");
    alignment = *v;
  }

  Buffer head;
  head.put<uint32_t>(kMagic);
  head.put<uint32_t>(3);
  head.put<uint64_t>(tensors.size());
  head.put<uint64_t>(meta.size());
  for (const auto& [key, value] : meta.entries()) {
    head.put_string(key);
    head.put<uint32_t>(static_cast<uint32_t>(value.type()));
    try {
      head.put_value(value);
    } catch (const std::invalid_argument& e) {
      throw FormatError(path + ": metadata '" + key + "': " + e.what());
    }
  }

  std::vector<uint64_t> sizes;
  std::set<std::string, std::less<>> names;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    std::string what = path + ": tensor '" + t.name + "'";
    if (!names.insert(t.name).second) throw FormatError(what + ": duplicate tensor name");
    // ggml keeps names in a char[GGML_MAX_NAME = 64]; longer names would not load in llama.cpp.
    if (t.name.empty() || t.name.size() >= 64) throw FormatError(what + ": tensor names must be 1 to 63 bytes long");
    if (!t.data && !t.produce) throw FormatError(what + ": no data");
    uint64_t bytes = tensor_bytes(t.type, t.dims, what);
    sizes.push_back(bytes);
    head.put_string(t.name);
    head.put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) head.put<uint64_t>(static_cast<uint64_t>(d));
    head.put<uint32_t>(t.type);
    head.put<uint64_t>(offset);
    offset = align_up(offset + bytes, alignment);
  }

  AtomicFile out(path);
  out.write(head.bytes.data(), head.bytes.size());
  if (!tensors.empty()) out.pad_zeros(align_up(head.bytes.size(), alignment) - head.bytes.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const OutTensor& t = tensors[i];
    if (t.data) {
      out.write(t.data, sizes[i]);
    } else {
      uint64_t emitted = 0;
      t.produce([&](const void* bytes, size_t n) {
        if (n > sizes[i] - emitted)
          throw std::logic_error(path + ": tensor '" + t.name + "': producer emitted more than " +
                                 std::to_string(sizes[i]) + " bytes");
        out.write(bytes, n);
        emitted += n;
      });
      if (emitted != sizes[i])
        throw std::logic_error(path + ": tensor '" + t.name + "': producer emitted " + std::to_string(emitted) +
                               " of " + std::to_string(sizes[i]) + " bytes");
    }
    out.pad_zeros(align_up(sizes[i], alignment) - sizes[i]);
  }
  out.commit();
}

void write_gguf(const std::string& path, const ModelFile& model) {
  std::vector<OutTensor> out;
  out.reserve(model.tensors.size());
  for (const auto& t : model.tensors) out.push_back(OutTensor{t.name, t.type, t.dims, t.data, {}});
  write_gguf(path, model.metadata, out);
}

}  // namespace qes::gguf
