// Every compiled SIMD path against the scalar reference.
//  - Exact: on inputs where every partial sum is exact (power-of-two scales,
//    small integers) any summation order gives the same float, so the path's
//    integer accumulations and block scaling must reproduce the reference
//    bit for bit.
//  - Tolerance: on random data, |y - y_ref| <= 1e-5 * sum_k |w_k x_k| + 1e-30
//    (only the float summation order differs).
//  - Thread count: 1 and 2 threads give bit-identical results.
// Shapes cover K below and above one block (odd block counts too), rows that
// are not a multiple of the register tile or the row tile, batch 1..kMaxBatch (256).
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "kernel_test_util.hpp"

using namespace qes;
using qes::test::exact_matrix;
using qes::test::exact_vectors;
using qes::test::random_matrix;
using qes::test::random_vectors;

namespace {

constexpr DType kQuantTypes[] = {DType::Q4_0, DType::Q4_1, DType::Q8_0, DType::I4_G32, DType::I4_G64, DType::I4_G128};
constexpr DType kFloatTypes[] = {DType::F32, DType::F16};

bool runnable(Isa isa) {
  for (Isa r : runnable_isas())
    if (r == isa) return true;
  return false;
}

bool compiled(Isa isa) {
  for (Isa r : compiled_isas())
    if (r == isa) return true;
  return false;
}

// K values: below, at and above one block, odd block counts, and 4096+32.
std::vector<int64_t> ks_for(DType t) {
  std::vector<int64_t> ks;
  for (int64_t k : {32, 64, 96, 128, 160, 384, 4096 + 32, 4096 + 128})
    if (k % block_size(t) == 0) ks.push_back(k);
  return ks;
}

struct Shape {
  int64_t rows;
  int nb;
};
// Rows: 1, tails of the 4-row register tile, beyond one 32-row parallel tile.
// The large K runs only with a few batches to keep the suite fast.
std::vector<Shape> shapes_for(int64_t k) {
  if (k > 1000) return {{5, 1}, {37, 3}, {6, 64}};
  return {{1, 1}, {3, 2}, {5, 4}, {7, 5}, {37, 1}, {2, 17}, {9, 64}, {4, 63}};
}

class PathTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    const Isa isa = GetParam();
    if (!compiled(isa)) GTEST_SKIP() << "path " << isa_name(isa) << " not compiled into this binary";
    if (!runnable(isa)) GTEST_SKIP() << "path " << isa_name(isa) << " skipped: this CPU lacks it";
    std::printf("[ path     ] %s covered\n", std::string(isa_name(isa)).c_str());
  }
};

// Sets how the streaming GEMV reads 8-byte aligned rows for one scope, then
// puts back Auto, so both ways are tested whatever this CPU's default.
class LineLoadsScope {
 public:
  explicit LineLoadsScope(LineLoads mode) { set_line_loads(mode); }
  ~LineLoadsScope() { set_line_loads(LineLoads::Auto); }
  LineLoadsScope(const LineLoadsScope&) = delete;
  LineLoadsScope& operator=(const LineLoadsScope&) = delete;
};
constexpr LineLoads kBothLineLoads[] = {LineLoads::Whole, LineLoads::Split};

std::string where(DType t, int64_t rows, int64_t k, int nb) {
  return std::string(dtype_name(t)) + " " + std::to_string(rows) + "x" + std::to_string(k) + " nb=" +
         std::to_string(nb);
}

}  // namespace

TEST_P(PathTest, QuantExactAgainstReference) {
  uint32_t seed = 1;
  for (DType t : kQuantTypes) {
    for (int64_t k : ks_for(t)) {
      for (Shape s : shapes_for(k)) {
        const auto w = exact_matrix(t, s.rows, k, seed++);
        const auto xf = exact_vectors(s.nb, k, seed++);
        QuantizedActivations x;
        x.quantize(xf.data(), k, s.nb, k);
        ASSERT_EQ(x.d()[0], 1.0f);
        std::vector<float> ref(s.nb * s.rows, -1.0f), got(s.nb * s.rows, -2.0f);
        matmul_rows(Isa::Scalar, w.m, x, 0, s.rows, ref.data(), s.rows);
        matmul_rows(GetParam(), w.m, x, 0, s.rows, got.data(), s.rows);
        for (size_t i = 0; i < ref.size(); i++)
          ASSERT_EQ(got[i], ref[i]) << where(t, s.rows, k, s.nb) << " output " << i;
      }
    }
  }
}

