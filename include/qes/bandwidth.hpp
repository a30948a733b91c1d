#pragma once
#include <cstddef>

namespace qes {

// Measures sustained memory read bandwidth in GB/s (1e9 bytes/s): `threads`
// OpenMP threads each stream their share of a `bytes` buffer (default 1 GiB,
// far larger than any cache) with wide vector loads, best of `repeats` passes.
// It is the yardstick for the kernels: a GEMV cannot read weights faster.
double measure_read_bandwidth_gbs(int threads, size_t bytes = size_t{1} << 30, int repeats = 5);

// The same read in bursts, as a decode step reads its weights: the buffer is
// cut into consecutive regions of `region_bytes` per thread, every thread
// reads its region of a burst, then all wait at a barrier before the next.
// Short bursts pay the stream's start-up (DRAM latency, prefetcher ramp) each
// time; this is the ceiling for phases of that size. GB/s, best of `repeats`.
double measure_burst_read_gbs(int threads, size_t region_bytes, size_t bytes = size_t{1} << 30, int repeats = 5);

}  // namespace qes
