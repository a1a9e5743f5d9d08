#include "transfer/buffer_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace haul::transfer {
namespace {

TEST(BufferPool, HandsOutAtMostItsLimitAndSaysWhenOneComesBack) {
  std::atomic<int> notified{0};
  BufferPool pool(8192, 2, [&] { ++notified; });
  BufferRef a = pool.try_acquire();
  BufferRef b = pool.try_acquire();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->capacity, 8192u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a->bytes) % kBufferAlignment, 0u);
  EXPECT_EQ(pool.try_acquire(), nullptr);
  a.reset();
  EXPECT_EQ(notified.load(), 1);
  EXPECT_NE(pool.try_acquire(), nullptr);
}

TEST(BufferPool, RaisingTheLimitWakesWhoeverFoundItEmpty) {
  std::atomic<int> notified{0};
  BufferPool pool(4096, 1, [&] { ++notified; });
  BufferRef a = pool.try_acquire();
  EXPECT_EQ(pool.try_acquire(), nullptr);
  pool.set_limit(2);
  EXPECT_EQ(notified.load(), 1);
  EXPECT_NE(pool.try_acquire(), nullptr);
}

TEST(BufferPool, LoweringTheLimitFreesBuffersAsTheyReturn) {
  std::atomic<int> notified{0};
  BufferPool pool(4096, 3, [&] { ++notified; });
  std::vector<BufferRef> held{pool.try_acquire(), pool.try_acquire(), pool.try_acquire()};
  pool.set_limit(1);
  held.pop_back();  // freed, not kept idle: nobody is told a buffer is back
  held.pop_back();
  EXPECT_EQ(notified.load(), 0);
  EXPECT_EQ(pool.try_acquire(), nullptr) << "one buffer exists, and it is held";
  held.clear();
  EXPECT_NE(pool.try_acquire(), nullptr);
}

TEST(BufferPool, ABufferOutlivingItsPoolIsStillFreed) {
  BufferRef survivor;
  {
    BufferPool pool(4096, 1, nullptr);
    survivor = pool.try_acquire();
  }
  ASSERT_TRUE(survivor);
  survivor->bytes[0] = std::byte{1};  // still mapped
  survivor.reset();                   // and unmapped here without the pool (ASan checks)
}

}  // namespace
}  // namespace haul::transfer
