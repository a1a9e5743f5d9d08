// Small ASCII text helpers shared by the parsers. Pure functions.
#pragma once

#include <functional>
#include <optional>
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

// Python's posixpath.expanduser for "~" and "~/...": `home` without trailing
// slashes ("/" when that leaves nothing). "~user" and a missing `home` leave
// the path as it is (no password database here).
std::string expand_user(std::string_view path, const std::optional<std::string>& home);

// Looks up an environment variable; tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

// Python's posixpath.expandvars: $NAME and ${NAME} ([A-Za-z0-9_]) with NAME
// set are replaced, once; anything else stays as written.
std::string expand_vars(std::string_view path, const EnvLookup& getenv);

}  // namespace haul
