// Reading a POSIX shell command line far enough to know the words a command
// will get: quotes, escapes, operators, redirections, and the expansions
// haul can predict ($NAME and ${NAME} of known variables, a leading ~ or
// $HOME). Everything else a shell would expand ($(...), `...`, $1, globs,
// unknown variables) makes the word unknown instead of being guessed. Used
// by plan_outputs (output_paths.hpp) to find where a command writes.
//
// Threading: pure functions and values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace haul::remote::shell {

// The value an expanded word has where it started with ~ or $HOME: the login
// directory, whatever its name. Control characters never survive expansion
// otherwise, so it cannot be confused with text.
inline constexpr char kLoginDir = '\x01';

struct Piece {
  enum class Kind {
    kText,     // literal text (quotes removed)
    kVar,      // $NAME or ${NAME}; `text` is the name
    kLogin,    // a leading unquoted ~ or $HOME: the login directory
    kUnknown,  // $(...), `...`, $1, ${x:-y}, $'...': not predictable;
               // `text` is the expansion as written
  };
  Kind kind = Kind::kText;
  std::string text;
  bool quoted = false;  // inside "...": no field splitting
};

struct Word {
  std::vector<Piece> pieces;
  // An unquoted *, ? or [ (or a bash brace): the shell may glob it. URLs
  // keep their '?' in practice (no file matches), paths do not count.
  bool glob = false;
};

// One simple command: its words, and the operators around it ("" at either
// end of the line; ";", "&&", "||", "|", "&", "\n", "(", ")").
struct Command {
  std::vector<Word> words;
  std::string before;
  std::string after;
};

// The simple commands of `line`, in order. Redirections and their targets are
// dropped; comments skipped. Parentheses are reported as commands without
// words whose `after` is "(" or ")" so callers can scope a subshell.
std::vector<Command> split_commands(std::string_view line);

// Variables as a shell has them: a known value, or known to be unknowable
// (assigned from something unpredictable). Names absent are unknown too.
using Vars = std::map<std::string, std::optional<std::string>>;

// The word's value, or nullopt when it cannot be predicted: an unknown piece
// or variable, an unquoted variable whose value the shell would split or
// glob, control characters in a value. kLogin becomes kLoginDir (only at the
// start; elsewhere the word is unknown).
std::optional<std::string> expand(const Word& word, const Vars& vars);

// The word as a reader sees it: quotes removed, expansions as written
// ("$KEY", "~", "$(pwd)").
std::string spelled(const Word& word);

// `NAME=value` (the first piece is unquoted text with a valid name before
// '='): the name and the value's word (its pieces as if quoted: assignments
// are not split); nullopt for other words. A value starting with ~/ gets the
// login directory, as sh does.
std::optional<std::pair<std::string, Word>> as_assignment(const Word& word);

}  // namespace haul::remote::shell
