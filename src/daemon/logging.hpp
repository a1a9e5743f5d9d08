// Log set-up for the daemon: console plus a rotating data/logs/downloads.log.
// Lines about a job start with "job <id>:" (see scheduler.cpp).
#pragma once

#include <filesystem>

#include "base/error.hpp"

namespace haul::daemon {

// `json`: one JSON object per line (log_format.hpp) instead of text.
// Errors: kIo when the log directory cannot be created.
Result<void> setup_logging(const std::filesystem::path& log_dir, bool console, bool json = false);

}  // namespace haul::daemon
