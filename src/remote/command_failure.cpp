#include "remote/command_failure.hpp"

#include <cctype>

namespace haul::remote {

namespace {

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

bool contains_lower(std::string_view text, std::string_view needle) {
  if (needle.size() > text.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= text.size(); ++i) {
    bool match = true;
    for (std::size_t j = 0; j < needle.size() && match; ++j)
      match = std::tolower(static_cast<unsigned char>(text[i + j])) == needle[j];
    if (match) return true;
  }
  return false;
}

}  // namespace

ErrorCode command_failure_code(std::string_view reason) {
  // The first HTTP client-error status in the text, as a number standing alone.
  for (std::size_t i = 0; i + 3 <= reason.size(); ++i) {
    if (reason[i] != '4' || !is_digit(reason[i + 1]) || !is_digit(reason[i + 2])) continue;
    if ((i > 0 && is_digit(reason[i - 1])) || (i + 3 < reason.size() && is_digit(reason[i + 3])))
      continue;
    const std::string_view status = reason.substr(i, 3);
    if (status == "404" || status == "410") return ErrorCode::kNotFound;
    if (status == "401" || status == "403") return ErrorCode::kPermissionDenied;
    break;  // 408, 429, ...: may pass
  }
  if (contains_lower(reason, "resource not found")) return ErrorCode::kNotFound;  // aria2c
  return ErrorCode::kCommandFailed;
}

}  // namespace haul::remote