TEST_P(PathTest, QuantRandomWithinTolerance) {
  uint32_t seed = 100;
  for (DType t : kQuantTypes) {
    for (int64_t k : ks_for(t)) {
      for (Shape s : shapes_for(k)) {
        const auto w = random_matrix(t, s.rows, k, seed++);
        const auto xf = random_vectors(s.nb, k, seed++);
        QuantizedActivations x;
        x.quantize(xf.data(), k, s.nb, k);
        std::vector<float> ref(s.nb * s.rows), got(s.nb * s.rows);
        matmul_rows(Isa::Scalar, w.m, x, 0, s.rows, ref.data(), s.rows);
        matmul_rows(GetParam(), w.m, x, 0, s.rows, got.data(), s.rows);
        std::vector<float> wrow(k);
        for (int64_t r = 0; r < s.rows; r++) {
          dequantize_row(t, w.m.row_ptr(r), wrow.data(), k);
          for (int b = 0; b < s.nb; b++) {
            double mag = 0;
            for (int64_t j = 0; j < k; j++)
              mag += std::fabs(wrow[j] * x.q()[b * k + j] * x.d()[b * x.blocks() + j / 32]);
            const float tol = static_cast<float>(1e-5 * mag + 1e-30);
            ASSERT_NEAR(got[b * s.rows + r], ref[b * s.rows + r], tol) << where(t, s.rows, k, s.nb) << " r=" << r;
          }
        }
      }
    }
  }
}

TEST_P(PathTest, FloatExactAgainstReference) {
  uint32_t seed = 200;
  for (DType t : kFloatTypes) {
    for (int64_t k : {1, 7, 16, 33, 172, 4096 + 32}) {
      for (Shape s : shapes_for(k)) {
        const auto w = exact_matrix(t, s.rows, k, seed++);
        std::vector<float> x = exact_vectors(s.nb, (k + 31) / 32 * 32, seed++);
        for (auto& v : x) v = std::fmod(v, 8.0f);  // small integers: exact products and sums
        const int64_t ldx = (k + 31) / 32 * 32;
        std::vector<float> ref(s.nb * s.rows), got(s.nb * s.rows);
        matmul_rows(Isa::Scalar, w.m, x.data(), ldx, s.nb, 0, s.rows, ref.data(), s.rows);
        matmul_rows(GetParam(), w.m, x.data(), ldx, s.nb, 0, s.rows, got.data(), s.rows);
        for (size_t i = 0; i < ref.size(); i++)
          ASSERT_EQ(got[i], ref[i]) << where(t, s.rows, k, s.nb) << " output " << i;
      }
    }
  }
}

TEST_P(PathTest, FloatRandomWithinTolerance) {
  uint32_t seed = 300;
  for (DType t : kFloatTypes) {
    for (int64_t k : {5, 172, 4096 + 32}) {
      for (Shape s : shapes_for(k)) {
        const auto w = random_matrix(t, s.rows, k, seed++);
        const auto x = random_vectors(s.nb, k, seed++);
        std::vector<float> ref(s.nb * s.rows), got(s.nb * s.rows), wrow(k);
        matmul_rows(Isa::Scalar, w.m, x.data(), k, s.nb, 0, s.rows, ref.data(), s.rows);
        matmul_rows(GetParam(), w.m, x.data(), k, s.nb, 0, s.rows, got.data(), s.rows);
        for (int64_t r = 0; r < s.rows; r++) {
          dequantize_row(t, w.m.row_ptr(r), wrow.data(), k);
          for (int b = 0; b < s.nb; b++) {
            double mag = 0;
            for (int64_t j = 0; j < k; j++) mag += std::fabs(wrow[j] * x[b * k + j]);
            ASSERT_NEAR(got[b * s.rows + r], ref[b * s.rows + r], 1e-5 * mag + 1e-30) << where(t, s.rows, k, s.nb);
          }
        }
      }
    }
  }
}

TEST_P(PathTest, ThreadCountDoesNotChangeResults) {
  const Isa before = active_isa();
  force_isa(GetParam());
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q8_0, DType::I4_G128, DType::F16}) {
    const int64_t rows = 300, k = 4096 + 128;
    const auto w = random_matrix(t, rows, k, 7);
    for (int nb : {1, 6}) {
      const auto x = random_vectors(nb, k, 8);
      std::vector<float> y1(nb * rows), y2(nb * rows);
      matmul(w.m, x.data(), k, nb, y1.data(), rows, 1);
      matmul(w.m, x.data(), k, nb, y2.data(), rows, 2);
      EXPECT_EQ(std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)), 0) << where(t, rows, k, nb);
    }
  }
  force_isa(before);
}

