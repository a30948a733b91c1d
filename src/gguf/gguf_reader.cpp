// GGUF reader: every field is bounds-checked against the file size before it
// is read, and every count is checked against the bytes left before anything
// is allocated for it, so a corrupt file gives a FormatError, never a crash or
// an allocation of absurd size.
//
// Layout (v2/v3, little-endian): magic "GGUF", u32 version, u64 tensor_count,
// u64 kv_count, the key/value pairs (string key, u32 type, value), the tensor
// infos (string name, u32 n_dims, u64 dims[n_dims], u32 type, u64 offset), zero
// padding to the alignment, then the data section; offsets are relative to it.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

#include "mapped_file.hpp"
#include "qes/model_file.hpp"

namespace qes::gguf {
namespace {

constexpr int kMaxArrayNesting = 16;

// Smallest number of bytes one value of a type occupies in the file; used to
// reject counts larger than the rest of the file could hold.
uint64_t min_encoded_size(ValueType t) {
  switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::Bool: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
    case ValueType::String: return 8;  // the length
    case ValueType::Array: return 12;  // element type + count
  }
  return 1;
}

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::F64); }

std::string hex_u64(uint64_t x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, x);
  return buf;
}

class Parser {
 public:
  Parser(const uint8_t* base, uint64_t size, const std::string& file) : base_(base), size_(size), file_(file) {}

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw FormatError(file_ + ": " + field + ": " + problem);
  }

  uint64_t pos() const { return pos_; }
  uint64_t left() const { return size_ - pos_; }

  void need(uint64_t n, const std::string& field) const {
    if (n > left())
      fail(field, "truncated file: needs " + std::to_string(n) + " bytes at offset " + std::to_string(pos_) +
                      " but the file ends at " + std::to_string(size_));
  }

  template <class T>
  T read(const std::string& field, int64_t index = -1) {
    if (sizeof(T) > left()) need(sizeof(T), label(field, index));
    T x;
    std::memcpy(&x, base_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return x;
  }

  // `index` >= 0 names an array element; labels are only built on failure,
  // so reading a 150k-token vocabulary does not format 150k strings.
  static std::string label(const std::string& field, int64_t index) {
    return index < 0 ? field : field + "[" + std::to_string(index) + "]";
  }

  std::string read_string(const std::string& field, int64_t index = -1) {
    uint64_t n = read<uint64_t>(field, index);
    if (n > left())
      fail(label(field, index), "string length " + std::to_string(n) + " at offset " + std::to_string(pos_ - 8) +
                                    " runs past the end of the file (" + std::to_string(left()) + " bytes left)");
    std::string s(reinterpret_cast<const char*>(base_ + pos_), static_cast<size_t>(n));
    pos_ += n;
    return s;
  }

  MetaValue read_value(uint32_t raw_type, const std::string& field, int64_t index, int depth) {
    if (!valid_value_type(raw_type))
      fail(label(field, index), "unknown metadata value type " + std::to_string(raw_type));
    switch (static_cast<ValueType>(raw_type)) {
      case ValueType::U8: return read<uint8_t>(field, index);
      case ValueType::I8: return read<int8_t>(field, index);
      case ValueType::U16: return read<uint16_t>(field, index);
      case ValueType::I16: return read<int16_t>(field, index);
      case ValueType::U32: return read<uint32_t>(field, index);
      case ValueType::I32: return read<int32_t>(field, index);
      case ValueType::F32: return read<float>(field, index);
      case ValueType::U64: return read<uint64_t>(field, index);
      case ValueType::I64: return read<int64_t>(field, index);
      case ValueType::F64: return read<double>(field, index);
      case ValueType::Bool: {
        uint8_t b = read<uint8_t>(field, index);
        if (b > 1) fail(label(field, index), "invalid bool value " + std::to_string(b) + " (must be 0 or 1)");
        return b != 0;
      }
      case ValueType::String: return read_string(field, index);
      case ValueType::Array: {
        const std::string where = label(field, index);
        if (depth >= kMaxArrayNesting)
          fail(where, "arrays nested deeper than " + std::to_string(kMaxArrayNesting) + " levels");
        uint32_t elem = read<uint32_t>(where + " element type");
        if (!valid_value_type(elem)) fail(where, "unknown array element type " + std::to_string(elem));
        uint64_t n = read<uint64_t>(where + " element count");
        ValueType et = static_cast<ValueType>(elem);
        if (n > left() / min_encoded_size(et))
          fail(where, "array count " + std::to_string(n) + " of " + std::string(value_type_name(et)) +
                          " cannot fit in the " + std::to_string(left()) + " bytes left in the file");
        MetaArray a{et, {}};
        a.items.reserve(static_cast<size_t>(n));
        for (uint64_t i = 0; i < n; ++i)
          a.items.push_back(read_value(elem, where, static_cast<int64_t>(i), depth + 1));
        return MetaValue(std::move(a));
      }
    }
    fail(label(field, index), "unknown metadata value type " + std::to_string(raw_type));
  }

 private:
  const uint8_t* base_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& file_;
};

