#include "qes/bandwidth.hpp"

#include <omp.h>
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace qes {
namespace {

// Sums a slice with four independent vector accumulators so the loop is bound
// by loads, not by the add latency. The sum is returned so nothing is elided.
uint64_t sum_slice(const uint64_t* p, size_t n) {
  using batch = xsimd::batch<uint64_t>;
  constexpr size_t W = batch::size;
  batch a0(uint64_t{0}), a1(uint64_t{0}), a2(uint64_t{0}), a3(uint64_t{0});
  size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    a0 += batch::load_aligned(p + i);
    a1 += batch::load_aligned(p + i + W);
    a2 += batch::load_aligned(p + i + 2 * W);
    a3 += batch::load_aligned(p + i + 3 * W);
  }
  uint64_t s = xsimd::hadd(a0 + a1 + a2 + a3);
  for (; i < n; ++i) s += p[i];
  return s;
}

using ProbeBuffer = std::unique_ptr<uint64_t, decltype(&std::free)>;

// n 64-bit words, first touched by the same threads that read, so pages sit near them.
ProbeBuffer probe_buffer(size_t n, int threads) {
  auto* data = static_cast<uint64_t*>(std::aligned_alloc(4096, n * sizeof(uint64_t)));
  if (!data) throw std::runtime_error("bandwidth probe: cannot allocate " + std::to_string(n * 8) + " bytes");
#pragma omp parallel for num_threads(threads) schedule(static)
  for (size_t i = 0; i < n; ++i) data[i] = i;
  return {data, &std::free};
}

// GB/s of the best of `repeats` passes in which every thread of a team of
// `threads` sums what read(team size, thread id) reads, `bytes` in all.
template <class Read>
double best_gbs(int threads, size_t bytes, int repeats, Read read) {
  double best = 0;
  volatile uint64_t sink = 0;  // the sums, so no read is elided
  for (int r = 0; r < repeats; ++r) {
    uint64_t total = 0;
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
    total += read(omp_get_num_threads(), omp_get_thread_num());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    sink = sink + total;
    best = std::max(best, static_cast<double>(bytes) / s / 1e9);
  }
  (void)sink;
  return best;
}

}  // namespace

double measure_read_bandwidth_gbs(int threads, size_t bytes, int repeats) {
  const size_t n = bytes / sizeof(uint64_t);
  const ProbeBuffer buffer = probe_buffer(n, threads);
  const uint64_t* data = buffer.get();
  return best_gbs(threads, n * sizeof(uint64_t), repeats, [&](int nt, int id) {
    // Slices of whole 4 KiB pages keep every load aligned.
    const size_t per_page = 4096 / sizeof(uint64_t);
    const size_t pages = n / per_page;
    const size_t begin = pages * id / nt * per_page, end = pages * (id + 1) / nt * per_page;
    return sum_slice(data + begin, end - begin);
  });
}

double measure_burst_read_gbs(int threads, size_t region_bytes, size_t bytes, int repeats) {
  const size_t region = std::max<size_t>(region_bytes / 4096, 1) * 4096 / sizeof(uint64_t);  // whole pages, in words
  const size_t bursts = bytes / sizeof(uint64_t) / (region * threads);
  if (bursts == 0) throw std::runtime_error("burst probe: regions larger than the buffer");
  const ProbeBuffer buffer = probe_buffer(bursts * region * threads, threads);
  const uint64_t* data = buffer.get();
  return best_gbs(threads, bursts * region * threads * sizeof(uint64_t), repeats, [&](int nt, int id) {
    uint64_t sum = 0;
    for (size_t b = 0; b < bursts; ++b) {
      sum += sum_slice(data + (b * nt + id) * region, region);
#pragma omp barrier
    }
    return sum;
  });
}

}  // namespace qes