// A vector's outputs must not depend on how many vectors share the call (GEMV
// and GEMM tiles agree bit for bit): the model's logits, and so QES rewards,
// must not change with the batch a sequence lands in.
TEST_P(PathTest, BatchSizeDoesNotChangeResults) {
  const Isa before = active_isa();
  force_isa(GetParam());
  for (DType t : {DType::Q4_0, DType::Q4_1, DType::Q8_0, DType::I4_G64, DType::F32, DType::F16}) {
    const int64_t rows = 37, k = 4096 + 64;
    const auto w = random_matrix(t, rows, k, 21);
    const auto x = random_vectors(kMaxBatch, k, 22);
    std::vector<float> alone(rows);
    for (int nb : {2, 3, 4, 5, 8, 17, kMaxBatch}) {
      std::vector<float> batched(nb * rows);
      matmul(w.m, x.data(), k, nb, batched.data(), rows, 1);
      for (int b : {0, nb - 1}) {
        matmul(w.m, x.data() + b * k, k, 1, alone.data(), rows, 1);
        EXPECT_EQ(std::memcmp(alone.data(), batched.data() + b * rows, rows * sizeof(float)), 0)
            << where(t, rows, k, nb) << " vector " << b;
      }
    }
  }
  force_isa(before);
}

// A copy of a matrix that ends exactly where an inaccessible page begins: a
// kernel that reads one byte past the matrix crashes the test.
class GuardedMatrix {
 public:
  explicit GuardedMatrix(const QuantMatrix& src) {
    const size_t bytes = src.size_bytes(), page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t data_pages = (bytes + page - 1) / page;
    size_ = (data_pages + 1) * page;
    void* region = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) throw std::runtime_error("mmap failed");
    region_ = static_cast<uint8_t*>(region);
    uint8_t* guard = region_ + data_pages * page;
    if (mprotect(guard, page, PROT_NONE) != 0) throw std::runtime_error("mprotect failed");
    std::memcpy(guard - bytes, src.data, bytes);
    m = src;
    m.data = guard - bytes;
  }
  ~GuardedMatrix() { munmap(region_, size_); }
  GuardedMatrix(const GuardedMatrix&) = delete;
  GuardedMatrix& operator=(const GuardedMatrix&) = delete;
  QuantMatrix m;

 private:
  uint8_t* region_ = nullptr;
  size_t size_ = 0;
};

