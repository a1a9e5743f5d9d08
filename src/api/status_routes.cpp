// /healthz and /metrics (Prometheus text format 0.0.4).
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/api.hpp"
#include "api/node_heartbeat.hpp"
#include "api/socketio/server.hpp"
#include "base/version.hpp"

namespace haul::api {

namespace {

constexpr core::JobState kAllStates[] = {core::JobState::kQueued,    core::JobState::kRunning,
                                         core::JobState::kRetrying,  core::JobState::kPaused,
                                         core::JobState::kCompleted, core::JobState::kFailed,
                                         core::JobState::kCancelled};

std::string metrics_text(const ApiContext& ctx) {
  const scheduler::SchedulerStats stats = ctx.scheduler.stats();
  std::ostringstream out;
  out << "# HELP haul_jobs Jobs by state.\n# TYPE haul_jobs gauge\n";
  for (core::JobState state : kAllStates) {
    auto it = stats.jobs_by_state.find(state);
    out << "haul_jobs{state=\"" << core::state_name(state) << "\"} "
        << (it == stats.jobs_by_state.end() ? 0 : it->second) << "\n";
  }
  out << "# HELP haul_downloaded_bytes_total Bytes received since the daemon started.\n"
      << "# TYPE haul_downloaded_bytes_total counter\nhaul_downloaded_bytes_total "
      << stats.bytes_downloaded << "\n"
      << "# HELP haul_active_transfers Files being transferred now.\n"
      << "# TYPE haul_active_transfers gauge\nhaul_active_transfers " << stats.active_items << "\n"
      << "# HELP haul_download_speed_bytes Current total download speed in bytes per second.\n"
      << "# TYPE haul_download_speed_bytes gauge\nhaul_download_speed_bytes "
      << static_cast<std::uint64_t>(stats.speed) << "\n"
      << "# HELP haul_event_subscribers Live event subscribers (WebSocket and SSE).\n"
      << "# TYPE haul_event_subscribers gauge\nhaul_event_subscribers " << ctx.feed.subscribers()
      << "\n";
  if (ctx.socketio != nullptr) {
    out << "# HELP haul_socketio_clients Socket.IO clients.\n"
        << "# TYPE haul_socketio_clients gauge\nhaul_socketio_clients "
        << ctx.socketio->client_count() << "\n";
  }
  if (ctx.heartbeat != nullptr) {
    out << "# HELP haul_nodes Nodes sharing this queue, as the last heartbeat saw them.\n"
        << "# TYPE haul_nodes gauge\nhaul_nodes " << ctx.heartbeat->nodes().size() << "\n"
        << "# HELP haul_lease_renewals_total Job leases this node renewed.\n"
        << "# TYPE haul_lease_renewals_total counter\nhaul_lease_renewals_total "
        << ctx.heartbeat->lease_renewals() << "\n"
        << "# HELP haul_heartbeat_failures_total Heartbeats this node could not write.\n"
        << "# TYPE haul_heartbeat_failures_total counter\nhaul_heartbeat_failures_total "
        << ctx.heartbeat->failed_beats() << "\n"
        << "# HELP haul_takeovers_total Runs this node took over from a node whose lease lapsed.\n"
        << "# TYPE haul_takeovers_total counter\nhaul_takeovers_total " << ctx.scheduler.takeovers()
        << "\n"
        << "# HELP haul_leases_held Jobs whose lease this node holds.\n"
        << "# TYPE haul_leases_held gauge\nhaul_leases_held " << ctx.scheduler.leases_held()
        << "\n";
  }
  out << "# HELP haul_uptime_seconds Seconds since the daemon started.\n# TYPE haul_uptime_seconds "
         "gauge\n"
      << "haul_uptime_seconds "
      << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                          ctx.started)
             .count()
      << "\n";
  return out.str();
}

// The nodes sharing the queue (a PostgreSQL store), as the last heartbeat
// saw them: [{"name", "heartbeat_age_seconds", "jobs_held", "self"}].
nlohmann::json nodes_json(const NodeHeartbeat& heartbeat) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const store::NodeInfo& node : heartbeat.nodes()) {
    nodes.push_back(
        {{"name", node.name},
         {"heartbeat_age_seconds", std::chrono::duration<double>(node.since_heartbeat).count()},
         {"jobs_held", node.jobs_held},
         {"self", node.name == heartbeat.node()}});
  }
  return nodes;
}

