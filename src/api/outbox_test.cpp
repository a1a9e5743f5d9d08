#include "api/outbox.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

namespace haul::api {
namespace {

Message entry(std::uint64_t id, std::string type) {
  auto e = std::make_shared<FeedEntry>();
  e->id = id;
  e->type = std::move(type);
  return e;
}

// Drains the outbox on the io_context and returns the ids it handed out.
std::vector<std::uint64_t> drain(asio::io_context& io, Outbox& outbox) {
  std::vector<std::uint64_t> ids;
  outbox.close();
  asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        while (true) {
          const auto next = co_await outbox.next(std::chrono::milliseconds(10));
          if (!next) break;
          ids.push_back((*next)->id);
        }
      },
      asio::detached);
  io.run();
  return ids;
}

TEST(OutboxTest, KeepsEverythingWithinTheLimitInOrder) {
  asio::io_context io;
  Outbox outbox(io.get_executor(), 3);
  outbox.push(entry(1, "progress"));
  outbox.push(entry(2, "complete"));
  outbox.push(entry(3, "progress"));
  EXPECT_EQ(drain(io, outbox), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(outbox.dropped(), 0u);
}

TEST(OutboxTest, ASlowClientLosesOldProgressButNeverAStateChange) {
  // Regression: the oldest entry was dropped whatever it was, so a client
  // that fell behind could miss a job's "complete".
  asio::io_context io;
  Outbox outbox(io.get_executor(), 3);
  outbox.push(entry(1, "complete"));
  outbox.push(entry(2, "progress"));
  outbox.push(entry(3, "failed"));
  outbox.push(entry(4, "progress"));   // over the limit: 2 goes
  outbox.push(entry(5, "cancelled"));  // over again: 4 goes
  EXPECT_EQ(drain(io, outbox), (std::vector<std::uint64_t>{1, 3, 5}));
  EXPECT_EQ(outbox.dropped(), 2u);
}

TEST(OutboxTest, AClientFarBehindOnStateChangesIsClosed) {
  asio::io_context io;
  Outbox outbox(io.get_executor(), 2);
  for (std::uint64_t id = 1; id <= 5; ++id) outbox.push(entry(id, "complete"));
  EXPECT_TRUE(outbox.closed());
  EXPECT_TRUE(drain(io, outbox).empty());
  EXPECT_EQ(outbox.dropped(), 5u);
}

}  // namespace
}  // namespace haul::api
