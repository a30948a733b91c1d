// The read-bandwidth probes: figures are machine-dependent, so only their
// contract is checked (a positive, finite rate; a clear error for a region that
// does not fit the buffer).
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "qes/bandwidth.hpp"

TEST(Bandwidth, ProbesReturnAPositiveRate) {
  const double whole = qes::measure_read_bandwidth_gbs(2, size_t{8} << 20, 1);
  EXPECT_TRUE(std::isfinite(whole) && whole > 0) << whole;
  const double bursts = qes::measure_burst_read_gbs(2, size_t{64} << 10, size_t{8} << 20, 1);
  EXPECT_TRUE(std::isfinite(bursts) && bursts > 0) << bursts;
}

TEST(Bandwidth, BurstRegionLargerThanTheBufferIsAnError) {
  EXPECT_THROW(qes::measure_burst_read_gbs(2, size_t{8} << 20, size_t{1} << 20, 1), std::runtime_error);
}
