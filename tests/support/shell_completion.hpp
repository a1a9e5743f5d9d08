// Drives a completion script the way a user's TAB does, for tests of
// `haul completion`: bash with COMP_WORDS/COMP_CWORD set and the function
// that `complete -p PROGRAM` names called; zsh interactively in a pty
// (zsh/zpty) with the script sourced after compinit, recording every match
// offered.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace haul::testing {

// True when `program` is found on $PATH.
bool have_program(const std::string& program);

// COMPREPLY for `words` (the program, then the words typed; the last one is
// the word being completed, "" for a fresh one) with `script` loaded in
// bash. Nullopt, with `error` set, when bash failed (script error, no
// `complete` registration, timeout).
std::optional<std::vector<std::string>> bash_complete(const std::filesystem::path& script,
                                                      const std::vector<std::string>& words,
                                                      std::string* error = nullptr);

// The matches zsh offers when TAB is pressed after `line` (e.g. "haul ser"),
// sorted and without duplicates. Nullopt, with `error` set, when zsh failed
// or did not answer within 30 s.
std::optional<std::vector<std::string>> zsh_complete(const std::filesystem::path& script,
                                                     const std::string& line,
                                                     std::string* error = nullptr);

}  // namespace haul::testing
