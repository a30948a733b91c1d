// Thread placement follows the CPUs a process is allowed to run on, so that
// several qes runs started with taskset on disjoint cores do not all pin
// their threads to core 0.
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "qes/topology.hpp"

namespace {

// In a child process (topology() is read once and cached): restrict the
// affinity to one CPU, then report whether placement uses exactly that CPU.
int child_sees_only(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) return 2;
  const qes::Topology& t = qes::topology();
  if (t.usable_cores != 1) return 3;
  if (t.core_order.size() != 1 || t.core_order[0] != cpu) return 4;
  if (!t.smt_sibling_pus.empty()) return 5;
  return 0;
}

TEST(Topology, PlacementStaysInsideTheProcessAffinity) {
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
  int last = -1;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &allowed)) last = c;
  ASSERT_GE(last, 0);
  // The last allowed CPU: on a multi-core machine not the one placement would pick first.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(child_sees_only(last));
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: setaffinity failed, 3: usable_cores != 1, 4: wrong PU, 5: siblings";
}

TEST(Topology, UsableCoresWithinTheMachine) {
  const qes::Topology& t = qes::topology();
  EXPECT_GE(t.usable_cores, 1);
  EXPECT_LE(t.usable_cores, t.cores);
  EXPECT_EQ(static_cast<int>(t.core_order.size()), t.usable_cores);
}

}  // namespace
