// Small ASCII text helpers shared by the parsers. Pure functions.
#pragma once

#include <string>
#include <string_view>

namespace haul {

// Without leading and trailing whitespace (space, \t, \r, \n, \v, \f).
std::string_view trim(std::string_view text);
// Equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view text);
// A relative path that stays below the directory it is joined to: "a/b.bin"
// is; "", "/x", "a/../b", "a//b", "./a", backslashes and NUL bytes are not.
bool is_safe_relative_path(std::string_view path);
// Holds an ASCII control character (below 0x20, or DEL): no place in a
// header, a URL or a file name that goes into a shell command.
bool has_control_char(std::string_view text);

}  // namespace haul
