#pragma once
// GGUF model files: metadata values, ggml tensor types, the reader and the writer.
//
// The reader memory-maps the file and validates every header field, offset,
// size, type and the alignment before anything is used; problems are reported
// as FormatError("<file>: <field>: <problem>"). It returns a ModelFile
// (model_file.hpp), the in-memory description every model source produces.
//
// Tensor types: every ggml type is recognised by id and name (so tensor sizes
// and offsets of any file can be validated, and metadata-only readers such as
// tokenizer vocab files always load), but only F32, F16, BF16, Q4_0, Q4_1 and
// Q8_0 can be *used*: asking for the data of any other type raises
// "unsupported tensor type q4_K in tensor 'X' of file Y" at first use. Type
// ids that are not ggml types at all cannot be sized and fail at load.
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "qes/quant.hpp"

namespace qes {

class ModelFile;

namespace gguf {

// A malformed or unsupported file. what() names the file, the field and the problem.
class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as little-endian uint32
inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr int kMaxDims = 4;  // GGML_MAX_DIMS

// ---------------------------------------------------------------- ggml tensor types

struct GgmlTypeInfo {
  uint32_t id;
  const char* name;   // ggml's name: "f32", "q4_0", "q4_K", "iq2_xxs", ...
  int64_t block_size;  // elements per block
  uint64_t type_size;  // bytes per block
};
// nullptr when `id` is not a ggml type (never was, or was removed from ggml).
const GgmlTypeInfo* ggml_type_info(uint32_t id);
// "q4_K", or "unknown type 1234" for ids that are not ggml types.
std::string ggml_type_name(uint32_t id);
// True for the types qes computes with: F32, F16, BF16, Q4_0, Q4_1, Q8_0.
bool is_supported_type(uint32_t id);

// ---------------------------------------------------------------- metadata values

// GGUF metadata value types (gguf_type). The numbering is the file format's.
enum class ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
  String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};
std::string_view value_type_name(ValueType t);  // "u32", "string", "array", ...

struct MetaValue;
// An array holds values of one type; arrays of arrays are allowed (each inner
// array may have its own element type and length).
struct MetaArray {
  ValueType type = ValueType::U8;
  std::vector<MetaValue> items;
};

struct MetaValue {
  // Alternative index == ValueType, so type() is just the index.
  using Storage = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
                               std::string, MetaArray, uint64_t, int64_t, double>;
  Storage v;

  MetaValue() : v(uint8_t{0}) {}
  MetaValue(Storage s) : v(std::move(s)) {}
  template <class T>
    requires std::is_constructible_v<Storage, T> && (!std::is_same_v<std::decay_t<T>, MetaValue>)
  MetaValue(T&& x) : v(std::forward<T>(x)) {}
  MetaValue(const char* s) : v(std::string(s)) {}

  ValueType type() const { return static_cast<ValueType>(v.index()); }
  bool operator==(const MetaValue& o) const;
};

// Convenience builders for arrays.
MetaValue make_string_array(const std::vector<std::string>& items);
MetaValue make_f32_array(const std::vector<float>& items);
MetaValue make_i32_array(const std::vector<int32_t>& items);

// Ordered key/value metadata (file order is kept so a re-written file is identical).
// Getters throw FormatError naming `source` (the file) and the key when the key is
// missing or has a type that cannot represent the requested value.
class Metadata {
 public:
  explicit Metadata(std::string source = "<memory>") : source_(std::move(source)) {}

  const std::string& source() const { return source_; }
  void set_source(std::string s) { source_ = std::move(s); }

  bool has(std::string_view key) const { return find(key) != nullptr; }
  const MetaValue* find(std::string_view key) const;
  const MetaValue& at(std::string_view key) const;
  // Replaces the value in place (keeping the key's position) or appends.
  void set(std::string_view key, MetaValue value);
  bool erase(std::string_view key);
  size_t size() const { return entries_.size(); }
  const std::vector<std::pair<std::string, MetaValue>>& entries() const { return entries_; }

  // Integer getters accept any integer type whose value fits; float getters accept f32/f64.
  std::string get_string(std::string_view key) const;
  uint32_t get_u32(std::string_view key) const;
  int32_t get_i32(std::string_view key) const;
  uint64_t get_u64(std::string_view key) const;
  int64_t get_i64(std::string_view key) const;
  float get_f32(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  uint32_t get_u32_or(std::string_view key, uint32_t fallback) const;
  float get_f32_or(std::string_view key, float fallback) const;
  std::string get_string_or(std::string_view key, std::string fallback) const;

  const MetaArray& get_array(std::string_view key) const;
  std::vector<std::string> get_string_array(std::string_view key) const;
  std::vector<float> get_f32_array(std::string_view key) const;
  std::vector<int32_t> get_i32_array(std::string_view key) const;

  bool operator==(const Metadata& o) const { return entries_ == o.entries_; }

 private:
  [[noreturn]] void fail(std::string_view key, const std::string& problem) const;
  std::string source_;
  std::vector<std::pair<std::string, MetaValue>> entries_;
  std::map<std::string, size_t, std::less<>> index_;
};

// One-line rendering of a value; arrays are summarised ("[string x 512: "<unk>", "<s>", ...]").
std::string format_value(const MetaValue& v, size_t max_items = 8);

// ---------------------------------------------------------------- reader

enum class MapMode {
  ReadOnly,     // PROT_READ: tensor data must not be written
  CopyOnWrite,  // MAP_PRIVATE + PROT_WRITE: writes stay in memory, the file is never modified
};

// Reads and validates a GGUF file (v2 or v3). Throws FormatError (or std::system_error
// for I/O errors) naming the file.
ModelFile read_gguf(const std::string& path, MapMode mode = MapMode::ReadOnly);
// The same over bytes already in memory (tests); `name` is used in errors. The
// bytes must outlive the returned ModelFile.
ModelFile read_gguf_bytes(const void* data, size_t size, const std::string& name);

// ---------------------------------------------------------------- writer

// Tensor data are produced by a callback that receives an `emit(bytes, n)`
// function and must emit exactly the tensor's size in total, so a writer never
// needs the whole model in memory.
using EmitBytes = std::function<void(const void* bytes, size_t n)>;
using TensorProducer = std::function<void(const EmitBytes& emit)>;

struct OutTensor {
  std::string name;
  uint32_t type = 0;           // ggml type id
  std::vector<int64_t> dims;   // ggml order: dims[0] is the row length
  const void* data = nullptr;  // either the bytes ...
  TensorProducer produce;      // ... or a producer
};

// Size in bytes of a tensor of `type` with `dims` (throws if not representable).
uint64_t tensor_bytes(uint32_t type, const std::vector<int64_t>& dims, const std::string& what);

// Writes a GGUF v3 file: header, metadata in order, tensor infos, then the data
// of each tensor at the next multiple of the alignment (general.alignment if set,
// else 32), zero padding included after the last tensor (as ggml writes it).
// Written to a temporary file in the same folder, fsynced, then renamed over `path`.
void write_gguf(const std::string& path, const Metadata& meta, const std::vector<OutTensor>& tensors);
// Re-writes a model (metadata and tensors as they are).
void write_gguf(const std::string& path, const ModelFile& model);

}  // namespace gguf
}  // namespace qes