// Checked a*b for sizes; false on overflow of int64.
bool mul_overflows(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }

uint64_t natural_alignment(uint32_t type) {
  // F32 values need 4-byte alignment; F16/BF16 and the block types (whose
  // first field is an fp16 scale) need 2.
  return type == static_cast<uint32_t>(DType::F32) ? 4 : 2;
}

}  // namespace

uint64_t tensor_bytes(uint32_t type, const std::vector<int64_t>& dims, const std::string& what) {
  const GgmlTypeInfo* info = ggml_type_info(type);
  if (!info) throw FormatError(what + ": unsupported tensor type id " + std::to_string(type) + " (not a ggml type)");
  if (dims.size() > static_cast<size_t>(kMaxDims))
    throw FormatError(what + ": " + std::to_string(dims.size()) + " dimensions (at most " +
                      std::to_string(kMaxDims) + ")");
  int64_t n = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0) throw FormatError(what + ": dimension " + std::to_string(i) + " is negative");
    if (mul_overflows(n, dims[i], &n)) throw FormatError(what + ": element count overflows 64 bits");
  }
  int64_t row = dims.empty() ? 1 : dims[0];
  if (row % info->block_size != 0)
    throw FormatError(what + ": row length " + std::to_string(row) + " is not a multiple of the block size " +
                      std::to_string(info->block_size) + " of " + info->name);
  int64_t bytes = 0;
  if (mul_overflows(n / info->block_size, static_cast<int64_t>(info->type_size), &bytes))
    throw FormatError(what + ": byte size overflows 64 bits");
  return static_cast<uint64_t>(bytes);
}

