// Presence of model files on a remote instance, in one round trip: a POSIX
// sh script that looks at every candidate path of every file (run over SSH
// by the remote layer; the instance needs sh and coreutils: test, wc or
// stat, and for verification sha256sum or shasum), and a parser that maps
// its output back to FileChecks judged as the local checker judges them
// (FileVerdict in presence.hpp).
//
// What the script reports per candidate: a regular file (symlinks followed)
// and its size, a dangling symlink, something that is not a file, and a
// `<path>.part` and its size. Without `verify` nothing is hashed: a file is
// present when its size matches (or no size is known). With `verify`, a file
// whose size matches and whose SHA-256 is given is hashed with sha256sum
// (shasum -a 256 where that is what the instance has; a file is then judged
// by size alone, and not marked verified, when neither exists); hashing
// stops at the first candidate that matches. There is no cache remotely:
// each verified check reads the files again. A partial download's bytes done
// is its .part file's size (the remote fetch appends to it with curl -C -).
//
// Threading: pure functions; callable from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "models/presence.hpp"

namespace haul::models {

struct RemoteFileQuery {
  // Where the file may be on the instance, absolute, in order: the first is
  // where it would go.
  std::vector<std::string> candidates;
  std::optional<std::uint64_t> size;
  std::string sha256;  // hex; compared only with `verify`
};

// The line prefixes the script prints; nothing else it prints matters.
inline constexpr std::string_view kPresenceLine = "@@HAUL_PRESENCE ";
inline constexpr std::string_view kPresenceEnd = "@@HAUL_PRESENCE_END ";

// The script: one line "@@HAUL_PRESENCE <file> <observation>..." per file,
// in order, then "@@HAUL_PRESENCE_END <count>". Every path is single-quoted
// ('\'' for a quote); a path holding a NUL byte (which no shell can carry) is
// passed as '' and so is never found. Plain POSIX sh: no bash-isms.
std::string presence_script(const std::vector<RemoteFileQuery>& files, bool verify = false);

// The script's output (stdout; anything else such as a login banner around
// it is skipped) -> one FileCheck per query, in order. Errors: kProtocol,
// naming the line, for a malformed line of the script's, and when the output
// stops before the end line (the connection dropped, the script was killed).
Result<std::vector<FileCheck>> parse_presence_output(std::string_view output,
                                                     const std::vector<RemoteFileQuery>& files);

}  // namespace haul::models
