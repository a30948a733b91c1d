#include "qes/topology.hpp"

#include <hwloc.h>
#include <omp.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>

namespace qes {
namespace {

std::string read_cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    // x86: "model name", ARM: sometimes "Model" or "Hardware".
    if (line.rfind("model name", 0) == 0 || line.rfind("Model", 0) == 0 || line.rfind("Hardware", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

// Efficiency rank of the core containing `cpuset`, per hwloc's cpukinds (higher = faster).
int efficiency_of(hwloc_topology_t topo, hwloc_const_cpuset_t cpuset) {
  int kind = hwloc_cpukinds_get_by_cpuset(topo, cpuset, 0);
  if (kind < 0) return 0;
  int efficiency = 0;
  if (hwloc_cpukinds_get_info(topo, static_cast<unsigned>(kind), nullptr, &efficiency, nullptr, nullptr, 0) != 0)
    return 0;
  return std::max(efficiency, 0);
}

void describe_kinds(hwloc_topology_t topo, Topology& t) {
  int nr = hwloc_cpukinds_get_nr(topo, 0);
  for (int k = 0; k < nr; ++k) {
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    int efficiency = 0;
    unsigned nr_infos = 0;
    hwloc_info_s* infos = nullptr;
    if (hwloc_cpukinds_get_info(topo, static_cast<unsigned>(k), set, &efficiency, &nr_infos, &infos, 0) == 0) {
      CoreKind kind;
      kind.efficiency = std::max(efficiency, 0);
      kind.cores = hwloc_get_nbobjs_inside_cpuset_by_type(topo, set, HWLOC_OBJ_CORE);
      for (unsigned i = 0; i < nr_infos; ++i) {
        if (!kind.description.empty()) kind.description += ' ';
        kind.description += std::string(infos[i].name) + "=" + infos[i].value;
      }
      t.kinds.push_back(kind);
    }
    hwloc_bitmap_free(set);
  }
  std::sort(t.kinds.begin(), t.kinds.end(), [](const CoreKind& a, const CoreKind& b) { return a.efficiency > b.efficiency; });
  if (t.kinds.empty()) t.kinds.push_back(CoreKind{0, t.cores, "homogeneous"});
}

Topology read_topology() {
  Topology t;
  t.cpu_model = read_cpu_model();
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0 || hwloc_topology_load(topo) != 0) {
    t.cores = t.pus = omp_get_num_procs();
    t.packages = 1;
    t.usable_cores = t.cores;
    for (int i = 0; i < t.pus; ++i) t.core_order.push_back(i);
    t.kinds.push_back(CoreKind{0, t.cores, "unknown (hwloc failed)"});
    return t;
  }
  t.packages = std::max(1, hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE));
  t.numa_nodes = std::max(1, hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE));
  t.cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  t.pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);

  // The CPUs this process was started on (hwloc's own "allowed" set follows
  // cgroups but not sched_setaffinity, so taskset is read here). Read before
  // set_threads() pins anything: topology() is called first and cached.
  hwloc_bitmap_t usable = hwloc_bitmap_alloc();
  if (hwloc_get_cpubind(topo, usable, HWLOC_CPUBIND_PROCESS) != 0 || hwloc_bitmap_iszero(usable))
    hwloc_bitmap_copy(usable, hwloc_topology_get_allowed_cpuset(topo));