ModelFile read_gguf_bytes(const void* data, size_t size, const std::string& name) {
  const uint8_t* base = static_cast<const uint8_t*>(data);
  Parser p(base, size, name);

  ModelFile mf;
  mf.path = name;
  mf.format = "gguf";
  mf.metadata.set_source(name);

  // ---- header
  if (size < 4) p.fail("header.magic", "truncated file: the file is " + std::to_string(size) + " bytes, too short for a GGUF header");
  uint32_t magic = p.read<uint32_t>("header.magic");
  if (magic != kMagic) {
    std::string shown;
    for (int i = 0; i < 4; ++i) {
      unsigned char c = base[i];
      shown += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
    }
    p.fail("header.magic", "not a GGUF file: magic is '" + shown + "' (" + hex_u64(magic) + "), expected 'GGUF'");
  }
  uint32_t version = p.read<uint32_t>("header.version");
  if (version != 2 && version != 3) {
    uint32_t swapped = __builtin_bswap32(version);
    if (swapped >= 1 && swapped <= 3)
      p.fail("header.version", "big-endian GGUF files are not supported (version reads as " + hex_u64(version) + ")");
    if (version == 1)
      p.fail("header.version", "unsupported GGUF version 1 (v1 used 32-bit counts; only versions 2 and 3 are supported)");
    p.fail("header.version", "unsupported GGUF version " + std::to_string(version) + " (only versions 2 and 3 are supported)");
  }
  mf.gguf_version = version;
  uint64_t n_tensors = p.read<uint64_t>("header.tensor_count");
  uint64_t n_kv = p.read<uint64_t>("header.metadata_kv_count");
  // Minimal encodings: a tensor info is >= 24 bytes (name length, n_dims, type,
  // offset), a key/value pair >= 13 (key length, type, one byte of value).
  if (n_kv > p.left() / 13)
    p.fail("header.metadata_kv_count", std::to_string(n_kv) + " key/value pairs cannot fit in the " +
                                           std::to_string(p.left()) + " bytes left in the file");
  if (n_tensors > p.left() / 24)
    p.fail("header.tensor_count", std::to_string(n_tensors) + " tensors cannot fit in the " +
                                      std::to_string(p.left()) + " bytes left in the file");

  // ---- metadata
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string where = "metadata[" + std::to_string(i) + "]";
    std::string key = p.read_string(where + " key");
    where += " '" + key + "'";
    if (mf.metadata.has(key)) p.fail(where, "duplicate key");
    uint32_t type = p.read<uint32_t>(where + " type");
    mf.metadata.set(key, p.read_value(type, where + " value", -1, 0));
  }

  uint64_t alignment = kDefaultAlignment;
  if (const MetaValue* a = mf.metadata.find("general.alignment")) {
    const auto* v = std::get_if<uint32_t>(&a->v);
    if (!v) p.fail("metadata 'general.alignment'", "must be u32, found " + std::string(value_type_name(a->type())));
    if (*v == 0 || (*v & (*v - 1)) != 0)
      p.fail("metadata 'general.alignment'", "alignment " + std::to_string(*v) + " is not a power of two");
    alignment = *v;
  }
  mf.alignment = static_cast<uint32_t>(alignment);

  // ---- tensor infos
  std::set<std::string, std::less<>> names;
  mf.tensors.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    std::string where = "tensor[" + std::to_string(i) + "]";
    TensorView t;
    t.file = name;
    t.name = p.read_string(where + " name");
    where += " '" + t.name + "'";
    if (!names.insert(t.name).second) p.fail(where, "duplicate tensor name");
    uint32_t n_dims = p.read<uint32_t>(where + " n_dims");
    if (n_dims > static_cast<uint32_t>(kMaxDims))
      p.fail(where + " n_dims", std::to_string(n_dims) + " dimensions (ggml allows at most " + std::to_string(kMaxDims) + ")");
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t dim = p.read<uint64_t>(where + " dims[" + std::to_string(d) + "]");
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        p.fail(where + " dims[" + std::to_string(d) + "]", "dimension " + std::to_string(dim) + " is out of range");
      t.dims.push_back(static_cast<int64_t>(dim));
    }
    t.type = p.read<uint32_t>(where + " type");
    t.offset = p.read<uint64_t>(where + " offset");
    t.bytes = tensor_bytes(t.type, t.dims, name + ": " + where);
    if (t.offset % alignment != 0)
      p.fail(where + " offset", "offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                                     std::to_string(alignment));
    mf.tensors.push_back(std::move(t));
  }

  // ---- data section
  uint64_t data_start = p.pos() + (alignment - p.pos() % alignment) % alignment;
  mf.data_offset = data_start;
  if (!mf.tensors.empty() && data_start > size)
    p.fail("data section", "truncated file: the data section would start at offset " + std::to_string(data_start) +
                               " but the file ends at " + std::to_string(size));
  uint64_t data_size = data_start <= size ? size - data_start : 0;
  for (auto& t : mf.tensors) {
    if (t.offset > data_size || t.bytes > data_size - t.offset)
      p.fail("tensor '" + t.name + "' data",
             "bytes [" + std::to_string(t.offset) + ", " + std::to_string(t.offset) + "+" + std::to_string(t.bytes) +
                 ") lie outside the data section of " + std::to_string(data_size) + " bytes (file truncated or offset corrupt)");
    t.data = const_cast<uint8_t*>(base + data_start + t.offset);
    if (is_supported_type(t.type) && reinterpret_cast<uintptr_t>(t.data) % natural_alignment(t.type) != 0)
      p.fail("tensor '" + t.name + "' data", "data at file offset " + std::to_string(data_start + t.offset) +
                                                 " is misaligned for " + ggml_type_name(t.type));
  }
  std::vector<const TensorView*> by_offset;
  for (const auto& t : mf.tensors)
    if (t.bytes > 0) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorView* a, const TensorView* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorView* prev = by_offset[i - 1];
    const TensorView* cur = by_offset[i];
    if (cur->offset < prev->offset + prev->bytes)
      p.fail("tensor '" + cur->name + "' data", "bytes at offset " + std::to_string(cur->offset) +
                                                    " overlap tensor '" + prev->name + "' (offset " +
                                                    std::to_string(prev->offset) + ", " + std::to_string(prev->bytes) + " bytes)");
  }
  return mf;
}

ModelFile read_gguf(const std::string& path, MapMode mode) {
  auto mapped = MappedFile::open(path, mode);
  ModelFile mf = read_gguf_bytes(mapped->data(), mapped->size(), path);
  mf.storage = mapped;
  return mf;
}

}  // namespace qes::gguf
