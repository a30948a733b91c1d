// Every compiled float-op variant the CPU runs, against the scalar reference
// (simd/float_ops_ref.cpp), on lengths around every vector width (tails
// included). Variants the CPU lacks are skipped, and the list of covered and
// skipped paths is printed.
//
// Tolerances (the variants reorder sums, fuse multiply-adds and use xsimd's
// exp instead of libm's; f16 -> f32 must be exact):
//   f16_to_f32             exact, all 65536 inputs
//   rmsnorm                |d| <= 1e-5 |ref| + 1e-6 max|ref|
//   rope                   |d| <= 1e-6 (|x_a| + |x_b|) of the pair
//   softmax                |d| <= 2e-5 |ref| + 1e-9
//   silu_mul               |d| <= 2e-5 |ref| + 1e-30
//   attention dot products |d| <= 1e-5 * sum of |terms| + 1e-30 (one head or
//                          several sharing the keys: the same bound)
//   f32_to_f16             exact (bit for bit qes::fp32_to_fp16)
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "float_ops_table.hpp"
#include "qes/float_ops.hpp"
#include "qes/quant.hpp"

namespace qes::simd {
namespace {

using ops::RopeStyle;

const FloatOps& ref() { return kFloatOpsScalar; }

// Lengths around the vector widths in use (4, 8, 16 floats) and a block.
const size_t kLengths[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257, 1000};

std::vector<float> random_floats(size_t n, std::mt19937& rng, float stddev = 1.0f) {
  std::normal_distribution<float> normal(0.0f, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// Random finite halves of moderate size (exponent field 8..21: |x| in [2^-7, 2^7)),
// plus some zeros and subnormals.
std::vector<uint16_t> random_halves(size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> exponent(8, 21), mantissa(0, 1023), sign(0, 1), kind(0, 15);
  std::vector<uint16_t> v(n);
  for (uint16_t& h : v) {
    const int k = kind(rng);
    const int e = k == 0 ? 0 : exponent(rng);  // 1 in 16 is zero or subnormal
    h = static_cast<uint16_t>(sign(rng) << 15 | e << 10 | mantissa(rng));
  }
  return v;
}

class FloatOpsVariantTest : public ::testing::TestWithParam<FloatOpsVariant> {
 protected:
  void SetUp() override {
    if (!cpu_supports(GetParam().isa)) {
      GTEST_SKIP() << "float ops '" << GetParam().ops->isa << "': not supported by this CPU";
    }
  }
  const FloatOps& ops() const { return *GetParam().ops; }
  std::mt19937 rng{12345};
};

TEST_P(FloatOpsVariantTest, F16ToF32IsExactForEveryHalf) {
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); i++) all[i] = static_cast<uint16_t>(i);
  std::vector<float> got(all.size()), want(all.size());
  // Odd offsets and lengths exercise the unaligned and tail paths.
  for (size_t offset : {size_t{0}, size_t{3}}) {
    const size_t n = all.size() - offset;
    ops().f16_to_f32(got.data(), all.data() + offset, n);
    ref().f16_to_f32(want.data(), all.data() + offset, n);
    for (size_t i = 0; i < n; i++) {
      if (std::isnan(want[i])) {
        ASSERT_TRUE(std::isnan(got[i])) << "half 0x" << std::hex << all[offset + i];
      } else {
        uint32_t g, w;
        std::memcpy(&g, &got[i], 4);
        std::memcpy(&w, &want[i], 4);
        ASSERT_EQ(g, w) << "half 0x" << std::hex << all[offset + i];
      }
    }
  }
  // Spot checks of the reference itself.
  const uint16_t halves[] = {0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00, 0x8000};
  float values[6];
  ref().f16_to_f32(values, halves, 6);
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], -2.0f);
  EXPECT_EQ(values[2], std::ldexp(1.0f, -24));
  EXPECT_EQ(values[3], 65504.0f);
  EXPECT_TRUE(std::isinf(values[4]) && values[4] > 0);
  EXPECT_TRUE(values[5] == 0.0f && std::signbit(values[5]));
}

