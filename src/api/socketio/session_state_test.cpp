#include "api/socketio/session_state.hpp"

#include <gtest/gtest.h>

#include "api/socketio/engine.hpp"

namespace haul::api::socketio {
namespace {

using engine::make_shared_packet;
using engine::PacketType;

TEST(SessionState, QueuesInOrderAndDrains) {
  SessionState state(Transport::kPolling, 8);
  EXPECT_FALSE(state.has_queued());
  EXPECT_EQ(state.push(make_shared_packet(PacketType::kMessage, "a")), SessionState::Push::kQueued);
  EXPECT_EQ(state.push(make_shared_packet(PacketType::kPing)), SessionState::Push::kQueued);
  EXPECT_EQ(state.queued(), 2u);
  auto packets = state.take_all();
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(*packets[0], "4a");
  EXPECT_EQ(*packets[1], "2");
  EXPECT_FALSE(state.has_queued());
}

TEST(SessionState, SharedPacketsAreNotCopied) {
  SessionState a(Transport::kPolling, 8);
  SessionState b(Transport::kWebSocket, 8);
  auto packet = make_shared_packet(PacketType::kMessage, "2[\"e\",1]");
  a.push(packet);
  b.push(packet);
  EXPECT_EQ(a.take_all()[0].get(), packet.get());
  EXPECT_EQ(b.take_all()[0].get(), packet.get());
}

TEST(SessionState, OverflowIsReportedOnceThenDropped) {
  SessionState state(Transport::kPolling, 2);
  EXPECT_EQ(state.push(make_shared_packet(PacketType::kNoop)), SessionState::Push::kQueued);
  EXPECT_EQ(state.push(make_shared_packet(PacketType::kNoop)), SessionState::Push::kQueued);
  EXPECT_EQ(state.push(make_shared_packet(PacketType::kNoop)), SessionState::Push::kOverflow);
  EXPECT_TRUE(state.overflowed());
  EXPECT_EQ(state.push(make_shared_packet(PacketType::kNoop)), SessionState::Push::kDropped);
  EXPECT_EQ(state.queued(), 2u);
  state.take_all();  // draining does not forgive: the session is being closed
  EXPECT_EQ(state.push(make_shared_packet(PacketType::kNoop)), SessionState::Push::kDropped);
}

TEST(SessionState, ClosedDropsEverything) {
  SessionState state(Transport::kPolling, 8);
  state.close();
  EXPECT_TRUE(state.closed());
  EXPECT_EQ(state.push(make_shared_packet(PacketType::kNoop)), SessionState::Push::kDropped);
  EXPECT_FALSE(state.begin_get());
  EXPECT_FALSE(state.begin_post());
  EXPECT_TRUE(state.get_should_answer());
}

TEST(SessionState, OneGetAndOnePostInFlight) {
  SessionState state(Transport::kPolling, 8);
  EXPECT_TRUE(state.begin_get());
  EXPECT_FALSE(state.begin_get());
  EXPECT_TRUE(state.begin_post());  // a POST alongside the GET is fine
  EXPECT_FALSE(state.begin_post());
  state.end_get();
  state.end_post();
  EXPECT_TRUE(state.begin_get());
  EXPECT_TRUE(state.begin_post());
}

TEST(SessionState, PollingGetWaitsUntilSomethingToSay) {
  SessionState state(Transport::kPolling, 8);
  EXPECT_FALSE(state.get_should_answer());
  state.push(make_shared_packet(PacketType::kPing));
  EXPECT_TRUE(state.get_should_answer());
  state.take_all();
  EXPECT_FALSE(state.get_should_answer());
}

TEST(SessionState, UpgradeSteps) {
  SessionState state(Transport::kPolling, 8);
  EXPECT_FALSE(state.probe_received());    // no probe WebSocket yet
  EXPECT_FALSE(state.complete_upgrade());  // "5" before the probe
  EXPECT_TRUE(state.begin_probe());
  EXPECT_EQ(state.transport(), Transport::kProbing);
  EXPECT_FALSE(state.begin_probe());        // one upgrade at a time
  EXPECT_FALSE(state.get_should_answer());  // polling goes on while probing
  EXPECT_TRUE(state.probe_received());
  EXPECT_EQ(state.transport(), Transport::kUpgrading);
  EXPECT_TRUE(state.get_should_answer());  // the waiting GET answers (noop) so the client pauses
  EXPECT_TRUE(state.begin_get());          // a GET racing the pause is still answered
  state.end_get();
  EXPECT_TRUE(state.complete_upgrade());
  EXPECT_EQ(state.transport(), Transport::kWebSocket);
  EXPECT_FALSE(state.begin_get());  // polling is over
  EXPECT_TRUE(state.begin_post());  // a POST sent before the switch is still accepted
  EXPECT_FALSE(state.begin_probe());
  EXPECT_STREQ(transport_name(state.transport()), "websocket");
}

TEST(SessionState, FailedProbeFallsBackToPolling) {
  SessionState state(Transport::kPolling, 8);
  ASSERT_TRUE(state.begin_probe());
  ASSERT_TRUE(state.probe_received());
  state.abort_upgrade();
  EXPECT_EQ(state.transport(), Transport::kPolling);
  EXPECT_FALSE(state.get_should_answer());
  EXPECT_TRUE(state.begin_probe());  // the client may try again
  state.abort_upgrade();
  SessionState ws(Transport::kWebSocket, 8);
  ws.abort_upgrade();
  EXPECT_EQ(ws.transport(), Transport::kWebSocket);
}

TEST(SessionState, PongAnswersOnlyAPendingPing) {
  SessionState state(Transport::kPolling, 8);
  EXPECT_FALSE(state.awaiting_pong());
  EXPECT_FALSE(state.pong_received());  // unsolicited
  state.ping_sent();
  EXPECT_TRUE(state.awaiting_pong());
  EXPECT_TRUE(state.pong_received());
  EXPECT_FALSE(state.awaiting_pong());
  EXPECT_FALSE(state.pong_received());
}

RouteParams query(std::vector<std::pair<std::string, std::string>> pairs) {
  RouteParams params;
  params.query = std::move(pairs);
  return params;
}

TEST(EngineQuery, AcceptsHandshakeAndSessionRequests) {
  EXPECT_FALSE(check_query(query({{"EIO", "4"}, {"transport", "polling"}, {"t", "x"}}), false));
  EXPECT_FALSE(check_query(query({{"EIO", "4"}, {"transport", "websocket"}}), false));
  EXPECT_FALSE(check_query(query({{"EIO", "4"}, {"transport", "polling"}, {"sid", "s"}}), true));
}

TEST(EngineQuery, RefusesBadParameters) {
  EXPECT_EQ(check_query(query({{"EIO", "4"}, {"transport", "flash"}}), false),
            EngineError::kUnknownTransport);
  EXPECT_EQ(check_query(query({{"EIO", "4"}}), false), EngineError::kUnknownTransport);
  EXPECT_EQ(check_query(query({{"EIO", "3"}, {"transport", "polling"}}), false),
            EngineError::kUnsupportedProtocolVersion);
  EXPECT_EQ(check_query(query({{"transport", "polling"}}), false),
            EngineError::kUnsupportedProtocolVersion);
  EXPECT_EQ(check_query(query({{"EIO", "4"}, {"transport", "polling"}}), true),
            EngineError::kBadHandshakeMethod);
  EXPECT_EQ(check_query(query({{"EIO", "4"}, {"transport", "websocket"}, {"sid", "s"}}), true),
            EngineError::kBadRequest);
}

}  // namespace
}  // namespace haul::api::socketio
