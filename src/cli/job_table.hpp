// How `haul jobs` and `haul status` print what the daemon returns: an
// aligned table, one simple line per job, or the status summary. Pure
// functions over the API's JSON.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace haul::cli {

// ID (first 8 characters), STATE, PROGRESS, SIZE, SPEED, ETA, NAME; a failed
// job's error follows its row.
std::string format_jobs_table(const nlohmann::json& jobs);
// "<id> <state> <progress>% <name>" per job, for scripts.
std::string format_jobs_simple(const nlohmann::json& jobs);
// The /healthz document as a few lines for people.
std::string format_status(const nlohmann::json& health, const std::string& url);
// GET /api/v1/status for `haul status --debug`: the daemon's pid, settings,
// which credentials it has (set / not set) and its queue by state.
std::string format_debug_status(const nlohmann::json& status);

}  // namespace haul::cli
