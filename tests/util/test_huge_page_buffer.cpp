// HugePageBuffer: the KV cache's memory (include/qes/huge_page_buffer.hpp).
#include <gtest/gtest.h>

#include <cstring>
#include <utility>

#include "qes/huge_page_buffer.hpp"

namespace qes {
namespace {

TEST(HugePageBuffer, IsAlignedForHugePagesAndWritableToItsEnd) {
  const size_t bytes = 3 * HugePageBuffer::kAlignment + 12345;  // not a whole number of huge pages
  HugePageBuffer b(bytes);
  ASSERT_NE(b.data(), nullptr);
  EXPECT_EQ(b.size(), bytes);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % HugePageBuffer::kAlignment, 0u);
  std::memset(b.data(), 0x5a, bytes);
  EXPECT_EQ(b.data()[0], 0x5a);
  EXPECT_EQ(b.data()[bytes - 1], 0x5a);
}

TEST(HugePageBuffer, FreshMemoryReadsAsZero) {
  HugePageBuffer b(size_t{1} << 20);
  for (size_t i = 0; i < b.size(); i += 4096) ASSERT_EQ(b.data()[i], 0) << i;
}

TEST(HugePageBuffer, MovesOwnership) {
  HugePageBuffer a(4096);
  uint8_t* p = a.data();
  p[10] = 7;
  HugePageBuffer b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b.data()[10], 7);
  HugePageBuffer c(100);
  c = std::move(b);  // c's own mapping is released, b's taken over
  EXPECT_EQ(c.data(), p);
  EXPECT_EQ(c.size(), 4096u);
  EXPECT_EQ(b.data(), nullptr);
}

TEST(HugePageBuffer, EmptyHoldsNothing) {
  HugePageBuffer b(0);
  EXPECT_EQ(b.data(), nullptr);
  EXPECT_EQ(b.size(), 0u);
}

}  // namespace
}  // namespace qes
