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

}  // namespace haul
