// A request to download, already parsed from JSON (api/dto) or the command
// line: what the scheduler's add() takes. A value, so the API can build one
// without knowing the scheduler.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace haul::core {

// Where one source of a request goes, when the request says (a model's
// file): the source must then name exactly one file.
struct FileSpec {
  std::string path;  // relative to the request's dest, or absolute
  std::optional<std::uint64_t> size;
  std::optional<std::string> sha256;
  std::vector<std::string> links;  // symlinks to make: relative to dest, or absolute
  bool present = false;            // already there and checked (a sync): nothing to fetch
};

struct JobRequest {
  std::vector<std::string> sources;
  // Empty, or one per source (same order).
  std::vector<FileSpec> files;
  std::string target = "local";  // "local" or an instance id
  // A local job on a shared queue: the node whose disk it writes ("" = the
  // node that accepts it), or "any" (a filesystem every node shares).
  std::string node;
  std::string dest;                   // directory; relative to the first root; empty = that root
  std::optional<std::string> sha256;  // single-source jobs only
  int priority = 0;
  std::string group;
  std::string name;
  std::optional<int> max_attempts;
  std::map<std::string, std::string> labels;
  // See Job::source_options.
  std::map<std::string, std::string> source_options;
  // Resource cards on an instance: UI_HOME for this job; "" = the instance's.
  std::string ui_home;
};

}  // namespace haul::core
