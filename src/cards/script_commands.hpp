// Splits the text of a resource card's bash block into the commands haul runs
// one by one on an instance (each becomes one Item of the job). Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace haul::cards {

// One entry per shell command of `script`, in order. The text of a command is
// kept as written except for how its lines are joined:
//  - blank lines and comment lines (first non-blank character '#') are dropped,
//    and so is a trailing comment (` # ...` outside quotes);
//  - a line ending in an unquoted backslash continues on the next line: the
//    backslash and the line break go, and the pieces are joined with one space
//    when either side had whitespace there (so `a \` + `  b` gives `a b`, the
//    words the shell would see) or with nothing otherwise (`a\` + `b` is `ab`);
//    inside double quotes backslash-newline is removed exactly as sh does;
//  - a line ending in `&&`, `||` or `|` continues on the next non-comment line,
//    joined with one space;
//  - a quote left open at the end of a line continues the command, keeping the
//    line break (a multi-line string);
//  - a here-document (`<<EOF`, `<<-EOF`, `<<'EOF'`) keeps its body lines,
//    joined with '\n', up to the delimiter line.
// Leading indentation of a command's first line is dropped, and so are
// blanks at the end of a line, but for one a backslash escapes (`my\ `): an
// escaped blank, '#' or operator is an ordinary character, as in sh.
// Errors (kInvalidArgument, naming the start of the command): a quote that is
// never closed, a here-document that is never ended, a trailing `&&`/`||`/`|`.
Result<std::vector<std::string>> split_script_commands(std::string_view script);

}  // namespace haul::cards