TEST_P(FloatOpsVariantTest, RmsNormMatchesReference) {
  for (size_t n : kLengths) {
    const std::vector<float> x = random_floats(n, rng, 3.0f), w = random_floats(n, rng);
    std::vector<float> got(n), want(n);
    ops().rmsnorm(got.data(), x.data(), w.data(), n, 1e-5f);
    ref().rmsnorm(want.data(), x.data(), w.data(), n, 1e-5f);
    float max_ref = 0.0f;
    for (float v : want) max_ref = std::fmax(max_ref, std::fabs(v));
    for (size_t i = 0; i < n; i++) {
      ASSERT_NEAR(got[i], want[i], 1e-5f * std::fabs(want[i]) + 1e-6f * max_ref) << "n=" << n << " i=" << i;
    }
    // In place (out == x) gives the same result.
    std::vector<float> in_place = x;
    ops().rmsnorm(in_place.data(), in_place.data(), w.data(), n, 1e-5f);
    for (size_t i = 0; i < n; i++) ASSERT_EQ(in_place[i], got[i]) << "in place, n=" << n;
  }
}

TEST_P(FloatOpsVariantTest, RopeMatchesReferenceBothOrderings) {
  const int rot_dims[] = {2, 4, 6, 8, 10, 16, 18, 32, 34, 64, 80, 128, 256};
  for (RopeStyle style : {RopeStyle::Interleaved, RopeStyle::HalfSplit}) {
    for (int rot_dim : rot_dims) {
      for (int extra : {0, 6}) {  // rot_dim < head_dim: the rest is left alone
        const int head_dim = rot_dim + extra, n_heads = 3;
        const int64_t pos = std::uniform_int_distribution<int64_t>(0, 40000)(rng);
        std::vector<float> cos(rot_dim / 2), sin(rot_dim / 2);
        ops::rope_angles(cos.data(), sin.data(), rot_dim, pos, 10000.0f);
        const std::vector<float> x = random_floats(static_cast<size_t>(n_heads) * head_dim, rng);
        std::vector<float> got = x, want = x;
        ops().rope_apply(got.data(), n_heads, head_dim, rot_dim, cos.data(), sin.data(), style);
        ref().rope_apply(want.data(), n_heads, head_dim, rot_dim, cos.data(), sin.data(), style);
        for (int h = 0; h < n_heads; h++) {
          for (int j = 0; j < head_dim; j++) {
            const size_t i = static_cast<size_t>(h) * head_dim + j;
            if (j >= rot_dim) {
              ASSERT_EQ(got[i], x[i]);
              ASSERT_EQ(want[i], x[i]);
              continue;
            }
            const int partner = style == RopeStyle::Interleaved ? j ^ 1 : (j < rot_dim / 2 ? j + rot_dim / 2 : j - rot_dim / 2);
            const float pair_size = std::fabs(x[i]) + std::fabs(x[h * head_dim + partner]);
            ASSERT_NEAR(got[i], want[i], 1e-6f * pair_size)
                << (style == RopeStyle::Interleaved ? "interleaved" : "half-split")
                << " rot_dim=" << rot_dim << " head_dim=" << head_dim << " j=" << j;
          }
        }
      }
    }
  }
}

// The two orderings are the same rotation of differently laid-out pairs:
// moving element 2i to i and 2i+1 to i + rot/2 maps one onto the other.
TEST_P(FloatOpsVariantTest, RopeOrderingsAgreeUnderPermutation) {
  const int rot_dim = 64, head_dim = 64;
  std::vector<float> cos(rot_dim / 2), sin(rot_dim / 2);
  ops::rope_angles(cos.data(), sin.data(), rot_dim, 1234, 1e6f);
  const std::vector<float> x = random_floats(head_dim, rng);
  std::vector<float> interleaved = x, half(head_dim);
  for (int i = 0; i < rot_dim / 2; i++) {
    half[i] = x[2 * i];
    half[i + rot_dim / 2] = x[2 * i + 1];
  }
  ops().rope_apply(interleaved.data(), 1, head_dim, rot_dim, cos.data(), sin.data(), RopeStyle::Interleaved);
  ops().rope_apply(half.data(), 1, head_dim, rot_dim, cos.data(), sin.data(), RopeStyle::HalfSplit);
  for (int i = 0; i < rot_dim / 2; i++) {
    EXPECT_EQ(half[i], interleaved[2 * i]);  // same operations in the same order
    EXPECT_EQ(half[i + rot_dim / 2], interleaved[2 * i + 1]);
  }
}

