#pragma once
// A whole file mapped into memory (POSIX mmap), unmapped when the last owner goes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "qes/gguf.hpp"

namespace qes::gguf {

class MappedFile {
 public:
  // Throws std::system_error naming the path when it cannot be opened or mapped.
  static std::shared_ptr<MappedFile> open(const std::string& path, MapMode mode);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  MappedFile() = default;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace qes::gguf
