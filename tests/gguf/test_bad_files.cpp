// The bad-file table: corrupt and truncated GGUF files must each give a clear
// error naming the file and the problem (library: FormatError; CLI: exit 1 with
// the message), and never crash. Run it under ASan (debug preset) too.
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <random>

#include "qes/gguf.hpp"
#include "qes/model_file.hpp"
#include "test_util.hpp"

using namespace qes;

namespace {

// ------------------------------------------------------------- raw GGUF builder

struct Bytes {
  std::vector<uint8_t> b;
  template <class T>
  Bytes& put(T x) {
    size_t at = b.size();
    b.resize(at + sizeof(T));
    std::memcpy(b.data() + at, &x, sizeof(T));
    return *this;
  }
  Bytes& str(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& raw(const std::vector<uint8_t>& x) {
    b.insert(b.end(), x.begin(), x.end());
    return *this;
  }
};

std::vector<uint8_t> kv_string(const std::string& key, const std::string& v) {
  return Bytes().str(key).put<uint32_t>(8).str(v).b;
}
std::vector<uint8_t> kv_u32(const std::string& key, uint32_t v) { return Bytes().str(key).put<uint32_t>(4).put(v).b; }
std::vector<uint8_t> kv_string_array(const std::string& key, const std::vector<std::string>& items) {
  Bytes x;
  x.str(key).put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(items.size());
  for (const auto& s : items) x.str(s);
  return x.b;
}

struct RawTensor {
  std::string name;
  std::vector<uint64_t> dims;
  uint32_t type;
  uint64_t offset;
};

struct RawSpec {
  uint32_t magic = 0x46554747;
  uint32_t version = 3;
  std::optional<uint64_t> n_tensors, n_kv;  // override the true counts
  std::vector<std::vector<uint8_t>> kvs = {kv_string("general.architecture", "llama"),
                                           kv_string_array("tokenizer.ggml.tokens", {"a", "bb", ""})};
  // "a": 2 rows of 32 f32 (256 bytes); "b": one q8_0 row (34 bytes).
  std::vector<RawTensor> tensors = {{"a", {32, 2}, 0, 0}, {"b", {32, 1}, 8, 256}};
  uint64_t alignment = 32;   // padding before the data section
  uint64_t data_bytes = 320;  // 256 + 34, padded to 32
};

std::vector<uint8_t> build(const RawSpec& s) {
  Bytes x;
  x.put(s.magic).put(s.version);
  x.put<uint64_t>(s.n_tensors.value_or(s.tensors.size()));
  x.put<uint64_t>(s.n_kv.value_or(s.kvs.size()));
  for (const auto& kv : s.kvs) x.raw(kv);
  for (const auto& t : s.tensors) {
    x.str(t.name).put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) x.put(d);
    x.put(t.type).put(t.offset);
  }
  while (x.b.size() % s.alignment) x.b.push_back(0);
  for (uint64_t i = 0; i < s.data_bytes; ++i) x.b.push_back(static_cast<uint8_t>(i * 7));
  return x.b;
}

struct BadCase {
  std::string name;
  std::function<std::vector<uint8_t>()> make;
  std::string expect;  // substring of the error
};

std::vector<BadCase> bad_cases() {
  std::vector<BadCase> c;
  auto spec = [](std::function<void(RawSpec&)> edit) {
    return [edit] {
      RawSpec s;
      edit(s);
      return build(s);
    };
  };
  auto kv = [&](std::vector<uint8_t> extra) { return spec([extra](RawSpec& s) { s.kvs.push_back(extra); }); };

  c.push_back({"empty_file", [] { return std::vector<uint8_t>{}; }, "too short for a GGUF header"});
  c.push_back({"three_bytes", [] { return std::vector<uint8_t>{'G', 'G', 'U'}; }, "too short for a GGUF header"});
  c.push_back({"wrong_magic", spec([](RawSpec& s) { s.magic = 0x4c4d4747; }), "not a GGUF file: magic is 'GGML'"});
  c.push_back({"version_1", spec([](RawSpec& s) { s.version = 1; }), "unsupported GGUF version 1"});
  c.push_back({"version_4", spec([](RawSpec& s) { s.version = 4; }), "unsupported GGUF version 4"});
  c.push_back({"version_big_endian", spec([](RawSpec& s) { s.version = 0x03000000; }), "big-endian GGUF files are not supported"});
  c.push_back({"absurd_tensor_count", spec([](RawSpec& s) { s.n_tensors = uint64_t{1} << 60; }), "tensors cannot fit"});
  c.push_back({"absurd_kv_count", spec([](RawSpec& s) { s.n_kv = ~uint64_t{0}; }), "key/value pairs cannot fit"});
  c.push_back({"kv_count_one_too_many", spec([](RawSpec& s) { s.n_kv = 3; s.tensors.clear(); s.data_bytes = 0; s.alignment = 1; }),
               "truncated file"});
  c.push_back({"key_length_past_end", kv(Bytes().put<uint64_t>(uint64_t{1} << 62).b), "runs past the end of the file"});
  c.push_back({"string_value_past_end", kv(Bytes().str("k").put<uint32_t>(8).put<uint64_t>(100000).b),
               "runs past the end of the file"});
  c.push_back({"absurd_array_count",
               kv(Bytes().str("k").put<uint32_t>(9).put<uint32_t>(4).put<uint64_t>(uint64_t{1} << 40).b), "array count"});
  c.push_back({"absurd_string_array_count",
               kv(Bytes().str("k").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(~uint64_t{0} / 2).b), "array count"});
  c.push_back({"array_string_past_end",
               kv(Bytes().str("k").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(2).str("x").put<uint64_t>(1 << 30).b),
               "'k' value[1]: string length"});
  c.push_back({"unknown_value_type", kv(Bytes().str("k").put<uint32_t>(13).put<uint32_t>(0).b), "unknown metadata value type 13"});
  c.push_back({"unknown_array_type", kv(Bytes().str("k").put<uint32_t>(9).put<uint32_t>(77).put<uint64_t>(0).b),
               "unknown array element type 77"});
  c.push_back({"invalid_bool", kv(Bytes().str("k").put<uint32_t>(7).put<uint8_t>(2).b), "invalid bool value 2"});
  c.push_back({"duplicate_key", kv(kv_string("general.architecture", "qwen2")), "duplicate key"});
  c.push_back({"arrays_nested_too_deep", kv([] {
                 Bytes x;
                 x.str("k").put<uint32_t>(9);
                 for (int i = 0; i < 40; ++i) x.put<uint32_t>(9).put<uint64_t>(1);
                 x.put<uint32_t>(4).put<uint64_t>(0);
                 return x.b;
               }()),
               "nested deeper than"});
  c.push_back({"alignment_not_power_of_two", kv(kv_u32("general.alignment", 48)), "alignment 48 is not a power of two"});
  c.push_back({"alignment_zero", kv(kv_u32("general.alignment", 0)), "alignment 0 is not a power of two"});
  c.push_back({"alignment_wrong_type", kv(kv_string("general.alignment", "32")), "must be u32, found string"});
  c.push_back({"too_many_dims", spec([](RawSpec& s) { s.tensors[0].dims = {32, 1, 1, 1, 2}; }), "5 dimensions"});
  c.push_back({"negative_dim", spec([](RawSpec& s) { s.tensors[0].dims = {32, uint64_t{1} << 63}; }), "is out of range"});
  c.push_back({"dims_overflow", spec([](RawSpec& s) { s.tensors[0].dims = {uint64_t{1} << 32, uint64_t{1} << 32, 1u << 31}; }),
               "element count overflows"});
  c.push_back({"bytes_overflow", spec([](RawSpec& s) { s.tensors[0].dims = {uint64_t{1} << 31, uint64_t{1} << 31}; }),
               "byte size overflows 64 bits"});
  c.push_back({"huge_tensor", spec([](RawSpec& s) { s.tensors[0].dims = {uint64_t{1} << 20, uint64_t{1} << 20}; }),
               "lie outside the data section"});
  c.push_back({"unknown_tensor_type", spec([](RawSpec& s) { s.tensors[1].type = 99; }),
               "tensor[1] 'b': unsupported tensor type id 99 (not a ggml type)"});
  c.push_back({"removed_tensor_type", spec([](RawSpec& s) { s.tensors[1].type = 4; }), "unsupported tensor type id 4"});
  c.push_back({"row_not_multiple_of_block", spec([](RawSpec& s) { s.tensors[1].dims = {33, 1}; }),
               "row length 33 is not a multiple of the block size 32 of q8_0"});
  c.push_back({"misaligned_offset", spec([](RawSpec& s) { s.tensors[1].offset = 264; }),
               "offset 264 is not a multiple of the alignment 32"});
  c.push_back({"offset_past_end", spec([](RawSpec& s) { s.tensors[1].offset = uint64_t{1} << 40; }),
               "'b' data: bytes [1099511627776"});
  c.push_back({"offset_wraps_around", spec([](RawSpec& s) { s.tensors[1].offset = ~uint64_t{31}; }), "lie outside the data section"});
  c.push_back({"overlapping_tensors", spec([](RawSpec& s) { s.tensors[1].offset = 224; }), "overlap tensor 'a'"});
  c.push_back({"duplicate_tensor_name", spec([](RawSpec& s) { s.tensors[1].name = "a"; }), "duplicate tensor name"});
  c.push_back({"tensor_name_past_end",
              [] {
                RawSpec s;
                s.tensors.clear();
                s.n_tensors = 1;
                s.data_bytes = 0;
                s.alignment = 1;
                auto b = build(s);
                Bytes x;
                x.b = b;
                x.put<uint64_t>(1000).raw(std::vector<uint8_t>(30, 'n'));
                return x.b;
              },
              "tensor[0] name: string length 1000"});
  c.push_back({"data_section_truncated", spec([](RawSpec& s) { s.data_bytes = 280; }), "'b' data"});
  c.push_back({"no_data_section", spec([](RawSpec& s) { s.data_bytes = 0; }), "lie outside the data section"});
  c.push_back({"f32_data_misaligned", [] {
                 // Alignment 1 lets the data section start at an odd address.
                 for (size_t pad = 0;; ++pad) {
                   RawSpec s;
                   s.kvs.push_back(kv_u32("general.alignment", 1));
                   s.kvs.push_back(kv_string("p", std::string(pad, 'x')));
                   s.alignment = 1;
                   s.tensors = {{"a", {32, 2}, 0, 0}};
                   s.data_bytes = 256;
                   auto b = build(s);
                   if ((b.size() - 256) % 4 != 0) return b;
                 }
               },
               "misaligned for f32"});
  return c;
}

std::string load_error(const std::string& path) {
  try {
    gguf::read_gguf(path);
  } catch (const gguf::FormatError& e) {
    return e.what();
  }
  return "(loaded without error)";
}

}  // namespace

