#include "api/socketio/socket_packet.hpp"

#include <gtest/gtest.h>

namespace haul::api::socketio {
namespace {

TEST(SocketPacketEncode, ConnectReplyCarriesSid) {
  EXPECT_EQ(encode_socket_packet({PacketType::kConnect, "/", std::nullopt, Json{{"sid", "abc"}}}),
            "0{\"sid\":\"abc\"}");
  EXPECT_EQ(encode_socket_packet(
                {PacketType::kConnect, "/downloads", std::nullopt, Json{{"sid", "abc"}}}),
            "0/downloads,{\"sid\":\"abc\"}");
}

TEST(SocketPacketEncode, ConnectErrorAndDisconnect) {
  EXPECT_EQ(encode_socket_packet({PacketType::kConnectError, "/nope", std::nullopt,
                                  Json{{"message", "Invalid namespace"}}}),
            "4/nope,{\"message\":\"Invalid namespace\"}");
  EXPECT_EQ(encode_socket_packet({PacketType::kDisconnect, "/", std::nullopt, std::nullopt}), "1");
  EXPECT_EQ(encode_socket_packet({PacketType::kDisconnect, "/a", std::nullopt, std::nullopt}),
            "1/a,");
}

TEST(SocketPacketEncode, EventMessages) {
  EXPECT_EQ(encode_event_message("/", "progress", Json{{"n", 1}}), "42[\"progress\",{\"n\":1}]");
  EXPECT_EQ(encode_event_message("/downloads", "progress", Json{{"n", 1}}),
            "42/downloads,[\"progress\",{\"n\":1}]");
  // An array is one argument, not a list.
  EXPECT_EQ(encode_event_message("/", "list", Json::array({1, 2})), "42[\"list\",[1,2]]");
}

TEST(SocketPacketEncode, AckMessages) {
  EXPECT_EQ(encode_ack_message("/", 7, Json::array({"a", 1})), "437[\"a\",1]");
  EXPECT_EQ(encode_ack_message("/resources", 12, Json{{"ok", true}}),
            "43/resources,12[{\"ok\":true}]");
  EXPECT_EQ(encode_ack_message("/", 0, Json::array()), "430[]");
}

TEST(SocketPacketEncode, InvalidUtf8IsReplacedNotThrown) {
  const std::string bad =
      "a\xff"
      "b";
  EXPECT_NO_THROW(encode_event_message("/", "e", Json{{"name", bad}}));
  EXPECT_EQ(encode_event_message("/", "e", Json(bad)),
            "42[\"e\",\"a\xef\xbf\xbd"
            "b\"]");
}

TEST(SocketPacketDecode, ConnectToNamespaces) {
  auto main = decode_socket_packet("0");
  ASSERT_TRUE(main);
  EXPECT_EQ(main->type, PacketType::kConnect);
  EXPECT_EQ(main->nsp, "/");
  EXPECT_FALSE(main->data);

  auto downloads = decode_socket_packet("0/downloads,");
  ASSERT_TRUE(downloads);
  EXPECT_EQ(downloads->nsp, "/downloads");
  EXPECT_FALSE(downloads->data);

  auto no_comma = decode_socket_packet("0/downloads");
  ASSERT_TRUE(no_comma);
  EXPECT_EQ(no_comma->nsp, "/downloads");
}

TEST(SocketPacketDecode, ConnectWithAuth) {
  auto packet = decode_socket_packet("0/admin,{\"token\":\"123\"}");
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->nsp, "/admin");
  ASSERT_TRUE(packet->data);
  EXPECT_EQ((*packet->data)["token"], "123");

  auto main = decode_socket_packet("0{\"token\":\"x\"}");
  ASSERT_TRUE(main);
  EXPECT_EQ(main->nsp, "/");
  EXPECT_EQ((*main->data)["token"], "x");

  EXPECT_FALSE(decode_socket_packet("0[1]"));  // auth must be an object
  EXPECT_FALSE(decode_socket_packet("0\"s\""));
}

TEST(SocketPacketDecode, EventsWithAndWithoutAck) {
  auto plain = decode_socket_packet("2[\"hello\",1,{\"a\":[true]}]");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->type, PacketType::kEvent);
  EXPECT_FALSE(plain->ack_id);
  EXPECT_EQ(*plain->data, Json::parse(R"(["hello",1,{"a":[true]}])"));