TEST_P(FloatOpsVariantTest, SoftmaxMatchesReference) {
  for (size_t n : kLengths) {
    std::vector<float> x = random_floats(n, rng, 5.0f);
    std::vector<float> got = x, want = x;
    ops().softmax(got.data(), n);
    ref().softmax(want.data(), n);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
      ASSERT_NEAR(got[i], want[i], 2e-5f * want[i] + 1e-9f) << "n=" << n << " i=" << i;
      sum += got[i];
    }
    EXPECT_NEAR(sum, 1.0, 1e-5) << "n=" << n;
  }
}

TEST_P(FloatOpsVariantTest, SoftmaxIsStableAndMasksMinusInfinity) {
  // exp(1000) overflows a float: only subtracting the max keeps this finite.
  std::vector<float> x = {1000.0f, 1001.0f, 999.0f, -INFINITY, 1000.0f, -INFINITY, 998.0f, 1001.0f, 1000.5f};
  std::vector<float> want = x;
  ops().softmax(x.data(), x.size());
  ref().softmax(want.data(), want.size());
  for (size_t i = 0; i < x.size(); i++) {
    ASSERT_TRUE(std::isfinite(x[i])) << i;
    ASSERT_NEAR(x[i], want[i], 2e-5f * want[i] + 1e-9f) << i;
  }
  EXPECT_EQ(x[3], 0.0f);
  EXPECT_EQ(x[5], 0.0f);
  EXPECT_NEAR(x[1], x[7], 1e-7f);
}

TEST_P(FloatOpsVariantTest, SiluMulMatchesReference) {
  for (size_t n : kLengths) {
    std::vector<float> a = random_floats(n, rng, 4.0f), b = random_floats(n, rng);
    if (n >= 4) {  // far tails: exp(-a) overflows / underflows
      a[0] = -100.0f;
      a[1] = 100.0f;
      a[2] = -1000.0f;
      a[3] = 88.5f;
    }
    std::vector<float> got(n), want(n);
    ops().silu_mul(got.data(), a.data(), b.data(), n);
    ref().silu_mul(want.data(), a.data(), b.data(), n);
    for (size_t i = 0; i < n; i++) {
      ASSERT_TRUE(std::isfinite(got[i])) << "a=" << a[i];
      ASSERT_NEAR(got[i], want[i], 2e-5f * std::fabs(want[i]) + 1e-30f) << "n=" << n << " a=" << a[i];
    }
    // Output aliasing the first input.
    std::vector<float> in_place = a;
    ops().silu_mul(in_place.data(), in_place.data(), b.data(), n);
    for (size_t i = 0; i < n; i++) ASSERT_EQ(in_place[i], got[i]);
  }
}

struct AttentionShape {
  size_t head_dim, n_keys, stride;
};
std::vector<AttentionShape> attention_shapes() {
  std::vector<AttentionShape> shapes;
  for (size_t head_dim : {1, 3, 4, 8, 15, 16, 17, 32, 48, 64, 80, 96, 128, 130}) {
    for (size_t n_keys : {1, 2, 3, 4, 5, 7, 8, 33}) {
      shapes.push_back({head_dim, n_keys, head_dim});
      shapes.push_back({head_dim, n_keys, head_dim + 5});  // keys of several heads interleaved
    }
  }
  return shapes;
}

