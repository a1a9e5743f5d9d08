// Small files written whole: a reader sees the old content or the new,
// never a part (a temporary file in the same folder, renamed over it).
//
// Threading: blocking I/O; any thread but the control thread.
#pragma once

#include <filesystem>
#include <string_view>

#include "base/error.hpp"

namespace haul {

// Writes `text` to `file` through `<file>.tmp<pid>` renamed over it; the
// folder must exist. Errors: kIo "cannot write FILE: reason" (nothing is
// left behind).
Result<void> write_file_atomically(const std::filesystem::path& file, std::string_view text);

}  // namespace haul
