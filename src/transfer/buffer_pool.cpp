#include "transfer/buffer_pool.hpp"

#include <sys/mman.h>

#include <new>

namespace haul::transfer {

Buffer::Buffer(std::size_t capacity_bytes) : capacity(capacity_bytes) {
  void* memory =
      ::mmap(nullptr, capacity_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) throw std::bad_alloc();
  bytes = static_cast<std::byte*>(memory);
}

Buffer::~Buffer() { ::munmap(bytes, capacity); }

// Shared with every outstanding buffer's deleter, so a buffer released after
// the pool object is gone still finds somewhere to go.
struct BufferPool::State {
  std::size_t buffer_size = 0;
  std::size_t max_buffers = 0;
  std::function<void()> on_available;

  std::mutex mutex;
  std::vector<std::unique_ptr<Buffer>> idle;  // guarded by mutex
  std::size_t allocated = 0;                  // guarded by mutex
  bool someone_waits = false;                 // guarded by mutex
  bool closed = false;                        // guarded by mutex
};

BufferPool::BufferPool(std::size_t buffer_size, std::size_t max_buffers,
                       std::function<void()> on_available)
    : state_(std::make_shared<State>()) {
  state_->buffer_size = buffer_size;
  state_->max_buffers = max_buffers;
  state_->on_available = std::move(on_available);
}

BufferPool::~BufferPool() {
  std::lock_guard lock(state_->mutex);
  state_->closed = true;
  state_->idle.clear();
}

std::size_t BufferPool::buffer_size() const { return state_->buffer_size; }

void BufferPool::set_limit(std::size_t max_buffers) {
  std::vector<std::unique_ptr<Buffer>> freed;  // unmapped outside the lock
  std::lock_guard lock(state_->mutex);
  if (max_buffers > state_->max_buffers && state_->someone_waits) {
    // Room appeared: whoever found the pool empty may try again.
    state_->someone_waits = false;
    if (state_->on_available) state_->on_available();
  }
  state_->max_buffers = max_buffers;
  while (state_->allocated > max_buffers && !state_->idle.empty()) {
    freed.push_back(std::move(state_->idle.back()));
    state_->idle.pop_back();
    --state_->allocated;
  }
}

BufferRef BufferPool::try_acquire() {
  std::unique_ptr<Buffer> buffer;
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->idle.empty()) {
      buffer = std::move(state_->idle.back());
      state_->idle.pop_back();
    } else if (state_->allocated < state_->max_buffers) {
      ++state_->allocated;
    } else {
      state_->someone_waits = true;
      return nullptr;
    }
  }
  if (!buffer) buffer = std::make_unique<Buffer>(state_->buffer_size);
  buffer->reset(0, 0);
  std::shared_ptr<State> state = state_;
  return BufferRef(buffer.release(), [state](Buffer* released) {
    std::unique_ptr<Buffer> owned(released);
    bool notify = false;
    {
      std::lock_guard lock(state->mutex);
      if (state->allocated > state->max_buffers) {
        --state->allocated;  // the limit went down: this one goes back to the system
      } else if (!state->closed) {
        state->idle.push_back(std::move(owned));
        notify = state->someone_waits;
        state->someone_waits = false;
      }
    }
    if (notify && state->on_available) state->on_available();
  });
}

}  // namespace haul::transfer