template <class KV>
float as_float(KV v) {
  if constexpr (std::is_same_v<KV, float>) {
    return v;
  } else {
    float f;
    kFloatOpsScalar.f16_to_f32(&f, &v, 1);
    return f;
  }
}

template <class KV>
using ScoresFn = void (*)(float*, size_t, const float*, size_t, const KV*, size_t, size_t, size_t, float);
template <class KV>
using WeightedSumFn = void (*)(float*, const float*, size_t, size_t, const KV*, size_t, size_t, size_t);

// n_heads query heads sharing the keys and values (grouped-query attention):
// 1 to 9 covers every chunk of 4, 2 and 1 heads the variants use.
template <class KV>
void check_attention(const FloatOps& ops, std::mt19937& rng, ScoresFn<KV> scores_fn, ScoresFn<KV> ref_scores_fn,
                     WeightedSumFn<KV> sum_fn, WeightedSumFn<KV> ref_sum_fn) {
  size_t shape_index = 0;
  for (const AttentionShape& s : attention_shapes()) {
    const size_t n_heads = 1 + shape_index++ % 9;
    const size_t cache = s.stride * s.n_keys;
    std::vector<KV> kv(cache);
    if constexpr (std::is_same_v<KV, float>) {
      kv = random_floats(cache, rng);
    } else {
      kv = random_halves(cache, rng);
    }
    const std::vector<float> q = random_floats(n_heads * s.head_dim, rng);
    const float scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
    const size_t ld = s.n_keys + 3;  // rows of scores / weights further apart than n_keys

    std::vector<float> got(n_heads * ld, NAN), want(n_heads * ld, NAN);
    scores_fn(got.data(), ld, q.data(), n_heads, kv.data(), s.stride, s.n_keys, s.head_dim, scale);
    ref_scores_fn(want.data(), ld, q.data(), n_heads, kv.data(), s.stride, s.n_keys, s.head_dim, scale);
    for (size_t h = 0; h < n_heads; h++) {
      for (size_t t = 0; t < s.n_keys; t++) {
        float abs_terms = 0.0f;
        for (size_t d = 0; d < s.head_dim; d++) abs_terms += std::fabs(q[h * s.head_dim + d] * as_float(kv[t * s.stride + d]));
        ASSERT_NEAR(got[h * ld + t], want[h * ld + t], 1e-5f * abs_terms * scale + 1e-30f)
            << ops.isa << " scores: head_dim=" << s.head_dim << " n_keys=" << s.n_keys << " stride=" << s.stride
            << " n_heads=" << n_heads << " h=" << h << " t=" << t;
      }
      for (size_t t = s.n_keys; t < ld; t++) ASSERT_TRUE(std::isnan(got[h * ld + t])) << "wrote past n_keys";
    }
    // A key's score does not depend on how many keys follow it (a decode step
    // and a longer prefill agree).
    if (s.n_keys > 1) {
      std::vector<float> fewer(n_heads * ld, NAN);
      scores_fn(fewer.data(), ld, q.data(), n_heads, kv.data(), s.stride, s.n_keys - 1, s.head_dim, scale);
      for (size_t h = 0; h < n_heads; h++)
        for (size_t t = 0; t + 1 < s.n_keys; t++) ASSERT_EQ(fewer[h * ld + t], got[h * ld + t]) << ops.isa << " t=" << t;
    }

    const std::vector<float> w = random_floats(n_heads * ld, rng);
    std::vector<float> out(n_heads * s.head_dim, NAN), out_ref(n_heads * s.head_dim);
    sum_fn(out.data(), w.data(), ld, n_heads, kv.data(), s.stride, s.n_keys, s.head_dim);
    ref_sum_fn(out_ref.data(), w.data(), ld, n_heads, kv.data(), s.stride, s.n_keys, s.head_dim);
    for (size_t h = 0; h < n_heads; h++) {
      for (size_t d = 0; d < s.head_dim; d++) {
        float abs_terms = 0.0f;
        for (size_t t = 0; t < s.n_keys; t++) abs_terms += std::fabs(w[h * ld + t] * as_float(kv[t * s.stride + d]));
        const size_t i = h * s.head_dim + d;
        ASSERT_NEAR(out[i], out_ref[i], 1e-5f * abs_terms + 1e-30f)
            << ops.isa << " weighted sum: head_dim=" << s.head_dim << " n_keys=" << s.n_keys << " stride=" << s.stride
            << " n_heads=" << n_heads << " h=" << h << " d=" << d;
      }
    }
    // Each head alone gives, bit for bit, what it gives in the group: a score's
    // cross-lane sum is the same tree whichever slot of the reduction it takes,
    // and an output element the same chain of multiply-adds. So a row's
    // attention does not depend on how many heads (or rows) share the keys.
    for (size_t h = 0; h < n_heads; h++) {
      std::vector<float> one(s.n_keys), one_out(s.head_dim);
      scores_fn(one.data(), s.n_keys, q.data() + h * s.head_dim, 1, kv.data(), s.stride, s.n_keys, s.head_dim, scale);
      sum_fn(one_out.data(), w.data() + h * ld, s.n_keys, 1, kv.data(), s.stride, s.n_keys, s.head_dim);
      for (size_t t = 0; t < s.n_keys; t++) ASSERT_EQ(one[t], got[h * ld + t]) << ops.isa << " one head, t=" << t;
      for (size_t d = 0; d < s.head_dim; d++) ASSERT_EQ(one_out[d], out[h * s.head_dim + d]) << ops.isa << " one head, d=" << d;
    }
  }
}

