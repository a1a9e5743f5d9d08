// A remote target: a rented GPU machine reached over SSH, as the user pasted
// its SSH command. Values only; remote/ parses the command and connects.
#pragma once

#include <optional>
#include <string>

#include "core/job.hpp"

namespace haul::core {

inline constexpr const char* kDefaultUiHome = "/workspace/ComfyUI";

struct Instance {
  std::string id;           // "123456" (a cloud instance number) or a name the user chose
  std::string ssh_command;  // "ssh -p 44686 root@109.231.106.68 -L 8080:localhost:8080"
  std::string ui_home = kDefaultUiHome;  // exported to its commands as UI_HOME
  int max_parallel = 1;                  // jobs running on it at once
  TimePoint created_at{};
  std::optional<TimePoint> last_used_at;  // when a job last started there
  friend bool operator==(const Instance&, const Instance&) = default;
};

}  // namespace haul::core
