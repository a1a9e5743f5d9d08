// `haul serve --log-format json`: each log line one JSON object, with what
// the text line says in fields of its own: the job ("job <id>: ..."), and
// for errors the stage, file, attempt and code (core::describe's trailer).
//
// Threading: pure function; the spdlog formatter around it is used by the
// logger's sinks (any thread).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class formatter;
}

namespace haul::daemon {

// {"time": time, "level": level, "job": ..., "item": ..., "stage": ...,
//  "file": ..., "attempt": N, "code": ..., "message": ...} (fields the line
// does not have are left out), without a trailing newline.
std::string json_log_line(std::string_view time, std::string_view level, std::string_view text);

// The spdlog formatter writing json_log_line()s.
std::unique_ptr<spdlog::formatter> make_json_formatter();

}  // namespace haul::daemon
