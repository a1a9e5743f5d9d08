// Seed 002's progress document: see model_progress.hpp.
#include "api/model_progress.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "api/dto.hpp"

namespace haul::api {
namespace {

bool writes_path(const core::Job& job, const std::string& path) {
  return std::any_of(job.items.begin(), job.items.end(),
                     [&](const core::Item& item) { return item.path == path; });
}

bool selected(const core::Job& job, const ProgressFilter& filter) {
  if (job.group.empty() || job.name.empty()) return false;
  if (filter.group && job.group != *filter.group) return false;
  if (filter.model && job.name != *filter.model) return false;
  if (filter.path && !writes_path(job, *filter.path)) return false;
  if (filter.job_ids &&
      std::find(filter.job_ids->begin(), filter.job_ids->end(), job.id) == filter.job_ids->end())
    return false;
  return true;
}

core::TimePoint last_updated(const core::Job& job, core::TimePoint now) {
  if (job.state == core::JobState::kRunning) return now;
  if (job.finished_at) return *job.finished_at;
  if (job.started_at) return *job.started_at;
  return job.created_at;
}

}  // namespace

std::string_view seed_status(core::JobState state) {
  switch (state) {
    case core::JobState::kRunning:
      return "progress";
    case core::JobState::kCompleted:
      return "completed";
    case core::JobState::kFailed:
      return "failed";
    case core::JobState::kCancelled:
      return "cancelled";
    case core::JobState::kQueued:
    case core::JobState::kRetrying:
    case core::JobState::kPaused:
      return "queued";
  }
  return "queued";
}

nlohmann::json model_progress(const std::vector<const core::Job*>& jobs,
                              const ProgressFilter& filter, core::TimePoint now) {
  nlohmann::json out = nlohmann::json::object();
  std::vector<const core::Job*> chosen;
  for (const core::Job* job : jobs) {
    if (selected(*job, filter)) chosen.push_back(job);
  }
  // Oldest first, so the newest job of a group and name is written last.
  std::stable_sort(chosen.begin(), chosen.end(),
                   [](const core::Job* a, const core::Job* b) { return a->seq < b->seq; });
  for (const core::Job* job : chosen) {
    std::uint64_t total = 0;
    for (const core::Item& item : job->items) total += item.size.value_or(0);
    std::string local_path = job->items.empty() ? job->destination : job->items.front().path;
    out[job->group][job->name] = {{"totalSize", total},
                                  {"localPath", local_path},
                                  {"downloaded", job->bytes_done()},
                                  {"status", seed_status(job->state)},
                                  {"lastUpdated", iso_time(last_updated(*job, now))}};
  }
  return out;
}

}  // namespace haul::api
