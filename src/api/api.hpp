// The daemon's routes: REST /api/v1, the seed documents' routes, the
// WebSocket, SSE and Socket.IO event streams, /metrics, /healthz and the
// OpenAPI document. Handlers run on the control thread and reach the
// scheduler directly.
#pragma once

#include <chrono>
#include <string>

#include "api/http/router.hpp"
#include "api/live_feed.hpp"
#include "cards/card_library.hpp"
#include "scheduler/event_bus.hpp"
#include "scheduler/scheduler.hpp"
#include "store/db_worker.hpp"

namespace haul::api {

namespace socketio {
class Server;
}
class ModelCatalog;
class ProgressFiles;
class WebAssets;
class InstanceProbe;
class NodeHeartbeat;

struct ApiContext {
  scheduler::Scheduler& scheduler;
  scheduler::EventBus& bus;
  store::DbWorker& db;
  LiveFeed& feed;
  socketio::Server* socketio = nullptr;
  const cards::CardLibrary* cards = nullptr;  // resource cards; null: none
  ModelCatalog* models = nullptr;             // manifests and models; null: no model routes
  ProgressFiles* progress_files = nullptr;    // sync output files; set with `models`
  const WebAssets* web = nullptr;             // the web UI's files; null: GET / answers 404
  InstanceProbe* probe = nullptr;             // SSH reachability; null: no check route
  // This node's heartbeat on a shared (PostgreSQL) queue; null: a sole node.
  const NodeHeartbeat* heartbeat = nullptr;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::chrono::seconds sse_keepalive{15};
  // GET /api/v1/status: the daemon's settings as people read them
  // ("data_dir", "store", "listen", "models_roots", ...), in order.
  std::vector<std::pair<std::string, std::string>> settings{};
};

void install_job_routes(Router& router, ApiContext& context);
void install_live_routes(Router& router, ApiContext& context);
void install_status_routes(Router& router, ApiContext& context);
void install_remote_routes(Router& router, ApiContext& context);
void install_docs_routes(Router& router, ApiContext& context);
void install_model_routes(Router& router, ApiContext& context);
void install_output_routes(Router& router, ApiContext& context);
void install_web_routes(Router& router, ApiContext& context);

// Every route the daemon serves, Socket.IO's "/socket.io/" included when
// `context.socketio` is set; src/api/openapi.json documents each of them.
// The handlers keep references to `context` and what it names.
void install_routes(Router& router, ApiContext& context);

}  // namespace haul::api
