#pragma once
#include <vector>

namespace qes {

// How fast each thread of a team computes right now, against the best any of
// them managed. On a shared VM a virtual core whose host core is also running
// another guest runs a fixed loop at a fraction of its speed (epyc2: one core
// at 0.63 for minutes). A memory probe barely notices; a decode step, which
// does arithmetic between its loads, does.
//
// All `threads` threads time `passes` passes of the same integer loop (~50 us
// each) at once. result[t] = the fastest pass of any thread / thread t's median
// pass: 1.0 is full speed.
std::vector<double> measure_core_speeds(int threads, int passes = 200);

}  // namespace qes
