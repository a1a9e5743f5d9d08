#include "api/json_writer.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

namespace haul::api {
namespace {

std::string as_json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

TEST(AppendJsonString, EscapesWhatJsonRequires) {
  EXPECT_EQ(as_json_string("plain"), "\"plain\"");
  EXPECT_EQ(as_json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(as_json_string("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(as_json_string(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(as_json_string(std::string("nul\0byte", 8)), "\"nul\\u0000byte\"");
}

TEST(AppendJsonString, KeepsUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(as_json_string("Modèle — ünïcode 🚀"), "\"Modèle — ünïcode 🚀\"");
  EXPECT_EQ(as_json_string("bad \xff byte"), "\"bad \xEF\xBF\xBD byte\"");
  EXPECT_EQ(as_json_string("cut \xE2\x82"), "\"cut \xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(as_json_string("overlong \xC0\xAF"), "\"overlong \xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(as_json_string("surrogate \xED\xA0\x80"),
            "\"surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  // Whatever goes in, a JSON parser reads it back.
  for (const std::string text : {"a\xff", "\xF4\x90\x80\x80", "x\xC3", "\xE0\x80\x80"}) {
    EXPECT_FALSE(nlohmann::json::parse(as_json_string(text), nullptr, false).is_discarded())
        << as_json_string(text);
  }
}

TEST(JsonWriter, WritesNestedDocumentsWithCommasInPlace) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("a").value(1);
  w.key("b").begin_array().value("x").null().value(true).begin_object().end_object().end_array();
  w.key("c").begin_object().key("d").value(std::uint64_t{18446744073709551615u}).end_object();
  w.key("e").value(2.5);
  w.key("f").value(std::numeric_limits<double>::quiet_NaN());
  w.key("g").raw("[1,2]");
  w.end_object();
  EXPECT_EQ(out, R"({"a":1,"b":["x",null,true,{}],"c":{"d":18446744073709551615},"e":2.5,"f":null,)"
                 R"("g":[1,2]})");
  EXPECT_FALSE(nlohmann::json::parse(out, nullptr, false).is_discarded());
}

}  // namespace
}  // namespace haul::api
