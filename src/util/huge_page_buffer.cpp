#include "qes/huge_page_buffer.hpp"

#include <sys/mman.h>

#include <new>
#include <utility>

namespace qes {

HugePageBuffer::HugePageBuffer(size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  // Map kAlignment more than asked, then use the aligned part: a huge page
  // needs a 2 MiB-aligned virtual range. The unused ends are never touched.
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  mapping_bytes_ = rounded + kAlignment;
  void* p = mmap(nullptr, mapping_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    mapping_bytes_ = 0;
    throw std::bad_alloc();
  }
  mapping_ = p;
  const uintptr_t start = reinterpret_cast<uintptr_t>(p);
  data_ = reinterpret_cast<uint8_t*>((start + kAlignment - 1) / kAlignment * kAlignment);
#ifdef MADV_HUGEPAGE
  madvise(data_, rounded, MADV_HUGEPAGE);  // a hint: without it (or THP off) the buffer works all the same
#endif
}

HugePageBuffer::~HugePageBuffer() { release(); }

HugePageBuffer::HugePageBuffer(HugePageBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      mapping_(std::exchange(o.mapping_, nullptr)),
      mapping_bytes_(std::exchange(o.mapping_bytes_, 0)) {}

HugePageBuffer& HugePageBuffer::operator=(HugePageBuffer&& o) noexcept {
  if (this != &o) {
    release();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    mapping_ = std::exchange(o.mapping_, nullptr);
    mapping_bytes_ = std::exchange(o.mapping_bytes_, 0);
  }
  return *this;
}

void HugePageBuffer::release() {
  if (mapping_) munmap(mapping_, mapping_bytes_);
  data_ = nullptr;
  size_ = 0;
  mapping_ = nullptr;
  mapping_bytes_ = 0;
}

}  // namespace qes