TEST(BadFiles, SyntheticBaseFileIsValid) {
  test::TempDir dir;
  test::write_bytes(dir.path("ok.gguf"), build(RawSpec{}));
  ModelFile mf = gguf::read_gguf(dir.path("ok.gguf"));
  EXPECT_EQ(mf.tensors.size(), 2u);
  EXPECT_EQ(mf.metadata.get_string_array("tokenizer.ggml.tokens").size(), 3u);
  EXPECT_EQ(mf.matrix("b").type, DType::Q8_0);
}

TEST(BadFiles, TableGivesClearErrorsInLibraryAndCli) {
  test::TempDir dir;
  for (const auto& c : bad_cases()) {
    SCOPED_TRACE(c.name);
    std::string path = dir.path(c.name + ".gguf");
    test::write_bytes(path, c.make());
    std::string e = load_error(path);
    EXPECT_EQ(e.rfind(path + ": ", 0), 0u) << "error does not start with the file name: " << e;
    EXPECT_NE(e.find(c.expect), std::string::npos) << "expected '" << c.expect << "' in: " << e;
    test::CliResult r = test::run_cli("inspect " + path);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("qes: error: " + path), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << r.output;
  }
}

TEST(BadFiles, UnsupportedTypeLoadsButFailsAtUse) {
  test::TempDir dir;
  RawSpec s;
  s.tensors = {{"blk.0.ffn_up.weight", {256, 1}, 12, 0}};  // q4_K, 144 bytes
  s.data_bytes = 160;
  std::string path = dir.path("q4k.gguf");
  test::write_bytes(path, build(s));
  ModelFile mf = gguf::read_gguf(path);
  EXPECT_THROW(
      {
        try {
          mf.matrix("blk.0.ffn_up.weight");
        } catch (const gguf::FormatError& e) {
          EXPECT_NE(std::string(e.what()).find("unsupported tensor type q4_K in tensor 'blk.0.ffn_up.weight' of file " + path),
                    std::string::npos)
              << e.what();
          throw;
        }
      },
      gguf::FormatError);
  // inspect shows it (metadata and tensor list need no data access).
  test::CliResult r = test::run_cli("inspect " + path);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("q4_K"), std::string::npos);
  // quantize refuses it with the same clear message.
  r = test::run_cli("quantize " + path + " " + dir.path("out.gguf") + " --type q8_0");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("unsupported tensor type q4_K"), std::string::npos) << r.output;
}