// Kernels may read ahead within a matrix (whole 64-byte vectors, a block
// chunk past a row's end) but never past its last byte: shapes with short
// rows, where a read-ahead spans several rows, and matrices large enough for
// the streaming GEMV; the results also equal those on an ordinary buffer.
TEST_P(PathTest, NeverReadsPastTheMatrix) {
  struct Case {
    DType t;
    int64_t rows, k;
  };
  const Case cases[] = {{DType::Q4_0, 16001, 32}, {DType::Q4_0, 9001, 64},  {DType::Q4_0, 1203, 416},
                        {DType::Q4_0, 37, 96},    {DType::Q8_0, 9001, 32},  {DType::Q8_0, 4001, 96},
                        {DType::Q8_0, 33, 160},   {DType::Q4_1, 9001, 64},  {DType::I4_G64, 999, 128},
                        // 8-byte aligned rows (128-multiple columns), which the
                        // streaming GEMV reads as whole, masked cache lines.
                        {DType::Q4_0, 4000, 128}, {DType::Q4_0, 600, 896},  {DType::Q8_0, 2000, 128},
                        {DType::Q8_0, 300, 896},
                        // Whole 16-row groups up to the last byte, read as
                        // whole chunks across row ends.
                        {DType::Q4_0, 608, 896},  {DType::Q8_0, 304, 896},
                        // Q4_1 batches in row lanes: 64-row copies of a large
                        // matrix, the last ending at its last byte.
                        {DType::Q4_1, 8000, 128}};
  for (const LineLoads mode : kBothLineLoads)
  for (const Case& c : cases) {
    const LineLoadsScope scope(mode);
    const auto w = random_matrix(c.t, c.rows, c.k, 31);
    const GuardedMatrix g(w.m);
    for (int nb : {1, 2, 3, 4, 17}) {
      const auto xf = random_vectors(nb, c.k, 32);
      QuantizedActivations x;
      x.quantize(xf.data(), c.k, nb, c.k);
      std::vector<float> plain(nb * c.rows), guarded(nb * c.rows);
      matmul_rows(GetParam(), w.m, x, 0, c.rows, plain.data(), c.rows);
      matmul_rows(GetParam(), g.m, x, 0, c.rows, guarded.data(), c.rows);
      // The last rows alone too (a call that starts near the end).
      matmul_rows(GetParam(), g.m, x, c.rows - 3, c.rows, guarded.data(), c.rows);
      EXPECT_EQ(std::memcmp(plain.data(), guarded.data(), plain.size() * sizeof(float)), 0)
          << where(c.t, c.rows, c.k, nb) << (mode == LineLoads::Whole ? " whole-line loads" : " split loads");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, PathTest,
                         ::testing::Values(Isa::Avx2, Isa::Avx512, Isa::Avx512Vnni, Isa::Neon, Isa::NeonDot),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

// Kernels may keep data derived from the activations between calls (the
// streaming GEMV arranges them once per QuantizedActivations::stamp()): new
// contents in the same object, or a copy, must be seen.
TEST_P(PathTest, ReusedActivationsObjectsGiveFreshResults) {
  const Isa isa = GetParam();
  const int64_t rows = 300, k = 896;  // large enough for the streaming GEMV
  for (DType t : {DType::Q4_0, DType::Q8_0}) {
    const auto w = random_matrix(t, rows, k, 51);
    const auto x1 = random_vectors(1, k, 52), x2 = random_vectors(1, k, 53);
    QuantizedActivations fresh1, fresh2, reused;
    fresh1.quantize(x1.data(), k, 1, k);
    fresh2.quantize(x2.data(), k, 1, k);
    std::vector<float> want1(rows), want2(rows), got(rows);
    matmul_rows(isa, w.m, fresh1, 0, rows, want1.data(), rows);
    matmul_rows(isa, w.m, fresh2, 0, rows, want2.data(), rows);
    ASSERT_NE(want1, want2);
    reused.quantize(x1.data(), k, 1, k);
    matmul_rows(isa, w.m, reused, 0, rows, got.data(), rows);
    EXPECT_EQ(got, want1) << where(t, rows, k, 1);
    reused.quantize_vectors(x2.data(), k, 0, 1);  // same object, same shape, new values
    matmul_rows(isa, w.m, reused, 0, 150, got.data(), rows);
    matmul_rows(isa, w.m, reused, 150, rows, got.data(), rows);
    EXPECT_EQ(got, want2) << where(t, rows, k, 1) << " after new values";
    const QuantizedActivations copy = fresh1;
    EXPECT_NE(copy.stamp(), fresh1.stamp());
    matmul_rows(isa, w.m, copy, 0, rows, got.data(), rows);
    EXPECT_EQ(got, want1) << where(t, rows, k, 1) << " copy";
  }
}

TEST(Matmul, LineLoadsCanBeForcedAndAutoIsFixedPerCpu) {
  const bool automatic = whole_line_loads();
  set_line_loads(LineLoads::Whole);
  EXPECT_TRUE(whole_line_loads());
  set_line_loads(LineLoads::Split);
  EXPECT_FALSE(whole_line_loads());
  set_line_loads(LineLoads::Auto);
  EXPECT_EQ(whole_line_loads(), automatic);
}

TEST(Matmul, PublicApiMatchesRowKernelsAndChecksInput) {
  const int64_t rows = 70, k = 256;
  const auto w = random_matrix(DType::Q4_0, rows, k, 11);
  const auto xf = random_vectors(3, k, 12);
  QuantizedActivations x;
  x.quantize(xf.data(), k, 3, k);
  std::vector<float> a(3 * rows), b(3 * rows);
  matmul(w.m, xf.data(), k, 3, a.data(), rows);
  matmul_rows(active_isa(), w.m, x, 0, rows, b.data(), rows);
  EXPECT_EQ(a, b);
  EXPECT_THROW(matmul(w.m, xf.data(), k, 0, a.data(), rows), std::invalid_argument);
  EXPECT_THROW(matmul(w.m, xf.data(), k, kMaxBatch + 1, a.data(), rows), std::invalid_argument);
  QuantizedActivations shorter;
  shorter.quantize(xf.data(), k, 1, 128);
  EXPECT_THROW(matmul(w.m, shorter, a.data(), rows), std::invalid_argument);
  EXPECT_THROW(x.quantize(xf.data(), k, 1, 100), std::invalid_argument);
  QuantMatrix bf{DType::BF16, 2, 4, nullptr};
  EXPECT_THROW(matmul(bf, xf.data(), 4, 1, a.data(), 2), std::invalid_argument);
}

TEST(Matmul, ReferenceMatchesDequantizedProduct) {
  // The scalar kernel itself against a float product of dequantized weights
  // and dequantized activations (an independent formula).
  for (DType t : kQuantTypes) {
    const int64_t rows = 9, k = 384;
    const auto w = random_matrix(t, rows, k, 21);
    const auto xf = random_vectors(2, k, 22);
    QuantizedActivations x;
    x.quantize(xf.data(), k, 2, k);
    std::vector<float> y(2 * rows), wrow(k);
    matmul_rows(Isa::Scalar, w.m, x, 0, rows, y.data(), rows);
    for (int64_t r = 0; r < rows; r++) {
      dequantize_row(t, w.m.row_ptr(r), wrow.data(), k);
      for (int b = 0; b < 2; b++) {
        double want = 0, mag = 0;
        for (int64_t j = 0; j < k; j++) {
          const double xv = double(x.q()[b * k + j]) * x.d()[b * x.blocks() + j / 32];
          want += wrow[j] * xv;
          mag += std::fabs(wrow[j] * xv);
        }
        EXPECT_NEAR(y[b * rows + r], want, 1e-5 * mag) << dtype_name(t);
        // And the activation quantization itself is within half a step.
        for (int64_t j = 0; j < k; j++)
          ASSERT_LE(std::fabs(x.q()[b * k + j] * x.d()[b * x.blocks() + j / 32] - xf[b * k + j]),
                    0.5f * x.d()[b * x.blocks() + j / 32] * 1.0001f);
      }
    }
  }
}

// The x86 Q4_0, Q8_0 and Q4_1 kernels compute every output in the scalar
// reference's order (block by block: acc + (float(isum) * (dw * dx) + m * dsum),
// no FMA), so on random data too they equal it bit for bit, for every batch
// and row range, GEMV and GEMM alike: the logits (and QES rewards) are the
// same on an AVX2 laptop and an AVX-512 server. I4 keeps its zero point as a
// float correction and is held to the tolerance test only; the NEON paths
// still sum in their own order.
TEST_P(PathTest, X86QuantKernelsEqualTheReferenceBitForBit) {
  const Isa isa = GetParam();
  if (isa != Isa::Avx2 && isa != Isa::Avx512 && isa != Isa::Avx512Vnni)
    GTEST_SKIP() << "path " << isa_name(isa) << ": sums in its own order (tolerance test only)";
  if (!runnable(isa)) GTEST_SKIP() << "path " << isa_name(isa) << " skipped: not compiled in or this CPU lacks it";
  struct Case {
    int64_t rows, k;
  };
  for (const LineLoads mode : kBothLineLoads)
  for (DType t : {DType::Q4_0, DType::Q8_0, DType::Q4_1}) {
    const LineLoadsScope scope(mode);
    // 4096 + 32 and 64 columns: rows at any even offset; 896 and 4864: rows
    // 8-byte aligned, so the streaming GEMV's aligned loads (a row's last
    // chunk 12 and 8 blocks); 896 and 576 (18 blocks): rows under two chunks,
    // whose whole 16-row groups the streaming GEMV reads as whole chunks.
    for (Case c : {Case{37, 96}, Case{70, 4096 + 32}, Case{600, 4096 + 32}, Case{5000, 64}, Case{600, 896},
                   Case{100, 4864}, Case{1030, 576}}) {
      const auto w = random_matrix(t, c.rows, c.k, 41);
      for (int nb : {1, 2, 3, 4, 5, 16, 17, 64, 130, kMaxBatch}) {
        if (c.rows * c.k * nb > int64_t{40} << 20) continue;  // keep the scalar reference quick
        const auto xf = random_vectors(nb, c.k, 42);
        QuantizedActivations x;
        x.quantize(xf.data(), c.k, nb, c.k);
        std::vector<float> ref(nb * c.rows), got(nb * c.rows);
        matmul_rows(Isa::Scalar, w.m, x, 0, c.rows, ref.data(), c.rows);
        matmul_rows(isa, w.m, x, 0, c.rows, got.data(), c.rows);
        for (size_t i = 0; i < ref.size(); i++)
          ASSERT_EQ(got[i], ref[i]) << where(t, c.rows, c.k, nb) << " output " << i
                                    << (mode == LineLoads::Whole ? " whole-line loads" : " split loads");
      }
    }
  }
}
