// Field readers shared by the progress parsers: numbers with unit prefixes,
// the duration spellings of wget/aria2c/tqdm/curl, whitespace tokens with
// their columns, and the cleaning applied to every message. Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "remote/progress/progress_update.hpp"

namespace haul::remote::progress {

struct Token {
  std::string_view text;
  std::size_t begin = 0;  // offset of the first byte in the split text
  std::size_t end = 0;    // offset one past the last byte
};

// Tokens separated by spaces and tabs.
std::vector<Token> split_tokens(std::string_view text);

// "12", "1.46", ".5": digits with at most one '.', nothing else. No sign.
std::optional<double> parse_unsigned_decimal(std::string_view text);

// A number followed by at most one prefix from "kKMGTPEZY", scaled by
// base^(1..8): parse_scaled("5.72M", 1024) == 5.72 * 1024 * 1024. Without a
// prefix the number itself.
std::optional<double> parse_scaled(std::string_view text, double base);

// A non-negative finite value rounded to bytes; nullopt when it does not fit.
std::optional<std::uint64_t> to_byte_count(double value);

// "05:30", "1:02:03", " 0:00:03" (curl pads hours): seconds.
std::optional<std::int64_t> parse_clock(std::string_view text);

// Unit-suffixed parts, optionally space-separated: "45s", "3.9s", "1m30s",
// "1m 30s", "2h5m", "3d4h"; 'm' is minutes. Seconds, rounded.
std::optional<std::int64_t> parse_unit_duration(std::string_view text);

// The last "NN%" or "NN.N%" in the text with a value in [0, 100].
std::optional<double> find_percent(std::string_view text);

// A name without the quotes wget puts around it: '...' under LC_ALL=C, the
// UTF-8 ‘...’ or “...” elsewhere; trimmed.
std::string_view unquote_name(std::string_view text);

// The final path component: "out/model.safetensors" -> "model.safetensors".
std::string_view base_name(std::string_view path);

// What goes into ProgressUpdate::message: trimmed, the query of any http(s)
// URL removed (signed URLs and ?token= carry secrets), at most
// ProgressUpdate::kMaxMessageBytes bytes, cut on a UTF-8 boundary.
std::string clean_message(std::string_view text);

// True when the line holds nothing but separators such as "-----" or "====".
bool is_rule(std::string_view text);

ProgressUpdate make_update(ProgressUpdate::Kind kind, std::string_view stage,
                           std::string_view name);

// Clamps percent into [0, 100], drops non-finite numbers and lowers a
// downloaded count above the total to the total (tools round both).
void tidy(ProgressUpdate& update);

}  // namespace haul::remote::progress
