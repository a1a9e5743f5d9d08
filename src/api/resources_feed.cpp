#include "api/resources_feed.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "api/dto.hpp"
#include "api/socketio/server.hpp"
#include "base/format.hpp"

namespace haul::api {

namespace {

using nlohmann::json;

// A job's events kept for late subscribers. Progress updates beyond the
// limit give way (the oldest first); stage events and the outcome never do.
constexpr std::size_t kMaxProgressKept = 200;
// Ended jobs whose events stay replayable (a seed client may subscribe after
// a short job has ended).
constexpr std::size_t kFinishedJobsKept = 256;

// The seed's units: "3.65M", "60.9MiB/s", "00:03".
std::string short_size(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"", "K", "M", "G", "T"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1000 && unit + 1 < std::size(kUnits)) {
    value /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f%s" : "%.2f%s", value, kUnits[unit]);
  return text;
}

std::string clock_time(std::int64_t seconds) {
  char text[32];
  if (seconds >= 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", static_cast<long long>(seconds / 3600),
                  static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60));
  } else {
    std::snprintf(text, sizeof text, "%02lld:%02lld", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
  }
  return text;
}

json results_of(const core::Job& job, std::size_t* installed) {
  json results = json::array();
  *installed = 0;
  for (std::size_t i = 0; i < job.items.size(); ++i) {
    const core::Item& item = job.items[i];
    const bool last =
        i + 1 == job.items.size() || job.items[i + 1].extras->resource != item.extras->resource;
    if (!last) continue;
    bool ok = true;
    std::string error;
    for (const core::Item& each : job.items) {
      if (each.extras->resource != item.extras->resource) continue;
      ok = ok && each.state == core::ItemState::kCompleted;
      if (each.error && error.empty()) error = each.error->message;
    }
    if (ok) ++*installed;
    json result = {{"resource", item.extras->resource}, {"success", ok}};
    if (!ok) result["error"] = error;
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace

struct ResourcesFeed::History {
  std::vector<std::pair<std::string, json>> events;  // (event name, data), in order
  std::size_t progress = 0;                          // of them, "progress" updates
  bool ended = false;  // the last one is the outcome (complete or error)
};

ResourcesFeed::ResourcesFeed(scheduler::EventBus& bus, socketio::Namespace& resources)
    : bus_(bus), resources_(resources) {
  resources_.on("subscribe_install", [this](socketio::Socket& socket, const json& args,
                                            const socketio::Ack& ack) {
    const json data = args.is_array() && !args.empty() ? args[0] : json::object();
    const json& id = data.is_object() ? data.value("job_id", json()) : json();
    const std::string job_id = id.is_string() ? id.get<std::string>() : std::string();
    if (job_id.empty()) {
      socket.emit("resource_install_error", {{"job_id", nullptr}, {"error", "job_id is required"}});
      return;
    }
    socket.emit("subscribed", {{"job_id", job_id}});
    if (ack) ack({{"job_id", job_id}});
    // The control thread runs this whole handler: no event can slip in
    // between the replay and joining the room.
    if (auto kept = histories_.find(job_id); kept != histories_.end()) {
      for (const auto& [event, payload] : kept->second.events) socket.emit(event, payload);
    }
    socket.join(job_id);
  });
  resources_.on("unsubscribe_install",
                [](socketio::Socket& socket, const json& args, const socketio::Ack&) {
                  const json data = args.is_array() && !args.empty() ? args[0] : json::object();
                  if (data.is_object()) socket.leave(data.value("job_id", ""));
                });
  progress_handle_ =
      bus_.subscribe_install([this](const core::InstallProgress& p) { on_progress(p); });
  event_handle_ = bus_.subscribe([this](const core::Event& event) { on_event(event); });
}

ResourcesFeed::~ResourcesFeed() {
  bus_.unsubscribe_install(progress_handle_);
  bus_.unsubscribe(event_handle_);
}

void ResourcesFeed::on_progress(const core::InstallProgress& p) {
  json data = {{"type", p.type}, {"resource", p.resource}, {"job_id", p.job_id}};
  if (p.type == "retrying") {
    data["name"] = p.name;
    data["stage"] = p.stage;
    data["attempt"] = p.attempt;
    data["max_attempts"] = p.max_attempts;
    data["error"] = p.error;
    data["next_retry_at"] = p.next_attempt_at ? json(iso_time(*p.next_attempt_at)) : json(nullptr);
  } else if (p.type != "progress") {
    data["name"] = p.name;
  } else {
    // Seed 001's shape has every key, always; what the tool has not said yet
    // is 0 (percent, downloaded) or null (total, remaining).
    data["stage"] = p.stage;
    if (!p.name.empty()) data["name"] = p.name;
    data["percent"] = p.percent ? static_cast<int>(std::floor(*p.percent)) : 0;
    data["downloaded"] = short_size(p.downloaded.value_or(0));
    data["total"] = p.total ? json(short_size(*p.total)) : json(nullptr);
    data["elapsed"] = clock_time(p.elapsed_seconds.value_or(0));
    data["remaining"] =
        p.remaining_seconds ? json(clock_time(*p.remaining_seconds)) : json(nullptr);
    data["speed"] = format_speed(p.speed.value_or(0));
  }
  emit(p.job_id, "resource_install_progress", data);
}

void ResourcesFeed::emit(const std::string& job_id, const std::string& event, const json& data,
                         bool finished) {
  History& history = histories_[job_id];
  const bool progress = data.value("type", "") == "progress";
  if (progress && history.progress >= kMaxProgressKept) {
    auto oldest = std::find_if(history.events.begin(), history.events.end(), [](const auto& e) {
      return e.second.value("type", "") == "progress";
    });
    history.events.erase(oldest);
    --history.progress;
  }
  history.events.emplace_back(event, data);
  history.progress += progress ? 1 : 0;
  history.ended = finished;
  if (resources_.room_size(job_id) != 0) resources_.emit_to_room(job_id, event, data);
  if (finished) {
    finished_.push_back(job_id);
    while (finished_.size() > kFinishedJobsKept) {
      histories_.erase(finished_.front());
      finished_.pop_front();
    }
  }
}

void ResourcesFeed::on_event(const core::Event& event) {
  const core::Job& job = event.job;
  if (job.target == "local") return;
  if (event.type == core::EventType::kRemoved) {
    histories_.erase(job.id);  // (its id may linger in finished_; erasing twice is harmless)
    return;
  }
  if (event.type == core::EventType::kState && job.state == core::JobState::kQueued) {
    // Retried after it ended: a new subscriber hears of the new run only.
    if (auto kept = histories_.find(job.id); kept != histories_.end() && kept->second.ended)
      histories_.erase(kept);
    return;
  }
  if (event.type == core::EventType::kCompleted) {
    std::size_t installed = 0;
    json results = results_of(job, &installed);
    emit(job.id, "resource_install_complete",
         {{"success", installed == results.size()},
          {"installed", installed},
          {"total", results.size()},
          {"results", results},
          {"job_id", job.id}},
         /*finished=*/true);
  } else if (event.type == core::EventType::kFailed || event.type == core::EventType::kCancelled) {
    const std::string error = event.type == core::EventType::kCancelled
                                  ? std::string("cancelled")
                                  : (job.error ? job.error->message : std::string("failed"));
    emit(job.id, "resource_install_error", {{"job_id", job.id}, {"error", error}},
         /*finished=*/true);
  }
}

}  // namespace haul::api
