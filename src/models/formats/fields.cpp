#include "models/formats/fields.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/text.hpp"
#include "sources/source_kind.hpp"

namespace haul::models::formats {
namespace {

using nlohmann::json;

constexpr std::size_t kQuoteLimit = 80;
// What a relative path or folder may not hold, as messages say it.
constexpr std::string_view kSegmentRules = R"( (no "..", "." or empty segments, no backslashes))";
// Sizes above 2^53 cannot come from a JSON number written by JavaScript or
// Python without rounding; no model file is that large anyway.
constexpr double kMaxExactDouble = 9007199254740992.0;

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string no_control_chars(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(),
      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; }, '?');
  return out;
}

std::string control_problem(std::string_view text) {
  return "expected no control characters, got " + in_quotes(text);
}

// "a, b or c".
std::string or_list(std::initializer_list<std::string_view> items) {
  std::string out;
  std::size_t i = 0;
  for (std::string_view item : items) {
    if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
    out += item;
    ++i;
  }
  return out;
}

std::optional<std::uint64_t> parse_digits(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace

std::string in_quotes(std::string_view text) {
  std::size_t cut = text.size();
  if (cut > kQuoteLimit) {
    cut = kQuoteLimit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  }
  std::string out = "\"";
  for (char c : text.substr(0, cut)) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", byte);
      out += escape;
    } else {
      out += c;
    }
  }
  if (cut < text.size()) out += "...";
  return out + "\"";
}

std::string printable(std::string_view text) {
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && c != '\x7f' && c != '"' && c != '\\';
  });
  return plain && !text.empty() ? std::string(text) : in_quotes(text);
}

std::string describe(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return in_quotes(value.get_ref<const std::string&>());
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return value.dump();
    default:
      return "a value";
  }
}

std::string entry_where(std::string_view list, std::size_t index, std::string_view name) {
  std::string out(list);
  out += '[' + std::to_string(index) + ']';
  if (!name.empty()) out += " (" + in_quotes(name) + ")";
  return out;
}

std::string peek_string(const json& object, std::string_view key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  const auto& text = it->get_ref<const std::string&>();
  return has_control_char(text) ? std::string() : text;
}

std::string group_problem(std::string_view group) {
  if (group.empty()) return "empty";
  if (has_control_char(group)) return control_problem(group);
  if (is_safe_relative_path(group)) return {};
  return "expected a relative folder" + std::string(kSegmentRules) + ", got " + in_quotes(group);
}

std::string path_problem(std::string_view path, bool absolute_ok) {
  if (path.empty()) return "empty";
  if (has_control_char(path)) return control_problem(path);
  const bool absolute = path.front() == '/';
  if (absolute && !absolute_ok) return "expected a relative path, got " + in_quotes(path);
  if (is_safe_relative_path(absolute ? path.substr(1) : path)) return {};
  return std::string(absolute_ok ? "expected a relative or absolute path"
                                 : "expected a relative path") +
         std::string(kSegmentRules) + ", got " + in_quotes(path);
}

std::string sha256_problem(std::string_view sha256) {
  if (sha256.size() == 64 && std::all_of(sha256.begin(), sha256.end(), is_hex)) return {};
  return "expected 64 hex digits, got " + in_quotes(sha256);
}

std::string source_problem(std::string_view source) {
  if (has_control_char(source)) return control_problem(source);
  if (sources::classify_source(source) != sources::SourceKind::kUnknown) return {};
  return "expected a haul source (an http(s) URL, hf://, s3:// or a CivitAI AIR), got " +
         in_quotes(source);
}

Location::Location(std::string_view label, std::string where)
    : label_(no_control_chars(label)), where_(std::move(where)) {}

Error Location::error(std::string_view field, std::string_view problem) const {
  std::string message = label_;
  if (!where_.empty()) message += ": " + where_;
  if (!field.empty()) message.append(": ").append(field);
  message.append(": ").append(problem);
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

Fields::Fields(const json& object, const Location& at, std::string prefix)
    : object_(object), at_(at), prefix_(std::move(prefix)) {}

const json* Fields::find(std::string_view key) const {
  if (!object_.is_object()) return nullptr;
  const auto it = object_.find(key);
  return it == object_.end() || it->is_null() ? nullptr : &*it;
}

std::string Fields::field(std::string_view key) const { return prefix_ + printable(key); }

Error Fields::error(std::string_view key, std::string_view problem) const {
  return at_.error(field(key), problem);
}

Result<std::optional<std::string>> Fields::optional_string(std::string_view key) const {
  const json* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) return fail(error(key, "expected a string, got " + describe(*value)));
  const auto& text = value->get_ref<const std::string&>();
  if (has_control_char(text)) return fail(error(key, control_problem(text)));
  return text;
}

