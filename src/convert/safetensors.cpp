// The .safetensors reader: the file is mapped read-only and every header field is
// checked before a byte of tensor data is used, so a truncated or inconsistent
// file gives an error naming the file and the tensor instead of a wild read.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <system_error>

#include "qes/convert_hf.hpp"

namespace qes::convert {
namespace {

using gguf::FormatError;

// Header lengths beyond this are a corrupt length field, not a real header
// (safetensors itself refuses headers over 100 MB).
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

struct Mapping {
  void* data = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (data) munmap(data, size);
  }
};

std::shared_ptr<Mapping> map_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), path + ": cannot open");
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    throw std::system_error(e, std::generic_category(), path + ": cannot stat");
  }
  auto m = std::make_shared<Mapping>();
  m->size = static_cast<size_t>(st.st_size);
  if (m->size > 0) {
    void* p = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      throw std::system_error(e, std::generic_category(), path + ": cannot map");
    }
    m->data = p;
  }
  ::close(fd);
  return m;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

size_t safetensors_dtype_size(std::string_view d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
  return 0;
}

int64_t SafetensorsTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

void SafetensorsTensor::read_floats(int64_t first, int64_t n, float* out) const {
  if (!is_float())
    throw FormatError(file + ": tensor '" + name + "' has dtype " + dtype +
                      "; qes converts F32, F16 and BF16 tensors only");
  if (first < 0 || n < 0 || first + n > n_elements())
    throw std::out_of_range(file + ": tensor '" + name + "': elements " + std::to_string(first) + "+" +
                            std::to_string(n) + " are outside its " + std::to_string(n_elements()));
  // memcpy per element: the data need not be aligned (the header length is arbitrary).
  if (dtype == "F32") {
    std::memcpy(out, data + first * 4, static_cast<size_t>(n) * 4);
    return;
  }
  const uint8_t* p = data + first * 2;
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    out[i] = dtype == "F16" ? fp16_to_fp32(h) : bf16_to_fp32(h);
  }
}

float SafetensorsTensor::element(int64_t i) const {
  float v;
  read_floats(i, 1, &v);
  return v;
}

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  auto mapping = map_file(path);
  const auto* bytes = static_cast<const uint8_t*>(mapping->data);
  const uint64_t size = mapping->size;
  auto fail = [&](const std::string& problem) -> FormatError { return FormatError(path + ": " + problem); };

  if (size < 8) throw fail("truncated file: " + std::to_string(size) + " bytes, not even the 8-byte header length");
  const uint64_t header_len = read_u64_le(bytes);
  if (header_len > kMaxHeaderBytes)
    throw fail("header length " + std::to_string(header_len) + " is implausible (over 100 MiB): not a safetensors file?");
  if (header_len > size - 8)
    throw fail("header length " + std::to_string(header_len) + " runs past the end of the file (" +
               std::to_string(size) + " bytes): truncated file?");

  nlohmann::ordered_json header;
  try {
    header = nlohmann::ordered_json::parse(bytes + 8, bytes + 8 + header_len);
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) throw fail("header is not a JSON object");

  const uint8_t* data = bytes + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;
  SafetensorsFile f;
  f.path_ = path;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const std::string where = "tensor '" + it.key() + "'";
    const auto& v = it.value();
    if (!v.is_object() || !v.contains("dtype") || !v["dtype"].is_string() || !v.contains("shape") ||
        !v["shape"].is_array() || !v.contains("data_offsets") || !v["data_offsets"].is_array() ||
        v["data_offsets"].size() != 2)
      throw fail(where + ": header entry needs \"dtype\" (string), \"shape\" (array) and \"data_offsets\" ([begin, end])");
    SafetensorsTensor t;
    t.name = it.key();
    t.file = path;
    t.dtype = v["dtype"].get<std::string>();
    const size_t elem = safetensors_dtype_size(t.dtype);
    if (elem == 0) throw fail(where + ": unknown dtype '" + t.dtype + "'");
    uint64_t n = 1;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) throw fail(where + ": shape " + v["shape"].dump() + " is not a list of non-negative integers");
      const uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && n > (uint64_t{1} << 62) / dim) throw fail(where + ": shape " + v["shape"].dump() + " is too large");
      n *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    const auto& off = v["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw fail(where + ": data_offsets " + off.dump() + " are not non-negative integers");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (end < begin) throw fail(where + ": data_offsets " + off.dump() + " end before they begin");
    if (end > data_size)
      throw fail(where + ": data ends at byte " + std::to_string(end) + " of the data section, which has only " +
                 std::to_string(data_size) + " bytes: truncated file?");
    if (n * elem != end - begin)
      throw fail(where + ": shape " + shape_text(t.shape) + " of " + t.dtype + " needs " + std::to_string(n * elem) +
                 " bytes, but data_offsets " + off.dump() + " give " + std::to_string(end - begin));
    t.data = data + begin;
    t.bytes = end - begin;
    f.tensors_.push_back(std::move(t));
  }
  f.mapping_ = std::move(mapping);
  return f;
}

}  // namespace qes::convert
