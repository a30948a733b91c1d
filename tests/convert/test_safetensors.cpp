// The safetensors reader on files written byte by byte, good and bad.
#include <gtest/gtest.h>

#include "hf_fixture.hpp"
#include "qes/convert_hf.hpp"

namespace qes::test {
namespace {

using convert::SafetensorsFile;

// Expects open() to throw a message naming the file and containing `problem`.
void expect_open_error(const std::filesystem::path& path, const std::string& problem) {
  try {
    SafetensorsFile::open(path.string());
    FAIL() << "no error for " << problem;
  } catch (const std::exception& e) {
    EXPECT_TRUE(contains(e.what(), path.string())) << e.what();
    EXPECT_TRUE(contains(e.what(), problem)) << e.what();
  }
}

TEST(Safetensors, ReadsNamesShapesDtypesAndValues) {
  TempDir dir;
  std::vector<StTensor> ts = {make_float_tensor("a", "F32", {3, 5}, 0), make_float_tensor("b.bias", "F16", {7}, 1),
                              make_float_tensor("c", "BF16", {2, 3, 4}, 2)};
  write_file(dir / "m.safetensors", safetensors_bytes(ts));
  const auto f = SafetensorsFile::open((dir / "m.safetensors").string());
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.tensors()[0].name, "a");  // header order kept
  EXPECT_EQ(f.tensors()[2].name, "c");
  const auto* b = f.find("b.bias");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->dtype, "F16");
  EXPECT_EQ(b->shape, (std::vector<int64_t>{7}));
  EXPECT_EQ(f.find("nope"), nullptr);
  for (int k = 0; k < 3; ++k) {
    const auto& t = f.tensors()[k];
    std::vector<float> v(static_cast<size_t>(t.n_elements()));
    t.read_floats(0, t.n_elements(), v.data());
    for (int64_t i = 0; i < t.n_elements(); ++i) ASSERT_EQ(v[i], fixture_value(k, i)) << t.name << " element " << i;
    EXPECT_EQ(t.element(t.n_elements() - 1), fixture_value(k, t.n_elements() - 1));
  }
}

TEST(Safetensors, UnalignedHeaderStillReadsF32) {
  TempDir dir;
  auto bytes = safetensors_bytes({make_float_tensor("x", "F32", {4}, 3)});
  // Remove the header's padding spaces so the data starts at an odd offset.
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t{bytes[i]} << (8 * i);
  uint64_t trimmed = n;
  while (bytes[8 + trimmed - 1] == ' ') --trimmed;
  bytes.erase(bytes.begin() + 8 + static_cast<long>(trimmed), bytes.begin() + 8 + static_cast<long>(n));
  bytes.insert(bytes.begin() + 8 + static_cast<long>(trimmed), ' ');  // one space: 8 + len is odd or at least unpadded
  ++trimmed;
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(trimmed >> (8 * i));
  write_file(dir / "u.safetensors", bytes);
  const auto f = SafetensorsFile::open((dir / "u.safetensors").string());
  for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(f.tensors()[0].element(i), fixture_value(3, i));
}

TEST(Safetensors, BadFilesGiveClearErrors) {
  TempDir dir;
  const auto good = safetensors_bytes({make_float_tensor("w", "F32", {4, 8}, 0)});
  uint64_t header = 0;
  for (int i = 0; i < 8; ++i) header |= uint64_t{good[i]} << (8 * i);

  write_file(dir / "tiny.safetensors", {1, 2, 3});
  expect_open_error(dir / "tiny.safetensors", "not even the 8-byte header length");

  write_file(dir / "empty.safetensors", {});
  expect_open_error(dir / "empty.safetensors", "truncated file");

  auto past = good;
  past.resize(8 + header - 10);  // cut inside the header
  write_file(dir / "past.safetensors", past);
  expect_open_error(dir / "past.safetensors", "runs past the end of the file");

  auto truncated = good;
  truncated.resize(truncated.size() - 4);  // cut inside the data
  write_file(dir / "truncated.safetensors", truncated);
  expect_open_error(dir / "truncated.safetensors", "truncated file?");

  auto huge = good;
  for (int i = 0; i < 8; ++i) huge[i] = 0xFF;
  write_file(dir / "huge.safetensors", huge);
  expect_open_error(dir / "huge.safetensors", "implausible");

  auto notjson = good;
  notjson[8] = '[';
  notjson[9] = '!';
  write_file(dir / "notjson.safetensors", notjson);
  expect_open_error(dir / "notjson.safetensors", "header is not valid JSON");

  auto with_dtype = [&](const std::string& dtype) {
    StTensor t = make_float_tensor("w", "F32", {4, 8}, 0);
    t.dtype = dtype;
    return safetensors_bytes({t});
  };
  write_file(dir / "dtype.safetensors", with_dtype("Q9"));
  expect_open_error(dir / "dtype.safetensors", "tensor 'w': unknown dtype 'Q9'");

  StTensor mismatch = make_float_tensor("w", "F32", {4, 8}, 0);
  mismatch.shape = {4, 9};
  write_file(dir / "shape.safetensors", safetensors_bytes({mismatch}));
  expect_open_error(dir / "shape.safetensors", "tensor 'w': shape [4, 9] of F32 needs 144 bytes, but data_offsets [0,128] give 128");

  write_file(dir / "neg.safetensors", frame_safetensors(R"({"w":{"dtype":"F32","shape":[-4,8],"data_offsets":[0,128]}})",
                                                        make_float_tensor("w", "F32", {4, 8}, 0).bytes));
  expect_open_error(dir / "neg.safetensors", "is not a list of non-negative integers");

  write_file(dir / "nooffsets.safetensors", frame_safetensors(R"({"w":{"dtype":"F32","shape":[4,8]}})"));
  expect_open_error(dir / "nooffsets.safetensors", "data_offsets");

  // A dtype safetensors has but qes does not convert: the file opens, reading floats fails.
  write_file(dir / "i64.safetensors", safetensors_bytes({StTensor{"ids", "I64", {4}, std::vector<uint8_t>(32, 0)}}));
  const auto f = SafetensorsFile::open((dir / "i64.safetensors").string());
  float x;
  try {
    f.tensors()[0].read_floats(0, 1, &x);
    FAIL() << "I64 read as floats";
  } catch (const std::exception& e) {
    EXPECT_TRUE(contains(e.what(), "tensor 'ids' has dtype I64"));
    EXPECT_TRUE(contains(e.what(), "i64.safetensors"));
  }
}

TEST(Safetensors, MissingFileNamesIt) {
  TempDir dir;
  expect_open_error(dir / "absent.safetensors", "cannot open");
}

}  // namespace
}  // namespace qes::test
