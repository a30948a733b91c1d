// Plain integer multiply-accumulates (compiled without vectorisation): the
// scalar path's ceiling.
#include "int8_peak.hpp"

namespace qes::simd {

int64_t int8_peak_loop_scalar(int64_t iterations, int32_t* sink) {
  int32_t acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  volatile int8_t va = 3, vb = 5;
  int8_t a = va, b = vb;
  for (int64_t i = 0; i < iterations; ++i) {
    for (int j = 0; j < 8; ++j) acc[j] += a * b;
    __asm__ volatile("" : "+r"(a));
  }
  for (int j = 0; j < 8; ++j) *sink += acc[j];
  return iterations * 8;
}

}  // namespace qes::simd
