#pragma once
// A barrier for the threads of one forward step: spins briefly (threads of a
// step usually arrive within microseconds of each other), then yields the
// core. OpenMP's own barrier spins far longer before sleeping (libgomp:
// 300000 iterations), which on a machine shared with other jobs burns the
// time slices the late thread needs: batch-1 decode on 2 busy cores ran 5x
// slower with it.
#include <atomic>
#include <cstddef>

#include <sched.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace qes {

// Bytes a waiting thread may ask the caches for (its next work's first data).
struct PrefetchRange {
  const char* p = nullptr;
  size_t bytes = 0;
};

class SpinBarrier {
 public:
  void reset(int threads) {
    threads_ = threads;
    arrived_.store(0, std::memory_order_relaxed);
  }

  // Every write before wait() in any thread is visible after wait() in all.
  // A thread that waits first asks for `ahead`'s cache lines, a few at a
  // time, until the others arrive: memory is otherwise idle then.
  void wait(PrefetchRange ahead = {}) {
    if (threads_ <= 1) return;
    const unsigned gen = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == threads_ - 1) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
      return;
    }
    size_t asked = 0;
    for (int spins = 0; generation_.load(std::memory_order_acquire) == gen; spins++) {
      if (asked < ahead.bytes) {
        for (int k = 0; k < kLinesPerSpin && asked < ahead.bytes; k++, asked += 64) __builtin_prefetch(ahead.p + asked, 0, 3);
        continue;
      }
      if (spins < kSpins) {
#if defined(__x86_64__) || defined(__i386__)
        _mm_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
      } else {
        sched_yield();
      }
    }
  }

 private:
  static constexpr int kSpins = 4000;  // ~10-50 microseconds
  static constexpr int kLinesPerSpin = 16;  // the release is seen within ~16 lines' requests
  int threads_ = 1;
  alignas(64) std::atomic<int> arrived_{0};
  alignas(64) std::atomic<unsigned> generation_{0};
};

}  // namespace qes
