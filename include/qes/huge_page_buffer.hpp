#pragma once
// Anonymous memory for large buffers that are read as many short streams (the
// KV cache): 2 MiB-aligned and, on Linux, marked for transparent huge pages
// (madvise MADV_HUGEPAGE; the kernel's default "madvise" mode gives them only
// to memory that asks). Untouched pages cost no RSS; a touched huge page is
// resident whole. With 4 KiB pages, Qwen2.5-0.5B's batch-64 decode reads ~770
// KV pages per layer and step (64 sequences x 2 KV heads x keys and values,
// ~12 KiB each), each a TLB miss and a restart for the hardware prefetchers.
#include <cstddef>
#include <cstdint>

namespace qes {

class HugePageBuffer {
 public:
  HugePageBuffer() = default;
  explicit HugePageBuffer(size_t bytes);  // throws std::bad_alloc
  ~HugePageBuffer();
  HugePageBuffer(HugePageBuffer&& o) noexcept;
  HugePageBuffer& operator=(HugePageBuffer&& o) noexcept;
  HugePageBuffer(const HugePageBuffer&) = delete;
  HugePageBuffer& operator=(const HugePageBuffer&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

  static constexpr size_t kAlignment = size_t{2} << 20;

 private:
  void release();
  uint8_t* data_ = nullptr;  // kAlignment-aligned, inside the mapping
  size_t size_ = 0;
  void* mapping_ = nullptr;
  size_t mapping_bytes_ = 0;
};

}  // namespace qes
