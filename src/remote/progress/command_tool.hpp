// Reading a shell command far enough to know which tool's output to expect:
// its simple commands (split by remote/shell_words.hpp) and the rules that
// pick the tool. detect_tool() itself is
// declared in progress_parser.hpp. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace haul::remote::progress {

// The simple commands of a shell command line, in order, each as its words
// with quotes removed. Operators (&& || ; | & newline, parentheses) separate
// commands; redirections (> f, 2>&1, <f) are dropped. Expansions stay as
// written and a command substitution stays inside its word.
std::vector<std::vector<std::string>> split_simple_commands(std::string_view shell_command);

}  // namespace haul::remote::progress
