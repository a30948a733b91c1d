// GGUF metadata values: typed getters with errors that name the file and key.
#include <cmath>
#include <cstring>
#include <cstdio>
#include <limits>
#include <sstream>

#include "qes/gguf.hpp"

namespace qes::gguf {

std::string_view value_type_name(ValueType t) {
  switch (t) {
    case ValueType::U8: return "u8";
    case ValueType::I8: return "i8";
    case ValueType::U16: return "u16";
    case ValueType::I16: return "i16";
    case ValueType::U32: return "u32";
    case ValueType::I32: return "i32";
    case ValueType::F32: return "f32";
    case ValueType::Bool: return "bool";
    case ValueType::String: return "string";
    case ValueType::Array: return "array";
    case ValueType::U64: return "u64";
    case ValueType::I64: return "i64";
    case ValueType::F64: return "f64";
  }
  return "invalid";
}

// Floats compare by bits so that NaN payloads and -0.0 round-trip as "equal to themselves".
namespace {
template <class T>
bool same_bits(const T& a, const T& b) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::memcmp(&a, &b, sizeof(T)) == 0;
  } else {
    return a == b;
  }
}
}  // namespace

bool MetaValue::operator==(const MetaValue& o) const {
  if (v.index() != o.v.index()) return false;
  return std::visit(
      [&](const auto& a) {
        using T = std::decay_t<decltype(a)>;
        const T& b = std::get<T>(o.v);
        if constexpr (std::is_same_v<T, MetaArray>) {
          return a.type == b.type && a.items == b.items;
        } else {
          return same_bits(a, b);
        }
      },
      v);
}

MetaValue make_string_array(const std::vector<std::string>& items) {
  MetaArray a{ValueType::String, {}};
  a.items.reserve(items.size());
  for (const auto& s : items) a.items.emplace_back(s);
  return MetaValue(std::move(a));
}
MetaValue make_f32_array(const std::vector<float>& items) {
  MetaArray a{ValueType::F32, {}};
  a.items.reserve(items.size());
  for (float f : items) a.items.emplace_back(f);
  return MetaValue(std::move(a));
}
MetaValue make_i32_array(const std::vector<int32_t>& items) {
  MetaArray a{ValueType::I32, {}};
  a.items.reserve(items.size());
  for (int32_t x : items) a.items.emplace_back(x);
  return MetaValue(std::move(a));
}

// ------------------------------------------------------------------ Metadata

void Metadata::fail(std::string_view key, const std::string& problem) const {
  throw FormatError(source_ + ": metadata key '" + std::string(key) + "': " + problem);
}

const MetaValue* Metadata::find(std::string_view key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

const MetaValue& Metadata::at(std::string_view key) const {
  const MetaValue* v = find(key);
  if (!v) fail(key, "missing");
  return *v;
}

void Metadata::set(std::string_view key, MetaValue value) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    entries_[it->second].second = std::move(value);
    return;
  }
  index_.emplace(std::string(key), entries_.size());
  entries_.emplace_back(std::string(key), std::move(value));
}

bool Metadata::erase(std::string_view key) {
  auto it = index_.find(key);
  if (it == index_.end()) return false;
  entries_.erase(entries_.begin() + static_cast<ptrdiff_t>(it->second));
  index_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].first, i);
  return true;
}

namespace {

// Integer value of any integer-typed (or bool) value; nullopt-like via ok flag.
bool as_integer(const MetaValue& v, __int128* out) {
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_integral_v<T>) {
          *out = static_cast<__int128>(x);
          return true;
        } else {
          return false;
        }
      },
      v.v);
}

// Throws invalid_argument when `v` is not an integer, out_of_range when it does not fit T.
template <class T>
T checked_integer(const MetaValue& v) {
  __int128 x = 0;
  if (!as_integer(v, &x)) throw std::invalid_argument(std::string(value_type_name(v.type())));
  if (x < static_cast<__int128>(std::numeric_limits<T>::min()) ||
      x > static_cast<__int128>(std::numeric_limits<T>::max()))
    throw std::out_of_range("");
  return static_cast<T>(x);
}

}  // namespace

#define QES_INTEGER_GETTER(NAME, T, TYPENAME)                                                     \
  T Metadata::NAME(std::string_view key) const {                                                 \
    const MetaValue& v = at(key);                                                                \
    try {                                                                                        \
      return checked_integer<T>(v);                                                  \
    } catch (const std::invalid_argument&) {                                                     \
      fail(key, "expected an integer (" TYPENAME "), found " + std::string(value_type_name(v.type()))); \
    } catch (const std::out_of_range&) {                                                         \
      fail(key, "value " + format_value(v) + " does not fit in " TYPENAME);                      \
    }                                                                                            \
  }
