#include "api/resources_feed.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "api/socketio/server.hpp"
#include "base/format.hpp"

namespace haul::api {

namespace {

using nlohmann::json;

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
    const bool last = i + 1 == job.items.size() || job.items[i + 1].resource != item.resource;
    if (!last) continue;
    bool ok = true;
    std::string error;
    for (const core::Item& each : job.items) {
      if (each.resource != item.resource) continue;
      ok = ok && each.state == core::JobState::kCompleted;
      if (each.error && error.empty()) error = each.error->message;
    }
    if (ok) ++*installed;
    json result = {{"resource", item.resource}, {"success", ok}};
    if (!ok) result["error"] = error;
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace

ResourcesFeed::ResourcesFeed(scheduler::EventBus& bus, socketio::Namespace& resources)
    : bus_(bus), resources_(resources) {
  resources_.on("subscribe_install", [](socketio::Socket& socket, const json& args,
                                        const socketio::Ack& ack) {
    const json data = args.is_array() && !args.empty() ? args[0] : json::object();
    const std::string job_id = data.is_object() ? data.value("job_id", "") : "";
    if (job_id.empty()) {
      socket.emit("resource_install_error", {{"job_id", nullptr}, {"error", "job_id is required"}});
      return;
    }
    socket.join(job_id);
    socket.emit("subscribed", {{"job_id", job_id}});
    if (ack) ack({{"job_id", job_id}});
  });
  resources_.on("unsubscribe_install", [](socketio::Socket& socket, const json& args,
                                          const socketio::Ack&) {
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
  if (resources_.room_size(p.job_id) == 0) return;
  json data = {{"type", p.type}, {"resource", p.resource}, {"job_id", p.job_id}};
  if (p.type != "progress") {
    data["name"] = p.name;
  } else {
    data["stage"] = p.stage;
    if (!p.name.empty()) data["name"] = p.name;
    if (p.percent) data["percent"] = static_cast<int>(std::floor(*p.percent));
    if (p.downloaded) data["downloaded"] = short_size(*p.downloaded);
    if (p.total) data["total"] = short_size(*p.total);
    if (p.elapsed_seconds) data["elapsed"] = clock_time(*p.elapsed_seconds);
    if (p.remaining_seconds) data["remaining"] = clock_time(*p.remaining_seconds);
    if (p.speed) data["speed"] = format_speed(*p.speed);
  }
  resources_.emit_to_room(p.job_id, "resource_install_progress", data);
}

void ResourcesFeed::on_event(const core::Event& event) {
  const core::Job& job = event.job;
  if (job.target == "local" || resources_.room_size(job.id) == 0) return;
  if (event.type == core::EventType::kCompleted) {
    std::size_t installed = 0;
    json results = results_of(job, &installed);
    resources_.emit_to_room(job.id, "resource_install_complete",
                            {{"success", installed == results.size()},
                             {"installed", installed},
                             {"total", results.size()},
                             {"results", results},
                             {"job_id", job.id}});
  } else if (event.type == core::EventType::kFailed || event.type == core::EventType::kCancelled) {
    const std::string error = event.type == core::EventType::kCancelled
                                  ? std::string("cancelled")
                                  : (job.error ? job.error->message : std::string("failed"));
    resources_.emit_to_room(job.id, "resource_install_error",
                            {{"job_id", job.id}, {"error", error}});
  }
}

}  // namespace haul::api
