#include "base/format.hpp"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

namespace haul {

std::string format_bytes(std::uint64_t bytes) {
  static constexpr std::array<const char*, 6> kUnits = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < kUnits.size()) {
    value /= 1024.0;
    ++unit;
  }
  // Three significant digits: 1.23, 12.3, 123. Rounding can reach 1024.
  char buf[32];
  if (value < 10.0) {
    std::snprintf(buf, sizeof buf, "%.2f %s", value, kUnits[unit]);
  } else if (value < 100.0) {
    std::snprintf(buf, sizeof buf, "%.1f %s", value, kUnits[unit]);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f %s", value, kUnits[unit]);
  }
  return buf;
}

std::string format_speed(double bytes_per_second) {
  if (!std::isfinite(bytes_per_second) || bytes_per_second < 0) return "0 B/s";
  return format_bytes(static_cast<std::uint64_t>(bytes_per_second)) + "/s";
}

std::string format_duration(std::optional<std::chrono::seconds> duration) {
  if (!duration || duration->count() < 0) return "--";
  const long long total = duration->count();
  char buf[32];
  if (total < 60) {
    std::snprintf(buf, sizeof buf, "%llds", total);
  } else if (total < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", total / 60, total % 60);
  } else if (total < 86400) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", total / 3600, (total % 3600) / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", total / 86400, (total % 86400) / 3600);
  }
  return buf;
}

namespace {

// A decimal number ("2", "1.5", ".5") and the unit text after it.
struct NumberWithUnit {
  double number = 0;
  std::string_view unit;
};

std::optional<NumberWithUnit> split_number(std::string_view text) {
  std::size_t digits_end = 0;
  bool seen_dot = false;
  bool seen_digit = false;
  for (; digits_end < text.size(); ++digits_end) {
    const char c = text[digits_end];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      seen_digit = true;
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      break;
    }
  }
  if (!seen_digit) return std::nullopt;
  const double number = std::strtod(std::string(text.substr(0, digits_end)).c_str(), nullptr);
  return NumberWithUnit{number, text.substr(digits_end)};
}

}  // namespace

Result<std::uint64_t> parse_size(std::string_view text) {
  auto bad = [&] {
    return fail(ErrorCode::kInvalidArgument,
                "invalid size '" + std::string(text) + "' (expected e.g. 800, 64K, 50M, 1.5G)");
  };
  const auto parsed = split_number(text);
  if (!parsed) return bad();
  const double number = parsed->number;

  std::string suffix;
  for (char c : parsed->unit)
    suffix += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double multiplier = 1;
  if (!suffix.empty() && suffix != "b") {
    switch (suffix[0]) {
      case 'k':
        multiplier = 1024.0;
        break;
      case 'm':
        multiplier = 1024.0 * 1024;
        break;
      case 'g':
        multiplier = 1024.0 * 1024 * 1024;
        break;
      case 't':
        multiplier = 1024.0 * 1024 * 1024 * 1024;
        break;
      default:
        return bad();
    }
    const std::string_view rest = std::string_view(suffix).substr(1);
    if (!rest.empty() && rest != "b" && rest != "ib") return bad();
  }
  const double bytes = number * multiplier;
  if (!std::isfinite(bytes) || bytes >= 1.8e19) return bad();
  // Not llround: sizes past 2^63 (up to the 1.8e19 cap) do not fit its long long.
  return static_cast<std::uint64_t>(std::round(bytes));
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto bad = [&] {
    return fail(ErrorCode::kInvalidArgument, "invalid duration '" + std::string(text) +
                                                 "' (expected e.g. 2, 1.5s, 500ms, 10m, 7d)");
  };
  const auto parsed = split_number(text);
  if (!parsed) return bad();
  const double number = parsed->number;
  const std::string_view unit = parsed->unit;
  double ms_per_unit = 0;
  if (unit.empty() || unit == "s") {
    ms_per_unit = 1000;
  } else if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "m") {
    ms_per_unit = 60'000;
  } else if (unit == "h") {
    ms_per_unit = 3'600'000;
  } else if (unit == "d") {
    ms_per_unit = 86'400'000;
  } else {
    return bad();
  }
  const double ms = number * ms_per_unit;
  if (!(ms < 1e15)) return bad();  // also rejects NaN
  return std::chrono::milliseconds(std::llround(ms));
}

}  // namespace haul
