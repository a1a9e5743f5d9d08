// Shared by the manifest format readers (formats.hpp): where a value sits in
// a manifest (for the one-line errors), typed access to the fields of a JSON
// object, and the checks every format applies to groups, paths, sizes,
// sha256 digests and sources. Internal to src/models; pure functions.
//
// Error messages read "<label>: <where>: <field>: <problem>", e.g.
//   models.json: models[2] ("juggernaut"): files[0].sha256: expected 64 hex digits, got "abc"
//
// Threading: values and pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace haul::models::formats {

// `text` between double quotes, as JSON would write it, cut after 80 bytes
// (on a UTF-8 boundary) with "...": safe to put into a one-line message.
std::string in_quotes(std::string_view text);

// `text` as it is when it is a plain word (no spaces, quotes, backslashes or
// control characters), else in_quotes(text): keys and ids in messages.
std::string printable(std::string_view text);

// What a JSON value is, for "expected ..., got <this>": `"abc"`, `12`,
// `true`, `null`, `an object`, `an array`.
std::string describe(const nlohmann::json& value);

// "models[2] (\"juggernaut\")": an entry of a list by index and name
// (without the name when it is empty).
std::string entry_where(std::string_view list, std::size_t index, std::string_view name);

// The string field `key` of `object` when it is one without control
// characters, else "": a name for `where` before the fields are checked.
std::string peek_string(const nlohmann::json& object, std::string_view key);

// The checks on values; each returns "" when the value is fine, else the
// problem as the message's last part ("expected 64 hex digits, got \"abc\"").
// A group: a relative folder, no "..", "." or empty segment, no backslash.
std::string group_problem(std::string_view group);
// A file path: relative like a group, or (when `absolute_ok`) "/" followed by one.
std::string path_problem(std::string_view path, bool absolute_ok);
// 64 hex digits, either case (readers store it lower-cased).
std::string sha256_problem(std::string_view sha256);
// A haul source (sources::classify_source is not kUnknown).
std::string source_problem(std::string_view source);

// Where a manifest's errors point: its label and the entry being read.
class Location {
 public:
  Location(std::string_view label, std::string where);

  // "<label>: <where>: <field>: <problem>"; an empty field or where is left out.
  Error error(std::string_view field, std::string_view problem) const;
  const std::string& label() const { return label_; }
  const std::string& where() const { return where_; }

 private:
  std::string label_;  // control characters replaced: messages stay one line
  std::string where_;
};

// Typed reads of one JSON object's fields. Absent and null fields read as
// absent. Errors name the field as `prefix` + key ("files[0].sha256").
class Fields {
 public:
  Fields(const nlohmann::json& object, const Location& at, std::string prefix = {});

  // The field's value; nullptr when absent or null.
  const nlohmann::json* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // A string without control characters; nullopt when absent.
  Result<std::optional<std::string>> optional_string(std::string_view key) const;
  // The same, but absent or "" is an error ("missing", "empty").
  Result<std::string> string(std::string_view key) const;

  // A non-negative integer (an integral JSON number; with
  // `numeric_string_ok`, also a string of digits); nullopt when absent.
  Result<std::optional<std::uint64_t>> size(std::string_view key,
                                            bool numeric_string_ok = false) const;
  // A sha256 digest, lower-cased; "" when absent.
  Result<std::string> sha256(std::string_view key) const;
  // A required group (group_problem).
  Result<std::string> group(std::string_view key) const;
  // A haul source (source_problem); absent or "" is an error when `required`.
  Result<std::string> source(std::string_view key, bool required) const;
  // A file path (path_problem); nullopt when absent.
  Result<std::optional<std::string>> path(std::string_view key, bool absolute_ok) const;
  // An array of file paths; empty when absent.
  Result<std::vector<std::string>> paths(std::string_view key, bool absolute_ok) const;

  // The array field `key`; absent ("missing") or not an array is an error.
  Result<const nlohmann::json*> array(std::string_view key) const;

  // Fails on the first key that is not one of `known` (typos must not pass).
  Result<void> only(std::initializer_list<std::string_view> known) const;

  // The error of field `key` (`prefix` + key).
  Error error(std::string_view key, std::string_view problem) const;
  // "<prefix><key>" as messages name it.
  std::string field(std::string_view key) const;

 private:
  const nlohmann::json& object_;
  const Location& at_;
  std::string prefix_;
};

// Fails unless `entry` is a JSON object: "<at>: expected an object, got 12".
Result<void> expect_object(const nlohmann::json& entry, const Location& at);

// Parses `text` as JSON. Errors: kInvalidArgument "<label>: not JSON: syntax
// error at byte N (line L, column C)".
Result<nlohmann::json> parse_json(std::string_view text, std::string_view label);

}  // namespace haul::models::formats