// The environment variables that hold credentials haul uses.
constexpr const char* kCredentialNames[] = {"HF_TOKEN",
                                            "CIVITAI_TOKEN",
                                            "CIVITAI_API_KEY",
                                            "AWS_ACCESS_KEY_ID",
                                            "AWS_SECRET_ACCESS_KEY",
                                            "AWS_SESSION_TOKEN",
                                            "AWS_BUCKET_NAME",
                                            "HAUL_TOKEN"};

}  // namespace

void install_status_routes(Router& router, ApiContext& ctx) {
  router.add(http::verb::get, "/healthz",
             [&ctx](Request& request, Stream&, RouteParams&) -> Awaitable<HandlerResult> {
               const scheduler::SchedulerStats stats = ctx.scheduler.stats();
               nlohmann::json jobs = nlohmann::json::object();
               for (core::JobState state : kAllStates) {
                 auto it = stats.jobs_by_state.find(state);
                 jobs[std::string(core::state_name(state))] =
                     it == stats.jobs_by_state.end() ? 0 : it->second;
               }
               nlohmann::json body = {
                   {"status", "ok"},
                   {"version", kVersion},
                   {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::steady_clock::now() - ctx.started)
                                          .count()},
                   {"jobs", jobs},
                   {"active_transfers", stats.active_items},
                   {"speed", static_cast<std::uint64_t>(stats.speed)},
               };
               if (ctx.heartbeat != nullptr) {
                 body["node"] = ctx.heartbeat->node();
                 body["nodes"] = nodes_json(*ctx.heartbeat);
               }
               co_return json_response(http::status::ok, body.dump(), request);
             });
  // Settings, queue counts, and which credentials the daemon has: names
  // only, never a value.
  router.add(http::verb::get, "/api/v1/status",
             [&ctx](Request& request, Stream&, RouteParams&) -> Awaitable<HandlerResult> {
               nlohmann::json settings = nlohmann::json::object();
               for (const auto& [name, value] : ctx.settings) settings[name] = value;
               nlohmann::json credentials = nlohmann::json::object();
               for (const char* name : kCredentialNames) {
                 const char* value = std::getenv(name);
                 credentials[name] = value != nullptr && *value != '\0' ? "set" : "not set";
               }
               const scheduler::SchedulerStats stats = ctx.scheduler.stats();
               nlohmann::json jobs = nlohmann::json::object();
               for (core::JobState state : kAllStates) {
                 auto it = stats.jobs_by_state.find(state);
                 jobs[std::string(core::state_name(state))] =
                     it == stats.jobs_by_state.end() ? 0 : it->second;
               }
               nlohmann::json body = {{"version", kVersion},
                                      {"pid", static_cast<long>(::getpid())},
                                      {"settings", settings},
                                      {"credentials", credentials},
                                      {"jobs", jobs}};
               if (ctx.heartbeat != nullptr) body["nodes"] = nodes_json(*ctx.heartbeat);
               co_return json_response(http::status::ok, body.dump(), request);
             });
  router.add(http::verb::get, "/metrics",
             [&ctx](Request& request, Stream&, RouteParams&) -> Awaitable<HandlerResult> {
               Response response{http::status::ok, request.version()};
               response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
               response.keep_alive(request.keep_alive());
               response.body() = metrics_text(ctx);
               response.prepare_payload();
               co_return response;
             });
}

}  // namespace haul::api
