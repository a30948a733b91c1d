#pragma once
// Writes a file under a temporary name in the destination's folder and renames
// it over the destination only once everything is written and fsynced, so a
// crash or an error never leaves a truncated file under the final name.
#include <cstdint>
#include <cstdio>
#include <string>

namespace qes::gguf {

class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);  // creates the temporary; throws std::system_error
  ~AtomicFile();                                 // removes the temporary unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);  // buffered; throws std::system_error
  void pad_zeros(size_t n);
  uint64_t bytes_written() const { return written_; }
  void commit();  // flush, fsync, rename over the destination, fsync the folder

 private:
  std::string path_, tmp_path_;
  FILE* file_ = nullptr;
  uint64_t written_ = 0;
  bool committed_ = false;
};

}  // namespace qes::gguf
