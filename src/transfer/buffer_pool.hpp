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

struct Buffer {
  explicit Buffer(std::size_t capacity_bytes)
      : bytes(new std::byte[capacity_bytes]), capacity(capacity_bytes) {}

  std::unique_ptr<std::byte[]> bytes;
  std::size_t capacity = 0;
  std::size_t size = 0;       // bytes filled
  std::uint64_t offset = 0;   // file offset of bytes[0]
  std::uint64_t epoch = 0;    // file version the bytes belong to

  std::size_t space() const { return capacity - size; }
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

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace haul::transfer