  struct Slot { int efficiency; int core; int pu; };
  std::vector<Slot> first_pus, siblings;
  for (int c = 0; c < t.cores; ++c) {
    hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, static_cast<unsigned>(c));
    int efficiency = efficiency_of(topo, core->cpuset);
    int rank = 0;
    for (hwloc_obj_t pu = hwloc_get_next_obj_inside_cpuset_by_type(topo, core->cpuset, HWLOC_OBJ_PU, nullptr); pu;
         pu = hwloc_get_next_obj_inside_cpuset_by_type(topo, core->cpuset, HWLOC_OBJ_PU, pu)) {
      if (!hwloc_bitmap_isset(usable, pu->os_index)) continue;
      (rank++ == 0 ? first_pus : siblings).push_back(Slot{efficiency, c, static_cast<int>(pu->os_index)});
    }
  }
  hwloc_bitmap_free(usable);
  t.usable_cores = static_cast<int>(first_pus.size());
  // Fast cores first; stable so cores of one kind keep the OS order.
  auto faster = [](const Slot& a, const Slot& b) { return a.efficiency > b.efficiency; };
  std::stable_sort(first_pus.begin(), first_pus.end(), faster);
  std::stable_sort(siblings.begin(), siblings.end(), faster);
  for (auto& s : first_pus) t.core_order.push_back(s.pu);
  for (auto& s : siblings) t.smt_sibling_pus.push_back(s.pu);
  if (t.core_order.empty()) {  // hwloc saw no usable cores (unusual VMs): one slot per PU
    t.cores = t.usable_cores = t.pus;
    for (int i = 0; i < t.pus; ++i) t.core_order.push_back(i);
  }
  describe_kinds(topo, t);
  for (hwloc_obj_type_t level : {HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L2CACHE}) {
    hwloc_obj_t cache = hwloc_get_obj_by_type(topo, level, 0);
    if (cache && cache->attr) {
      t.last_level_cache_bytes = static_cast<size_t>(cache->attr->cache.size);
      break;
    }
  }
  hwloc_topology_destroy(topo);
  return t;
}

int g_threads = 0;

}  // namespace

const Topology& topology() {
  static const Topology t = read_topology();
  return t;
}

int set_threads(int n) {
  const Topology& t = topology();
  if (n <= 0) n = t.usable_cores;
  std::vector<int> slots = t.core_order;
  slots.insert(slots.end(), t.smt_sibling_pus.begin(), t.smt_sibling_pus.end());
  omp_set_dynamic(0);
  omp_set_num_threads(n);
  g_threads = n;

  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0 || hwloc_topology_load(topo) != 0) return n;
  // Each OpenMP worker binds itself once; GCC's and LLVM's runtimes keep the
  // same workers for later parallel regions of the same size.
#pragma omp parallel num_threads(n)
  {
    int i = omp_get_thread_num();
    if (!slots.empty()) {
      hwloc_bitmap_t set = hwloc_bitmap_alloc();
      hwloc_bitmap_only(set, static_cast<unsigned>(slots[static_cast<size_t>(i) % slots.size()]));
      hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_THREAD);
      hwloc_bitmap_free(set);
    }
  }
  hwloc_topology_destroy(topo);
  return n;
}

int thread_count() { return g_threads > 0 ? g_threads : omp_get_max_threads(); }

std::string describe_topology(const Topology& t) {
  std::ostringstream out;
  out << "cpu: " << t.cpu_model << "\n";
  out << "topology: " << t.packages << " package(s), " << t.numa_nodes << " NUMA node(s), " << t.cores
      << " physical core(s), " << t.pus << " hardware thread(s)"
      << (t.pus > t.cores ? " (SMT on: siblings used only beyond one thread per core)" : " (no SMT)") << "\n";
  if (t.usable_cores != t.cores)
    out << "usable here: " << t.usable_cores << " core(s) (this process's CPU affinity, e.g. taskset)\n";
  if (t.last_level_cache_bytes) out << "last-level cache: " << (t.last_level_cache_bytes >> 20) << " MiB\n";
  out << "core kinds (fastest first):";
  if (t.kinds.size() == 1) out << " one kind (" << t.kinds[0].cores << " cores" << (t.kinds[0].description.empty() ? "" : ", " + t.kinds[0].description) << ")";
  else
    for (auto& k : t.kinds) out << "\n  efficiency " << k.efficiency << ": " << k.cores << " cores  " << k.description;
  out << "\nthread placement (OS PU per thread):";
  for (size_t i = 0; i < t.core_order.size(); ++i) out << (i ? "," : " ") << t.core_order[i];
  if (!t.smt_sibling_pus.empty()) {
    out << " then SMT siblings";
    for (size_t i = 0; i < t.smt_sibling_pus.size(); ++i) out << (i ? "," : " ") << t.smt_sibling_pus[i];
  }
  out << "\n";
  return out.str();
}

}  // namespace qes
