#include "api/socketio/engine_packet.hpp"

#include <gtest/gtest.h>

namespace haul::api::socketio::engine {
namespace {

TEST(EnginePacket, EncodesTypeThenData) {
  EXPECT_EQ(encode_packet(PacketType::kMessage, "hello"), "4hello");
  EXPECT_EQ(encode_packet(PacketType::kPing), "2");
  EXPECT_EQ(encode_packet(PacketType::kPong, "probe"), "3probe");
  EXPECT_EQ(encode_packet(PacketType::kNoop), "6");
  EXPECT_EQ(*make_shared_packet(PacketType::kClose), "1");
}

TEST(EnginePacket, DecodesEveryType) {
  const std::pair<std::string, PacketType> cases[] = {
      {"0{}", PacketType::kOpen}, {"1", PacketType::kClose},    {"2probe", PacketType::kPing},
      {"3", PacketType::kPong},   {"4x", PacketType::kMessage}, {"5", PacketType::kUpgrade},
      {"6", PacketType::kNoop},
  };
  for (const auto& [text, type] : cases) {
    auto packet = decode_packet(text);
    ASSERT_TRUE(packet) << text;
    EXPECT_EQ(packet->type, type) << text;
    EXPECT_EQ(packet->data, text.substr(1));
    EXPECT_FALSE(packet->binary);
  }
}

TEST(EnginePacket, DecodesBinaryMessage) {
  auto packet = decode_packet("bAQID");
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->type, PacketType::kMessage);
  EXPECT_TRUE(packet->binary);
  EXPECT_EQ(packet->data, "AQID");
}

TEST(EnginePacket, RejectsMalformedPackets) {
  for (std::string_view text : {"", "7", "x", "9hello", "{}"}) {
    auto packet = decode_packet(text);
    ASSERT_FALSE(packet) << text;
    EXPECT_EQ(packet.error().code, ErrorCode::kProtocol);
  }
}

TEST(EnginePayload, JoinsWithRecordSeparator) {
  const std::vector<SharedPacket> packets = {
      make_shared_packet(PacketType::kMessage, "hello"), make_shared_packet(PacketType::kPing),
      make_shared_packet(PacketType::kMessage, "\xe2\x82\xac")};
  EXPECT_EQ(encode_payload(packets),
            "4hello\x1e"
            "2\x1e"
            "4\xe2\x82\xac");
  EXPECT_EQ(encode_payload({make_shared_packet(PacketType::kNoop)}), "6");
  EXPECT_EQ(encode_payload({}), "");
}

TEST(EnginePayload, SplitsOnRecordSeparator) {
  auto packets = decode_payload(
      "40/downloads,\x1e"
      "3\x1e"
      "42[\"a\"]");
  ASSERT_TRUE(packets);
  ASSERT_EQ(packets->size(), 3u);
  EXPECT_EQ((*packets)[0].type, PacketType::kMessage);
  EXPECT_EQ((*packets)[0].data, "0/downloads,");
  EXPECT_EQ((*packets)[1].type, PacketType::kPong);
  EXPECT_EQ((*packets)[2].data, "2[\"a\"]");
}

TEST(EnginePayload, RoundTrips) {
  const std::vector<SharedPacket> packets = {
      make_shared_packet(PacketType::kMessage, "2[\"x\",{\"a\":1}]"),
      make_shared_packet(PacketType::kPong)};
  auto decoded = decode_payload(encode_payload(packets));
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ(encode_packet((*decoded)[0].type, (*decoded)[0].data), *packets[0]);
  EXPECT_EQ(encode_packet((*decoded)[1].type, (*decoded)[1].data), *packets[1]);
}

TEST(EnginePayload, RejectsEmptyAndMalformedParts) {
  EXPECT_FALSE(decode_payload(""));
  EXPECT_FALSE(decode_payload("4a\x1e"));  // empty last packet
  EXPECT_FALSE(
      decode_payload("\x1e"
                     "4a"));  // empty first packet
  EXPECT_FALSE(
      decode_payload("4a\x1e\x1e"
                     "4b"));  // empty middle packet
  EXPECT_FALSE(
      decode_payload("4a\x1e"
                     "9"));  // unknown type
}

}  // namespace
}  // namespace haul::api::socketio::engine
