// What to say when the first word of a command line is not a haul command:
// name the word, suggest the command it was probably meant to be, and point
// to `haul --help`. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace haul::cli {

// The closest of `commands` to `word` ("--status" and "stauts" both mean
// "status"), or "" when none is close.
std::string closest_command(std::string_view word, const std::vector<std::string>& commands);

// "haul: 'stauts' is not a haul command; did you mean 'status'? Run 'haul
// --help' for the commands." (one line). An option in the command's place
// ("--status") is called an option.
std::string unknown_command_message(std::string_view word,
                                    const std::vector<std::string>& commands);

}  // namespace haul::cli
