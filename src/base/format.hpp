// Human-readable sizes, speeds and durations, and the parsing of size
// arguments such as "50M". Pure functions, no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace haul {

// "0 B", "1023 B", "1.0 KiB", "4.27 GiB": binary units, three significant digits.
std::string format_bytes(std::uint64_t bytes);

// "12.3 MiB/s"; negative or non-finite speeds print as "0 B/s".
std::string format_speed(double bytes_per_second);

// "45s", "3m05s", "2h07m", "3d04h"; std::nullopt prints as "--".
std::string format_duration(std::optional<std::chrono::seconds> duration);

// Parses a byte count with an optional binary suffix, as curl's --limit-rate
// does: "800", "64K", "50M", "1.5G" (k/m/g, case-insensitive, optional "B" or
// "iB"). Errors: kInvalidArgument naming the text that was wrong.
Result<std::uint64_t> parse_size(std::string_view text);

// Parses a duration: a number (seconds) with an optional unit, "ms", "s",
// "m", "h" or "d": "2", "1.5s", "500ms", "10m", "7d". Errors:
// kInvalidArgument naming the text that was wrong.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace haul