  auto acked = decode_socket_packet("2/resources,13[\"subscribe_install\",{\"job_id\":\"j\"}]");
  ASSERT_TRUE(acked);
  EXPECT_EQ(acked->nsp, "/resources");
  ASSERT_TRUE(acked->ack_id);
  EXPECT_EQ(*acked->ack_id, 13u);
  EXPECT_EQ((*acked->data)[1]["job_id"], "j");

  auto main_acked = decode_socket_packet("20[\"echo\"]");
  ASSERT_TRUE(main_acked);
  EXPECT_EQ(*main_acked->ack_id, 0u);
}

TEST(SocketPacketDecode, AckAndDisconnect) {
  auto ack = decode_socket_packet("3/a,4[\"x\"]");
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->type, PacketType::kAck);
  EXPECT_EQ(*ack->ack_id, 4u);

  auto bye = decode_socket_packet("1/downloads,");
  ASSERT_TRUE(bye);
  EXPECT_EQ(bye->type, PacketType::kDisconnect);
  EXPECT_EQ(bye->nsp, "/downloads");
  EXPECT_FALSE(decode_socket_packet("1{}"));  // DISCONNECT carries no data
}

TEST(SocketPacketDecode, RoundTripsEncodedPackets) {
  const SocketPacket original{PacketType::kEvent, "/x", 99,
                              Json::parse(R"(["e",{"k":"v"},[1,2]])")};
  auto decoded = decode_socket_packet(encode_socket_packet(original));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->type, original.type);
  EXPECT_EQ(decoded->nsp, original.nsp);
  EXPECT_EQ(decoded->ack_id, original.ack_id);
  EXPECT_EQ(decoded->data, original.data);
}

TEST(SocketPacketDecode, RejectsMalformedJson) {
  for (std::string_view text :
       {"2[\"a\",", "2{\"a\":}", "2[\"a\"] trailing", "2/ns,[\"a\"", "0{bad}"}) {
    auto packet = decode_socket_packet(text);
    ASSERT_FALSE(packet) << text;
    EXPECT_EQ(packet.error().code, ErrorCode::kProtocol) << text;
  }
}

TEST(SocketPacketDecode, RejectsBadShapes) {
  for (std::string_view text :
       {"", "7", "a", "2", "2{}", "2[]", "2[1]", "2[\"connect\"]", "2[\"disconnect\",1]", "3",
        "3{}", "299999999999999999999999[\"a\"]"}) {
    EXPECT_FALSE(decode_socket_packet(text)) << text;
  }
}

TEST(SocketPacketDecode, RefusesBinaryPackets) {
  for (std::string_view text : {"51-[\"a\",{\"_placeholder\":true,\"num\":0}]",
                                "61-/a,1[{\"_placeholder\":true,\"num\":0}]"}) {
    auto packet = decode_socket_packet(text);
    ASSERT_FALSE(packet);
    EXPECT_EQ(packet.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(packet.error().message, "binary packets are not supported");
  }
}

TEST(SocketPacketDecode, RefusesDeepNesting) {
  const std::string deep = "2[\"e\"," + std::string(200, '[') + std::string(200, ']') + "]";
  auto packet = decode_socket_packet(deep);
  ASSERT_FALSE(packet);
  EXPECT_EQ(packet.error().message, "JSON nested too deeply");
  const std::string in_string = "2[\"e\",\"" + std::string(200, '[') + "\"]";
  EXPECT_TRUE(decode_socket_packet(in_string));
}

TEST(JsonDepth, CountsOnlyStructure) {
  EXPECT_TRUE(json_depth_within("[[1]]", 2));
  EXPECT_FALSE(json_depth_within("[[[1]]]", 2));
  EXPECT_TRUE(json_depth_within(R"(["[[[[\"]]]"])", 1));
  EXPECT_TRUE(json_depth_within(R"({"a":{"b":1},"c":{"d":2}})", 2));
}

}  // namespace
}  // namespace haul::api::socketio
