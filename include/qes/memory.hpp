#pragma once
#include <cstddef>
#include <cstdint>

namespace qes {

// Peak resident set size of this process so far (VmHWM), in bytes; 0 if unknown.
size_t peak_rss_bytes();
// Current resident set size (VmRSS), in bytes; 0 if unknown.
size_t current_rss_bytes();

}  // namespace qes
