// Large, reusable receive buffers: the network thread fills them from
// libcurl's small chunks so the disk sees big writes. The pool is bounded, so
// a slow disk turns into paused connections instead of unbounded memory.
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace haul::transfer {

// Memory for buffers is aligned for O_DIRECT writes.
inline constexpr std::size_t kBufferAlignment = 4096;

struct Buffer {
  // Page-aligned memory straight from the kernel (mmap): no allocator keeps
  // it, or rounds it up, after the buffer is gone. Throws std::bad_alloc.
  explicit Buffer(std::size_t capacity_bytes);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  std::byte* bytes = nullptr;
  std::size_t capacity = 0;
  // Data starts at bytes[start], where start = offset % kBufferAlignment, so
  // memory and file offsets agree modulo the alignment: any aligned stretch
  // of the file sits at an aligned address and can go out with O_DIRECT.
  std::size_t start = 0;
  std::size_t size = 0;      // bytes filled, from bytes[start]
  std::uint64_t offset = 0;  // file offset of the first byte
  std::uint64_t epoch = 0;   // file version the bytes belong to

  // Prepares an empty buffer for bytes starting at file offset `at`.
  void reset(std::uint64_t at, std::uint64_t version) {
    offset = at;
    start = static_cast<std::size_t>(at % kBufferAlignment);
    size = 0;
    epoch = version;
  }
  std::byte* data() { return bytes + start; }
  const std::byte* data() const { return bytes + start; }
  std::size_t space() const { return capacity - start - size; }
};

// A buffer goes back to its pool when the last reference drops.
using BufferRef = std::shared_ptr<Buffer>;

class BufferPool {
 public:
  // `on_available` runs (on the releasing thread) when a buffer comes back
  // after try_acquire() found the pool empty.
  BufferPool(std::size_t buffer_size, std::size_t max_buffers, std::function<void()> on_available);
  ~BufferPool();

  // nullptr when every buffer is in use. Buffers are allocated lazily, so an
  // idle pool costs no memory.
  BufferRef try_acquire();
  std::size_t buffer_size() const;
  // Changes the most buffers that may exist; idle ones beyond it are freed
  // now, busy ones as they come back.
  void set_limit(std::size_t max_buffers);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace haul::transfer
