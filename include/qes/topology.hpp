#pragma once
// CPU topology (through hwloc) and thread placement: OpenMP threads are pinned
// one per physical core by default, SMT siblings skipped, and on big.LITTLE
// machines the fast cores first.
#include <cstddef>
#include <string>
#include <vector>

namespace qes {

struct CoreKind {
  int efficiency = 0;        // hwloc's ranking: higher is faster (0 when the OS gives none)
  int cores = 0;             // physical cores of this kind
  std::string description;   // e.g. "CoreType=IntelCore" or "FrequencyMaxMHz=2400"
};

struct Topology {
  int packages = 0;
  int cores = 0;             // physical cores
  int pus = 0;               // hardware threads
  int numa_nodes = 0;
  std::vector<CoreKind> kinds;          // fastest first; one entry on homogeneous CPUs
  // Placement covers only the CPUs this process may run on (taskset, cpuset
  // cgroups, numactl): several qes processes started on disjoint CPU sets
  // then do not pile onto the same cores.
  int usable_cores = 0;                 // physical cores with at least one usable PU
  std::vector<int> core_order;          // one usable PU (OS index) per usable core, fast cores first
  std::vector<int> smt_sibling_pus;     // the remaining usable PUs, used only for threads > cores
  std::string cpu_model;
  size_t last_level_cache_bytes = 0;    // the largest cache (L3 on most CPUs); 0 if unknown
};

// Reads the machine once (cached).
const Topology& topology();

// Sets the OpenMP thread count (0 = one per usable physical core) and pins thread i to
// the i-th entry of core_order (then SMT siblings). Returns the count in use.
// Pinning failures (containers, macOS) are ignored: placement is an optimisation.
int set_threads(int n);
int thread_count();

// Human-readable multi-line summary for `qes info`.
std::string describe_topology(const Topology& t);

}  // namespace qes