// Every prefix of a small valid file that ends before its last tensor's data is
// a truncated file: each must fail cleanly. (The last 30 bytes are padding.)
TEST(BadFiles, TruncatedAtEveryOffsetOfSyntheticFile) {
  std::vector<uint8_t> full = build(RawSpec{});
  const size_t end_of_data = full.size() - 320 + 256 + 34;
  for (size_t cut = 0; cut < end_of_data; ++cut) {
    std::vector<uint8_t> part(full.begin(), full.begin() + static_cast<ptrdiff_t>(cut));
    try {
      gguf::read_gguf_bytes(part.data(), part.size(), "cut.gguf");
      ADD_FAILURE() << "prefix of " << cut << " bytes loaded";
    } catch (const gguf::FormatError& e) {
      std::string m = e.what();
      bool clear = m.find("truncated") != std::string::npos || m.find("too short") != std::string::npos ||
                   m.find("runs past the end") != std::string::npos || m.find("cannot fit") != std::string::npos ||
                   m.find("lie outside") != std::string::npos;
      EXPECT_TRUE(clear) << "cut at " << cut << ": " << m;
    }
  }
}

TEST(BadFiles, TruncatedRealFiles) {
  QES_REQUIRE_SHARED_DATA(data);
  for (const char* name : {"stories260K-f32.gguf", "llama-2-tiny-random.gguf"}) {
    std::vector<uint8_t> full = test::read_bytes(data + "/" + name);
    // Every offset through the first KiB, then strides through the header and the data.
    const size_t data_start = gguf::read_gguf_bytes(full.data(), full.size(), name).data_offset;
    std::vector<size_t> cuts;
    for (size_t i = 0; i < 1024; ++i) cuts.push_back(i);
    for (size_t i = 1024; i < data_start; i += 14999) cuts.push_back(i);
    for (size_t i = data_start; i < full.size(); i += (full.size() - data_start) / 16) cuts.push_back(i);
    cuts.push_back(full.size() - 1);
    for (size_t cut : cuts) {
      try {
        gguf::read_gguf_bytes(full.data(), cut, name);
        ADD_FAILURE() << name << " cut at " << cut << " loaded";
      } catch (const gguf::FormatError& e) {
        EXPECT_EQ(std::string(e.what()).rfind(std::string(name) + ": ", 0), 0u) << e.what();
      }
    }
  }
  test::TempDir dir;
  std::vector<uint8_t> full = test::read_bytes(data + "/stories260K-f32.gguf");
  for (size_t cut : {size_t{2}, size_t{20}, size_t{5000}, size_t{14176}, full.size() - 1}) {
    std::string path = dir.path("cut" + std::to_string(cut) + ".gguf");
    test::write_bytes(path, std::vector<uint8_t>(full.begin(), full.begin() + static_cast<ptrdiff_t>(cut)));
    test::CliResult r = test::run_cli("inspect " + path);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("qes: error: " + path + ": "), std::string::npos) << r.output;
  }
}

// Random byte corruption of the header: the reader either accepts the file or
// throws FormatError; it never crashes or allocates wildly (ASan checks the rest).
TEST(BadFiles, RandomHeaderCorruptionNeverCrashes) {
  std::vector<uint8_t> base = build(RawSpec{});
  const size_t header = base.size() - 320;
  std::mt19937 rng(1234);
  int rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> b = base;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) b[rng() % header] = static_cast<uint8_t>(rng());
    try {
      ModelFile mf = gguf::read_gguf_bytes(b.data(), b.size(), "fuzz.gguf");
      for (const auto& t : mf.tensors) {
        ASSERT_LE(static_cast<const uint8_t*>(t.data) + t.bytes, b.data() + b.size());
        ASSERT_GE(static_cast<const uint8_t*>(t.data), b.data());
      }
    } catch (const gguf::FormatError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 1000);
}