TEST_P(FloatOpsVariantTest, AttentionF32MatchesReference) {
  check_attention<float>(ops(), rng, ops().attn_scores_f32, ref().attn_scores_f32,
                         ops().attn_weighted_sum_f32, ref().attn_weighted_sum_f32);
}

TEST_P(FloatOpsVariantTest, AttentionF16MatchesReference) {
  check_attention<uint16_t>(ops(), rng, ops().attn_scores_f16, ref().attn_scores_f16,
                            ops().attn_weighted_sum_f16, ref().attn_weighted_sum_f16);
}

// Floats whose f16 rounding is hardest: every half, its float neighbours, the
// exact midpoints between adjacent halves (ties) and their neighbours, across
// the normal, subnormal, overflow and underflow ranges, plus infinities and NaNs.
std::vector<float> f16_rounding_cases() {
  std::vector<float> v;
  auto add_around = [&v](float f) {
    v.push_back(f);
    v.push_back(std::nextafter(f, INFINITY));
    v.push_back(std::nextafter(f, -INFINITY));
  };
  for (uint32_t h = 0; h < 0x7c00; h++) {
    float f, next;
    const uint16_t a = static_cast<uint16_t>(h), b = static_cast<uint16_t>(h + 1);
    kFloatOpsScalar.f16_to_f32(&f, &a, 1);
    kFloatOpsScalar.f16_to_f32(&next, &b, 1);  // h + 1 = 0x7c00 is infinity: 65520 is the midpoint
    const float mid = h == 0x7bff ? 65520.0f : f + (next - f) / 2;  // exact: one more bit
    for (float sign : {1.0f, -1.0f}) {
      add_around(sign * f);
      add_around(sign * mid);
    }
  }
  for (float f : {1e-30f, 1e-10f, 2.9e-8f, 3e-8f, 5.96e-8f, 1e5f, 1e30f, 3e38f, INFINITY, -INFINITY, NAN,
                  std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::min()})
    add_around(f);
  for (uint32_t bits : {0x7f800001u, 0x7fc00000u, 0xffbfffffu, 0x7fa02000u, 0xff801fffu}) {  // NaN payloads
    float f;
    std::memcpy(&f, &bits, 4);
    v.push_back(f);
  }
  return v;
}

