// Runtime dispatch: names, detection, forcing a path, kernel names.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "qes/matmul.hpp"

using namespace qes;

TEST(Dispatch, ListsPaths) {
  std::string compiled, runnable;
  // (append, not " " + string: GCC 12 -O3 raises a false -Wrestrict on that)
  for (Isa i : compiled_isas()) compiled.append(" ").append(isa_name(i));
  for (Isa i : runnable_isas()) runnable.append(" ").append(isa_name(i));
  std::printf("[ paths    ] compiled:%s\n[ paths    ] runnable on this CPU:%s\n", compiled.c_str(), runnable.c_str());
  ASSERT_FALSE(compiled_isas().empty());
  EXPECT_EQ(compiled_isas().front(), Isa::Scalar);
  EXPECT_TRUE(cpu_supports(Isa::Scalar));
  EXPECT_EQ(best_isa(), runnable_isas().back());
#if defined(__x86_64__)
  EXPECT_FALSE(cpu_supports(Isa::Neon));
  // Paths imply their predecessors on x86.
  EXPECT_TRUE(!cpu_supports(Isa::Avx512Vnni) || cpu_supports(Isa::Avx512));
  EXPECT_TRUE(!cpu_supports(Isa::Avx512) || cpu_supports(Isa::Avx2));
#endif
}

TEST(Dispatch, NamesRoundTrip) {
  for (const char* n : {"scalar", "avx2", "avx512", "avx512vnni", "neon", "neondot"}) {
    Isa isa;
    ASSERT_TRUE(isa_from_name(n, &isa)) << n;
    EXPECT_EQ(isa_name(isa), n);
  }
  Isa isa;
  EXPECT_FALSE(isa_from_name("sse9", &isa));
  EXPECT_THROW(force_isa("sse9"), std::runtime_error);
}

TEST(Dispatch, ForceEachRunnablePathAndRejectOthers) {
  const Isa before = active_isa();
  for (int i = 0; i <= static_cast<int>(Isa::NeonDot); i++) {
    const Isa isa = static_cast<Isa>(i);
    bool runnable = false;
    for (Isa r : runnable_isas()) runnable |= r == isa;
    if (runnable) {
      force_isa(isa);
      EXPECT_EQ(active_isa(), isa);
      EXPECT_EQ(kernel_name(DType::Q4_0, 1), "gemv_q4_0_q8__" + std::string(isa_name(isa)));
      EXPECT_EQ(kernel_name(DType::I4_G64, 16), "gemm_i4_q8__" + std::string(isa_name(isa)));
    } else {
      try {
        force_isa(isa);
        ADD_FAILURE() << "forcing " << isa_name(isa) << " should fail";
      } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(isa_name(isa)), std::string::npos) << e.what();
      }
    }
  }
  EXPECT_EQ(kernel_name(DType::BF16, 4, Isa::Scalar), "gemm_bf16_f32__scalar");
  EXPECT_THROW(kernel_name(DType::Q4_0, 1, Isa::NeonDot == best_isa() ? Isa::Avx2 : Isa::NeonDot), std::runtime_error);
  force_isa(before);
}
