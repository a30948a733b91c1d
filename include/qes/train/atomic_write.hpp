#pragma once
// Small text outputs (JSON, SVG, metrics) written to "<path>.tmp.<pid>",
// flushed and fsynced, then renamed over `path`: a crash leaves the old file
// or the new one, never a truncated one. Throws std::runtime_error naming the file.
#include <string>
#include <string_view>

namespace qes::train {

void write_file_atomic(const std::string& path, std::string_view content);
std::string read_text_file(const std::string& path);  // throws naming the file

}  // namespace qes::train