TEST_P(FloatOpsVariantTest, F32ToF16MatchesTheScalarRoundingBitForBit) {
  const std::vector<float> cases = f16_rounding_cases();
  std::vector<uint16_t> got(cases.size()), want(cases.size());
  for (size_t offset : {size_t{0}, size_t{5}}) {  // unaligned start, tail of every length mod the width
    const size_t n = cases.size() - offset;
    ops().f32_to_f16(got.data(), cases.data() + offset, n);
    for (size_t i = 0; i < n; i++) want[i] = fp32_to_fp16(cases[offset + i]);
    for (size_t i = 0; i < n; i++) {
      uint32_t bits;
      std::memcpy(&bits, &cases[offset + i], 4);
      ASSERT_EQ(got[i], want[i]) << ops().isa << ": float bits 0x" << std::hex << bits;
    }
  }
  for (size_t n : kLengths) {  // short calls: the tail path alone
    std::vector<uint16_t> out(n + 1, 0xabcd);
    ops().f32_to_f16(out.data(), cases.data() + 1000, n);
    for (size_t i = 0; i < n; i++) ASSERT_EQ(out[i], fp32_to_fp16(cases[1000 + i])) << "n=" << n;
    ASSERT_EQ(out[n], 0xabcd) << "wrote past n=" << n;
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, FloatOpsVariantTest, ::testing::ValuesIn(float_ops_variants().begin(), float_ops_variants().end()),
                         [](const ::testing::TestParamInfo<FloatOpsVariant>& info) {
                           return std::string(info.param.ops->isa);
                         });

// The reference itself, against values worked out by hand.
TEST(FloatOpsReference, WorkedValues) {
  float x[4] = {1.0f, -2.0f, 3.0f, -4.0f}, w[4] = {1.0f, 1.0f, 2.0f, 0.5f}, out[4];
  ref().rmsnorm(out, x, w, 4, 0.0f);  // mean square 7.5
  const float r = 1.0f / std::sqrt(7.5f);
  EXPECT_FLOAT_EQ(out[0], r);
  EXPECT_FLOAT_EQ(out[2], 6.0f * r);
  EXPECT_FLOAT_EQ(out[3], -2.0f * r);

  float s[3] = {0.0f, std::log(2.0f), std::log(5.0f)};  // e^s = 1, 2, 5
  ref().softmax(s, 3);
  EXPECT_FLOAT_EQ(s[0], 0.125f);
  EXPECT_FLOAT_EQ(s[2], 0.625f);

  float a = 1.0f, b = 3.0f, silu;
  ref().silu_mul(&silu, &a, &b, 1);
  EXPECT_FLOAT_EQ(silu, 3.0f / (1.0f + std::exp(-1.0f)));

  // RoPE: pair 0 turns by pos radians, pair i by pos * base^(-2i/rot_dim).
  float cos[2], sin[2];
  ops::rope_angles(cos, sin, 4, 3, 10000.0f);
  EXPECT_FLOAT_EQ(cos[0], static_cast<float>(std::cos(3.0)));
  EXPECT_FLOAT_EQ(sin[1], static_cast<float>(std::sin(3.0 * 0.01)));
  float v[4] = {1.0f, 0.0f, 0.0f, 1.0f};
  ref().rope_apply(v, 1, 4, 4, cos, sin, RopeStyle::Interleaved);  // (1,0) by 3 rad, (0,1) by 0.03
  EXPECT_FLOAT_EQ(v[0], cos[0]);
  EXPECT_FLOAT_EQ(v[1], sin[0]);
  EXPECT_FLOAT_EQ(v[2], -sin[1]);
  EXPECT_FLOAT_EQ(v[3], cos[1]);
  float h[4] = {1.0f, 0.0f, 0.0f, 1.0f};
  ref().rope_apply(h, 1, 4, 4, cos, sin, RopeStyle::HalfSplit);  // pairs (h0,h2), (h1,h3)
  EXPECT_FLOAT_EQ(h[0], cos[0]);
  EXPECT_FLOAT_EQ(h[2], sin[0]);
  EXPECT_FLOAT_EQ(h[1], -sin[1]);
  EXPECT_FLOAT_EQ(h[3], cos[1]);

  float q[2] = {1.0f, 2.0f}, keys[6] = {1.0f, 1.0f, 9.0f, -1.0f, 0.5f, 9.0f};  // stride 3
  float scores[2];
  ref().attn_scores_f32(scores, 2, q, 1, keys, 3, 2, 2, 0.5f);
  EXPECT_FLOAT_EQ(scores[0], 1.5f);
  EXPECT_FLOAT_EQ(scores[1], 0.0f);
  float weights[2] = {0.25f, 0.75f}, o[2];
  ref().attn_weighted_sum_f32(o, weights, 2, 1, keys, 3, 2, 2);
  EXPECT_FLOAT_EQ(o[0], 0.25f - 0.75f);
  EXPECT_FLOAT_EQ(o[1], 0.25f + 0.375f);

  // fp32 -> fp16: ties go to the even half, overflow to infinity.
  const float to_half[5] = {1.0f + 0x1p-11f, 1.0f + 3 * 0x1p-11f, 65520.0f, 65519.0f, 0x1p-25f};
  uint16_t halves[5];
  ref().f32_to_f16(halves, to_half, 5);
  EXPECT_EQ(halves[0], 0x3c00);  // halfway between 1 and 1 + 2^-10: even (1)
  EXPECT_EQ(halves[1], 0x3c02);  // halfway between 1 + 2^-10 and 1 + 2^-9: even (the latter)
  EXPECT_EQ(halves[2], 0x7c00);  // halfway between 65504 and 65536: infinity
  EXPECT_EQ(halves[3], 0x7bff);  // 65504
  EXPECT_EQ(halves[4], 0x0000);  // half the smallest subnormal: ties to even zero
}

TEST(FloatOpsPublicApi, RejectsBadShapesAndUsesTheChosenPath) {
  std::vector<float> x(16, 1.0f);
  EXPECT_THROW(ops::rope(x.data(), 1, 16, 3, 0, 10000.0f, RopeStyle::Interleaved), std::invalid_argument);
  EXPECT_THROW(ops::rope(x.data(), 1, 8, 10, 0, 10000.0f, RopeStyle::HalfSplit), std::invalid_argument);
  EXPECT_THROW(ops::softmax(x.data(), 0), std::invalid_argument);
  ops::rope(x.data(), 1, 16, 16, 0, 10000.0f, RopeStyle::Interleaved);  // position 0: identity
  for (float v : x) EXPECT_EQ(v, 1.0f);

  // The float ops follow the kernel path, including a forced one.
  const Isa before = active_isa();
  for (Isa isa : runnable_isas()) {
    force_isa(isa);
    const std::string want = float_ops_for(isa).isa;
    EXPECT_EQ(ops::float_ops_isa(), want) << "kernel path " << isa_name(isa);
    const Isa family = isa == Isa::Avx512Vnni ? Isa::Avx512 : isa == Isa::NeonDot ? Isa::Neon : isa;
    bool compiled = false;
    for (const FloatOpsVariant& v : float_ops_variants()) compiled |= v.isa == family;
    if (compiled) {
      EXPECT_EQ(want, isa_name(family));
    } else {
      EXPECT_EQ(want, "scalar");
    }
  }
  force_isa(before);
}

// Printed once: which float-op paths this run covered and which it skipped.
TEST(FloatOpsCoverage, PrintCoveredAndSkippedPaths) {
  std::string covered, skipped;
  for (const FloatOpsVariant& v : float_ops_variants()) {
    (cpu_supports(v.isa) ? covered : skipped) += std::string(" ") + v.ops->isa;
  }
  std::printf("[ float ops ] covered:%s\n[ float ops ] skipped (CPU lacks them):%s\n[ float ops ] in use: %s\n",
              covered.c_str(), skipped.empty() ? " none" : skipped.c_str(), ops::float_ops_isa());
  EXPECT_FALSE(covered.empty());
}

}  // namespace
}  // namespace qes::simd