QES_INTEGER_GETTER(get_u32, uint32_t, "u32")
QES_INTEGER_GETTER(get_i32, int32_t, "i32")
QES_INTEGER_GETTER(get_u64, uint64_t, "u64")
QES_INTEGER_GETTER(get_i64, int64_t, "i64")
#undef QES_INTEGER_GETTER

std::string Metadata::get_string(std::string_view key) const {
  const MetaValue& v = at(key);
  if (const auto* s = std::get_if<std::string>(&v.v)) return *s;
  fail(key, "expected a string, found " + std::string(value_type_name(v.type())));
}

float Metadata::get_f32(std::string_view key) const {
  const MetaValue& v = at(key);
  if (const auto* f = std::get_if<float>(&v.v)) return *f;
  if (const auto* d = std::get_if<double>(&v.v)) return static_cast<float>(*d);
  fail(key, "expected a float (f32 or f64), found " + std::string(value_type_name(v.type())));
}

bool Metadata::get_bool(std::string_view key) const {
  const MetaValue& v = at(key);
  if (const auto* b = std::get_if<bool>(&v.v)) return *b;
  fail(key, "expected a bool, found " + std::string(value_type_name(v.type())));
}

uint32_t Metadata::get_u32_or(std::string_view key, uint32_t fallback) const {
  return has(key) ? get_u32(key) : fallback;
}
float Metadata::get_f32_or(std::string_view key, float fallback) const {
  return has(key) ? get_f32(key) : fallback;
}
std::string Metadata::get_string_or(std::string_view key, std::string fallback) const {
  return has(key) ? get_string(key) : fallback;
}

const MetaArray& Metadata::get_array(std::string_view key) const {
  const MetaValue& v = at(key);
  if (const auto* a = std::get_if<MetaArray>(&v.v)) return *a;
  fail(key, "expected an array, found " + std::string(value_type_name(v.type())));
}

std::vector<std::string> Metadata::get_string_array(std::string_view key) const {
  const MetaArray& a = get_array(key);
  if (a.type != ValueType::String)
    fail(key, "expected an array of strings, found an array of " + std::string(value_type_name(a.type)));
  std::vector<std::string> out;
  out.reserve(a.items.size());
  for (const auto& item : a.items) out.push_back(std::get<std::string>(item.v));
  return out;
}

std::vector<float> Metadata::get_f32_array(std::string_view key) const {
  const MetaArray& a = get_array(key);
  std::vector<float> out;
  out.reserve(a.items.size());
  for (const auto& item : a.items) {
    if (const auto* f = std::get_if<float>(&item.v)) {
      out.push_back(*f);
    } else if (const auto* d = std::get_if<double>(&item.v)) {
      out.push_back(static_cast<float>(*d));
    } else {
      fail(key, "expected an array of floats, found an array of " + std::string(value_type_name(a.type)));
    }
  }
  return out;
}

std::vector<int32_t> Metadata::get_i32_array(std::string_view key) const {
  const MetaArray& a = get_array(key);
  std::vector<int32_t> out;
  out.reserve(a.items.size());
  for (size_t i = 0; i < a.items.size(); ++i) {
    __int128 x = 0;
    if (!as_integer(a.items[i], &x))
      fail(key, "expected an array of integers, found an array of " + std::string(value_type_name(a.type)));
    if (x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max())
      fail(key, "element " + std::to_string(i) + " does not fit in i32");
    out.push_back(static_cast<int32_t>(x));
  }
  return out;
}

// ------------------------------------------------------------------ formatting

namespace {
void append_value(std::ostringstream& os, const MetaValue& v, size_t max_items) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          os << '"';
          for (unsigned char c : x) {
            if (c == '\n') os << "\\n";
            else if (c == '\t') os << "\\t";
            else if (c == '"') os << "\\\"";
            else if (c == '\\') os << "\\\\";
            else if (c < 0x20) { char buf[8]; std::snprintf(buf, sizeof buf, "\\x%02x", c); os << buf; }
            else os << static_cast<char>(c);
          }
          os << '"';
        } else if constexpr (std::is_same_v<T, MetaArray>) {
          os << '[' << value_type_name(x.type) << " x " << x.items.size();
          if (!x.items.empty()) os << ": ";
          for (size_t i = 0; i < x.items.size() && i < max_items; ++i) {
            if (i) os << ", ";
            append_value(os, x.items[i], max_items);
          }
          if (x.items.size() > max_items) os << ", ...";
          os << ']';
        } else if constexpr (std::is_same_v<T, bool>) {
          os << (x ? "true" : "false");
        } else if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t>) {
          os << static_cast<int>(x);
        } else if constexpr (std::is_floating_point_v<T>) {
          char buf[64];
          std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(x));
          os << buf;
        } else {
          os << x;
        }
      },
      v.v);
}
}  // namespace

std::string format_value(const MetaValue& v, size_t max_items) {
  std::ostringstream os;
  append_value(os, v, max_items);
  return os.str();
}

}  // namespace qes::gguf
