// The core-speed check: figures depend on the machine, so only the contract is
// checked (one speed per thread, each a fraction in (0, 1]).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "qes/core_speed.hpp"

TEST(CoreSpeed, OneFractionPerThread) {
  for (int threads : {1, 2}) {
    const std::vector<double> speeds = qes::measure_core_speeds(threads, 20);
    ASSERT_EQ(speeds.size(), static_cast<size_t>(threads));
    for (double s : speeds) EXPECT_TRUE(std::isfinite(s) && s > 0 && s <= 1.0) << s;
  }
}