Result<std::string> Fields::string(std::string_view key) const {
  auto text = optional_string(key);
  if (!text) return fail(std::move(text.error()));
  if (!*text) return fail(error(key, "missing"));
  if ((*text)->empty()) return fail(error(key, "empty"));
  return std::move(**text);
}

Result<std::optional<std::uint64_t>> Fields::size(std::string_view key,
                                                  bool numeric_string_ok) const {
  const json* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (value->is_number_unsigned()) return value->get<std::uint64_t>();
  if (value->is_number_float()) {
    const double number = value->get<double>();
    if (number >= 0 && number <= kMaxExactDouble && std::floor(number) == number)
      return static_cast<std::uint64_t>(number);
  }
  if (value->is_string() && numeric_string_ok) {
    if (auto digits = parse_digits(value->get_ref<const std::string&>())) return *digits;
  }
  return fail(error(key, "expected a non-negative integer, got " + describe(*value)));
}

Result<std::string> Fields::sha256(std::string_view key) const {
  auto text = optional_string(key);
  if (!text) return fail(std::move(text.error()));
  if (!*text) return std::string();
  if (auto problem = sha256_problem(**text); !problem.empty()) return fail(error(key, problem));
  return to_lower(**text);
}

Result<std::string> Fields::group(std::string_view key) const {
  auto text = string(key);
  if (!text) return text;
  if (auto problem = group_problem(*text); !problem.empty()) return fail(error(key, problem));
  return text;
}

Result<std::string> Fields::source(std::string_view key, bool required) const {
  auto text = optional_string(key);
  if (!text) return fail(std::move(text.error()));
  if (!*text || (*text)->empty()) {
    if (required) return fail(error(key, *text ? "empty" : "missing"));
    return std::string();
  }
  if (auto problem = source_problem(**text); !problem.empty()) return fail(error(key, problem));
  return std::move(**text);
}

Result<std::optional<std::string>> Fields::path(std::string_view key, bool absolute_ok) const {
  auto text = optional_string(key);
  if (!text || !*text) return text;
  if (auto problem = path_problem(**text, absolute_ok); !problem.empty())
    return fail(error(key, problem));
  return text;
}

Result<std::vector<std::string>> Fields::paths(std::string_view key, bool absolute_ok) const {
  std::vector<std::string> out;
  const json* value = find(key);
  if (value == nullptr) return out;
  if (!value->is_array())
    return fail(error(key, "expected an array of paths, got " + describe(*value)));
  for (std::size_t i = 0; i < value->size(); ++i) {
    const json& item = (*value)[i];
    const std::string item_key = std::string(key) + '[' + std::to_string(i) + ']';
    if (!item.is_string()) return fail(error(item_key, "expected a string, got " + describe(item)));
    const auto& text = item.get_ref<const std::string&>();
    if (auto problem = path_problem(text, absolute_ok); !problem.empty())
      return fail(at_.error(prefix_ + item_key, problem));
    out.push_back(text);
  }
  return out;
}

Result<const json*> Fields::array(std::string_view key) const {
  const json* value = find(key);
  if (value == nullptr) return fail(error(key, "missing"));
  if (!value->is_array()) return fail(error(key, "expected an array, got " + describe(*value)));
  return value;
}

Result<void> Fields::only(std::initializer_list<std::string_view> known) const {
  if (!object_.is_object()) return {};
  for (const auto& [key, value] : object_.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end())
      return fail(error(key, "unknown key (expected " + or_list(known) + ")"));
  }
  return {};
}

Result<void> expect_object(const json& entry, const Location& at) {
  if (entry.is_object()) return {};
  return fail(at.error("", "expected an object, got " + describe(entry)));
}

Result<json> parse_json(std::string_view text, std::string_view label) {
  const Location at(label, "");
  if (trim(text).empty()) return fail(at.error("", "not JSON: empty"));
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // e.byte counts from 1 and is one past the end when the text stops early.
    const std::size_t byte = std::max<std::size_t>(e.byte, 1);
    const std::string_view before = text.substr(0, std::min(byte - 1, text.size()));
    const std::size_t line = 1 + std::count(before.begin(), before.end(), '\n');
    const std::size_t line_start = before.rfind('\n');
    const std::size_t column = line_start == std::string_view::npos ? byte : byte - 1 - line_start;
    const char* what = byte > text.size() ? "unexpected end" : "syntax error";
    return fail(at.error("", "not JSON: " + std::string(what) + " at byte " + std::to_string(byte) +
                                 " (line " + std::to_string(line) + ", column " +
                                 std::to_string(column) + ")"));
  } catch (const json::exception&) {
    return fail(at.error("", "not JSON"));
  }
}

}  // namespace haul::models::formats
