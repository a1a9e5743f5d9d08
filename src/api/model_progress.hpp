// Seed 002's progress document, from the queue's jobs:
//   {"<group>": {"<model>": {"totalSize", "localPath", "downloaded",
//                            "status": queued|progress|completed|failed|cancelled,
//                            "lastUpdated": "2025-07-14T10:30:45.123Z"}}}
// One entry per job that has a group and a name (a model's job, or any job
// given both); the newest job wins when several share them. Pure.
//
// Threading: pure functions; safe from any thread.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/job.hpp"

namespace haul::api {

struct ProgressFilter {
  std::optional<std::string> group;
  std::optional<std::string> model;  // the job's name
  std::optional<std::string> path;   // a file of the job (absolute)
  // Only these jobs (a sync's), when set.
  std::optional<std::vector<std::string>> job_ids;
};

// "queued" (also paused and retrying: waiting), "progress", "completed",
// "failed", "cancelled".
std::string_view seed_status(core::JobState state);

// `now` stamps jobs that are running (their bytes change by the second).
nlohmann::json model_progress(const std::vector<const core::Job*>& jobs,
                              const ProgressFilter& filter, core::TimePoint now);

}  // namespace haul::api
