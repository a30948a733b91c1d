// RowShares (src/model/ops.hpp): every tile of every share is handed out
// exactly once, owners half of what is left from the front, others from the
// back, under concurrent taking. (That the forward pass computes the same
// bits with them is ForwardBatch's test.)
#include "ops.hpp"
#include "qes/matmul.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <random>
#include <vector>

namespace qes::model_ops {
namespace {

TEST(RowShares, OwnerTakesHalfOfWhatIsLeftFromTheFrontOthersFromTheBack) {
  RowShares s;
  s.resize(2);
  s.open(0, 10);
  int64_t a = -1, b = -1;
  ASSERT_TRUE(s.take_front(0, 2, &a, &b));  // half of 10
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 5);
  ASSERT_TRUE(s.take_back(0, 3, &a, &b));
  EXPECT_EQ(a, 7);
  EXPECT_EQ(b, 10);
  ASSERT_TRUE(s.take_front(0, 1, &a, &b));  // half of 2
  EXPECT_EQ(a, 5);
  EXPECT_EQ(b, 6);
  ASSERT_TRUE(s.take_front(0, 100, &a, &b));  // at least 100: only what is left
  EXPECT_EQ(a, 6);
  EXPECT_EQ(b, 7);
  EXPECT_FALSE(s.take_front(0, 1, &a, &b));
  EXPECT_FALSE(s.take_back(0, 1, &a, &b));
  EXPECT_FALSE(s.take_back(1, 1, &a, &b));  // never opened: empty
}

TEST(RowShares, EveryTileIsTakenExactlyOnceUnderConcurrency) {
  const int threads = 4;
  const int64_t tiles = 97;
  RowShares s;
  s.resize(threads);
  for (int round = 0; round < 200; round++) {
    std::vector<std::atomic<int>> taken(static_cast<size_t>(threads * tiles));
    int team = 0;
#pragma omp parallel num_threads(threads)
    {
      const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
      if (tid == 0) team = nth;
      std::mt19937 rng(static_cast<unsigned>(round * 31 + tid));
      s.open(tid, tiles);
#pragma omp barrier
      auto mark = [&](int owner, int64_t a, int64_t b) {
        for (int64_t t = a; t < b; t++) taken[static_cast<size_t>(owner * tiles + t)]++;
        for (int spin = static_cast<int>(rng() % 500); spin > 0; spin--) std::atomic_signal_fence(std::memory_order_seq_cst);
      };
      int64_t a, b;
      while (s.take_front(tid, 1 + static_cast<int64_t>(rng() % 8), &a, &b)) mark(tid, a, b);
      for (int k = 1; k < nth; k++)
        while (s.take_back((tid + k) % nth, 1 + static_cast<int64_t>(rng() % 3), &a, &b)) mark((tid + k) % nth, a, b);
    }
    for (int owner = 0; owner < team; owner++)
      for (int64_t t = 0; t < tiles; t++)
        ASSERT_EQ(taken[static_cast<size_t>(owner * tiles + t)].load(), 1) << "round " << round << " share " << owner << " tile " << t;
  }
}

// The weights a thread may ask for ahead of a decode-sized linear(): the
// start of its RowShares share (tiles [T*t/nth, T*(t+1)/nth) of the first
// output), never more than the share or the bytes asked.
TEST(RowShares, ShareFrontIsWhereTheThreadsShareBegins) {
  std::vector<uint8_t> bytes(row_bytes(DType::Q4_0, 896) * 896);
  QuantMatrix w{DType::Q4_0, 896, 896, bytes.data()};  // 28 tiles of 32 rows, 504 bytes each
  const PrefetchRange first = share_front(w, 0, 2, size_t{64} << 10);
  EXPECT_EQ(first.p, reinterpret_cast<const char*>(bytes.data()));
  EXPECT_EQ(first.bytes, size_t{64} << 10);
  const PrefetchRange second = share_front(w, 1, 2, size_t{1} << 20);
  EXPECT_EQ(second.p, reinterpret_cast<const char*>(w.row_ptr(14 * 32)));
  EXPECT_EQ(second.bytes, size_t{14} * 32 * 504);  // the whole share, less than asked
  // 16 threads on 4 tiles (K and V): some shares are empty.
  QuantMatrix kv{DType::Q4_0, 128, 896, bytes.data()};
  EXPECT_EQ(share_front(kv, 0, 16, 4096).bytes, 0u);
  EXPECT_EQ(share_front(kv, 15, 16, size_t{1} << 20).bytes, size_t{32} * 504);
}

}  // namespace
}  // namespace qes::model_ops
