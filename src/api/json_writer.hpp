// A small streaming JSON writer: appends to one string, no document tree.
// For the daemon's hottest answers (a job, a list of jobs), where building an
// nlohmann::json tree costs more than the HTTP exchange around it.
// Not thread-safe; one writer per response.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace haul::api {

// Appends `text` as a JSON string literal: quotes, escapes, and bytes that
// are not valid UTF-8 replaced by U+FFFD (as nlohmann's error_handler_t::replace).
void append_json_string(std::string& out, std::string_view text);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // The next value's key (inside an object).
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(std::uint64_t number);
  JsonWriter& value(int number) { return value(static_cast<std::int64_t>(number)); }
  JsonWriter& value(double number);  // non-finite numbers become null
  JsonWriter& value(bool flag);
  JsonWriter& null();
  // Appends already-encoded JSON as the next value.
  JsonWriter& raw(std::string_view json);

 private:
  void separate();

  std::string& out_;
  bool first_ = true;  // no value yet at the current nesting level
};

}  // namespace haul::api
