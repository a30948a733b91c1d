#include "qes/core_speed.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace qes {
namespace {

// A fixed amount of scalar integer work: four independent multiply-xorshift
// chains, so the time is the core's arithmetic rate, not one chain's latency.
uint64_t integer_work(uint64_t seed) {
  uint64_t a = seed, b = seed + 1, c = seed + 2, d = seed + 3;
  for (int i = 0; i < 12000; i++) {
    a = a * 6364136223846793005ull + 1; a ^= a >> 29;
    b = b * 6364136223846793005ull + 3; b ^= b >> 29;
    c = c * 6364136223846793005ull + 5; c ^= c >> 29;
    d = d * 6364136223846793005ull + 7; d ^= d >> 29;
  }
  return a ^ b ^ c ^ d;
}

}  // namespace

std::vector<double> measure_core_speeds(int threads, int passes) {
  threads = std::max(threads, 1);
  passes = std::max(passes, 1);
  std::vector<std::vector<double>> seconds(static_cast<size_t>(threads), std::vector<double>(static_cast<size_t>(passes)));
  volatile uint64_t sink = 0;  // keeps the work
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    uint64_t s = static_cast<uint64_t>(t);
    for (int p = 0; p < passes; p++) {
      const auto t0 = std::chrono::steady_clock::now();
      s = integer_work(s);
      seconds[t][p] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    sink = sink + s;
  }
  double fastest = seconds[0][0];
  for (const auto& v : seconds) fastest = std::min(fastest, *std::min_element(v.begin(), v.end()));
  std::vector<double> speeds;
  for (auto& v : seconds) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    speeds.push_back(fastest / v[v.size() / 2]);
  }
  return speeds;
}

}  // namespace qes
