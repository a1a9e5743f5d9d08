// The shell command that fetches one file of a native source (URL, hf,
// CivitAI, S3) on a remote instance with curl, resuming a partial download,
// checking size and SHA-256 there, and renaming it into place only when it is
// right. Pure: builds text; the RemoteRunner runs it like a card's command.
//
// What the remote side sees:
// - the command (visible in its process list): paths, size and SHA-256 only;
// - the environment (written to the channel's stdin, never argv):
//   HAUL_CURL_CONFIG, a curl config (url, headers such as Authorization, the
//   SigV4 user) that `printf | curl -K -` hands to curl through a pipe, so no
//   secret reaches a file or an argv; HAUL_SIDECAR_<n> for metadata files.
// Needs on the instance: a POSIX sh, curl (7.75 or later for S3 signing),
// sha256sum or shasum, wc, mkdir, mv.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace haul::remote {

struct RemoteFetch {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"; curl keeps them from other hosts' redirects
  std::string aws_sigv4;             // "aws:amz:<region>:s3"; "" = no signing
  std::string aws_user;              // "ACCESS_KEY:SECRET_KEY" for aws_sigv4
  // Directory: absolute, or relative to $UI_HOME ("models/loras").
  std::string directory;
  // The file under `directory`, '/'-separated, no ".." (checked).
  std::string relative_path;
  std::optional<std::uint64_t> size;
  std::string sha256;  // lower-case hex; "" = not checked
  // Small files written into `directory` before the download (CivitAI
  // metadata): relative path -> content.
  std::vector<std::pair<std::string, std::string>> sidecars;
  // Symlinks to the file, made (or repaired) once it is in place: absolute,
  // or relative to $UI_HOME. A file that is not a link is never replaced.
  std::vector<std::string> links;
};

struct FetchCommand {
  std::string command;                     // for RemoteStep::command
  std::map<std::string, std::string> env;  // for RemoteStep::env (secrets)
  // What must never show in the command's output as kept (RemoteStep::
  // secrets): header values and their tokens, a signed URL's query, S3 keys.
  std::vector<std::string> secrets;
};

// Errors (kInvalidArgument, naming the field, never a header's value): an
// unsafe relative path or link, a control character in the URL, a header or
// a path, an empty URL.
Result<FetchCommand> build_fetch_command(const RemoteFetch& fetch);

// The command that removes the partial files (FILE.part) of `fetches`, for a
// cancelled job. Paths are checked as build_fetch_command checks them; those
// it would refuse are left out.
std::string build_partial_cleanup(const std::vector<RemoteFetch>& fetches);

}  // namespace haul::remote
