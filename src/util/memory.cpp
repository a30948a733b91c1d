#include "qes/memory.hpp"

#include <cstdio>
#include <cstring>

namespace qes {
namespace {

// Reads a "<key>:   <n> kB" line of /proc/self/status.
size_t status_kb(const char* key) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  size_t kb = 0;
  const size_t len = std::strlen(key);
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, key, len) == 0 && line[len] == ':') {
      std::sscanf(line + len + 1, "%zu", &kb);
      break;
    }
  }
  std::fclose(f);
  return kb * 1024;
}

}  // namespace

size_t peak_rss_bytes() { return status_kb("VmHWM"); }
size_t current_rss_bytes() { return status_kb("VmRSS"); }

}  // namespace qes
