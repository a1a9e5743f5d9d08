// Remote instances and resource cards: REST /api/v1/instances and
// /api/v1/resources, and the seed documents' routes that drive them:
// POST /downloads/queue and GET /downloads/status (seed 000),
// POST /resources/install (seed 001).
#include <cmath>
#include <nlohmann/json.hpp>

#include "api/api.hpp"
#include "api/await.hpp"
#include "api/dto.hpp"
#include "api/instance_probe.hpp"
#include "api/responses.hpp"
#include "base/format.hpp"
#include "remote/ssh_command.hpp"

namespace haul::api {

namespace {

using nlohmann::json;

json instance_json(const core::Instance& instance) {
  json out = {{"id", instance.id},
              {"ssh_command", instance.ssh_command},
              {"ui_home", instance.ui_home},
              {"max_parallel", instance.max_parallel},
              {"created_at", iso_time(instance.created_at)},
              {"last_used_at",
               instance.last_used_at ? json(iso_time(*instance.last_used_at)) : json(nullptr)}};
  if (auto target = remote::parse_ssh_command(instance.ssh_command)) {
    out["host"] = target->host;
    out["port"] = target->port;
    out["user"] = target->user;
    json options = json::object();
    for (const auto& [name, value] : target->options) options[name] = value;
    out["options"] = options;
  }
  return out;
}

// The seed's numeric instance ids stay numbers in its answers.
json instance_id_json(const std::string& id) {
  const bool digits =
      !id.empty() && id.size() < 19 && id.find_first_not_of("0123456789") == std::string::npos;
  return digits ? json(std::stoll(id)) : json(id);
}

std::string seed_status(core::JobState state) {
  switch (state) {
    case core::JobState::kRunning:
    case core::JobState::kRetrying:
      return "RUNNING";
    case core::JobState::kCompleted:
      return "COMPLETE";
    case core::JobState::kFailed:
    case core::JobState::kCancelled:
      return "FAILED";
    default:
      return "PENDING";
  }
}

// One job as /downloads/status lists it (seed 000).
json queue_entry(const core::Job& job) {
  std::string stage;
  std::vector<std::string> resources;
  std::vector<std::string> commands;
  for (const core::Item& item : job.items) {
    commands.push_back(item.source);
    if (resources.empty() || resources.back() != item.extras->resource)
      resources.push_back(item.extras->resource);
    if (item.state == core::ItemState::kRunning) stage = item.stage;
  }
  json out = {{"id", job.id},
              {"instance_id", instance_id_json(job.target)},
              {"added_at", iso_time(job.created_at)},
              {"status", seed_status(job.state)},
              {"resource_paths", resources},
              {"commands", commands},
              {"progress",
               {{"percent", std::round(job.percent() * 10) / 10},
                {"speed", job.speed > 0 ? format_speed(job.speed) : std::string()},
                {"stage", stage}}},
              {"error", job.error ? json(job.error->message) : json(nullptr)},
              {"ui_home", job.destination},
              {"attempt", job.attempts},
              {"max_attempts", job.max_attempts},
              {"next_attempt_at",
               job.next_attempt_at ? json(iso_time(*job.next_attempt_at)) : json(nullptr)}};
  if (job.state == core::JobState::kRetrying) out["progress"]["stage"] = "retrying";
  if (job.state == core::JobState::kCancelled) out["error"] = "cancelled";
  return out;
}

// A JSON object body: 400 bad_json when it is not JSON, 422 when not an object.
Result<json> object_body(const Request& request) { return parse_body(request, true); }

Result<std::vector<std::string>> string_list(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_array() || it->empty())
    return fail(ErrorCode::kInvalidArgument,
                std::string("'") + name + "' must be a non-empty array of strings");
  std::vector<std::string> out;
  for (const json& entry : *it) {
    if (!entry.is_string())
      return fail(ErrorCode::kInvalidArgument, std::string("'") + name + "' must hold strings");
    out.push_back(entry.get<std::string>());
  }
  return out;
}

// Registers the instance when it is new (a known one keeps its settings),
// then queues one job of the cards on it, with the request's UI_HOME ("" =
// the instance's).
Awaitable<Result<core::Job>> queue_on_instance(ApiContext& ctx, core::Instance instance,
                                               std::vector<std::string> cards,
                                               std::string ui_home) {
  const auto executor = co_await asio::this_coro::executor;
  // (No co_await inside a branch: GCC 12 mismanages such coroutine frames.)
  const bool known = ctx.scheduler.instances().find(instance.id) != nullptr;
  if (!known && !ui_home.empty()) instance.ui_home = ui_home;
  auto put = [&ctx, &instance, known](auto done) {
    if (known) return done(Result<core::Instance>(instance));
    ctx.scheduler.instances().put(instance, std::move(done));
  };
  auto registered = co_await await_callback<Result<core::Instance>>(executor, put);
  if (!registered) co_return fail(registered.error());
  core::JobRequest request;
  request.sources = std::move(cards);
  request.target = instance.id;
  request.ui_home = std::move(ui_home);
  // push_back, not a braced list: GCC 12 destroys an initializer_list's
  // temporaries twice inside a coroutine.
  std::vector<core::JobRequest> requests;
  requests.push_back(std::move(request));
  auto add = [&ctx, &requests](auto done) { ctx.scheduler.add(requests, std::move(done)); };
  auto added = co_await await_callback<Result<std::vector<scheduler::AddResult>>>(executor, add);
  if (!added) co_return fail(added.error());
  co_return added->front().job;
}

Awaitable<HandlerResult> post_instance(ApiContext& ctx, Request& request) {
  auto body = object_body(request);
  if (!body) co_return from_error(body.error(), request);
  core::Instance instance;
  instance.id = body->value("id", body->value("name", ""));
  instance.ssh_command = body->value("ssh_command", body->value("ssh", ""));
  instance.ui_home = body->value("ui_home", std::string(core::kDefaultUiHome));
  if (body->contains("max_parallel")) {
    if (!(*body)["max_parallel"].is_number_integer())
      co_return from_error(Error{ErrorCode::kInvalidArgument, "'max_parallel' must be an integer"},
                           request);
    instance.max_parallel = (*body)["max_parallel"].get<int>();
  }
  if (instance.ssh_command.empty())
    co_return from_error(Error{ErrorCode::kInvalidArgument, "'ssh_command' is required"}, request);
  const auto executor = co_await asio::this_coro::executor;
  auto put = [&ctx, &instance](auto done) {
    ctx.scheduler.instances().put(instance, std::move(done));
  };
  auto stored = co_await await_callback<Result<core::Instance>>(executor, put);
  if (!stored) co_return from_error(stored.error(), request);
  co_return json_response(http::status::created, dump(instance_json(*stored)), request);
}

// POST /downloads/queue (seed 000).
Awaitable<HandlerResult> post_download_queue(ApiContext& ctx, Request& request) {
  auto body = object_body(request);
  if (!body) co_return from_error(body.error(), request);
  auto cards = string_list(*body, "resource_paths");
  if (!cards) co_return from_error(cards.error(), request);
  core::Instance instance;
  const json& id = (*body)["instance_id"];
  if (id.is_number_integer()) {
    instance.id = std::to_string(id.get<std::int64_t>());
  } else if (id.is_string()) {
    instance.id = id.get<std::string>();
  } else {
    co_return from_error(
        Error{ErrorCode::kInvalidArgument, "'instance_id' must be a number or a string"}, request);
  }
  const json& ssh = (*body)["ssh_connection"];
  const json& ui_home = (*body)["ui_home"];
  if ((!ssh.is_null() && !ssh.is_string()) || (!ui_home.is_null() && !ui_home.is_string()))
    co_return from_error(
        Error{ErrorCode::kInvalidArgument, "'ssh_connection' and 'ui_home' must be strings"},
        request);
  bool changed = false;  // a known instance given a new SSH command (its port changed)
  if (auto known = ctx.scheduler.instances().find(instance.id)) {
    instance = *known;
    changed = ssh.is_string() && ssh.get<std::string>() != known->ssh_command;
  }
  if (ssh.is_string()) instance.ssh_command = ssh.get<std::string>();
  const auto executor = co_await asio::this_coro::executor;
  auto update = [&ctx, &instance, changed](auto done) {
    if (!changed) return done(Result<core::Instance>(instance));
    ctx.scheduler.instances().put(instance, std::move(done));
  };
  auto updated = co_await await_callback<Result<core::Instance>>(executor, update);
  if (!updated) co_return from_error(updated.error(), request);
  if (instance.ssh_command.empty())
    co_return from_error(
        Error{ErrorCode::kInvalidArgument, "'ssh_connection' is required for a new instance"},
        request);
  // A named string, not a ?: temporary: GCC 12 copies such an argument of a
  // coroutine bitwise, leaving it pointing into this frame.
  std::string job_ui_home = ui_home.is_string() ? ui_home.get<std::string>() : std::string();
  auto job = co_await queue_on_instance(ctx, std::move(instance), std::move(*cards),
                                        std::move(job_ui_home));
  if (!job) co_return from_error(job.error(), request);
  json entry = queue_entry(*job);
  entry["ssh_connection"] = ctx.scheduler.instances().find(job->target)->ssh_command;
  co_return json_response(http::status::created, dump(entry), request);
}

// POST /resources/install (seed 001): {success, job_id, message, resource_count}.
Awaitable<HandlerResult> post_resources_install(ApiContext& ctx, Request& request) {
  auto refuse = [&request](const Error& error) {
    return json_response(status_for(error.code),
                         dump({{"success", false}, {"message", error.message}}), request);
  };
  auto body = object_body(request);
  if (!body) co_return refuse(body.error());
  auto cards = string_list(*body, "resources");
  if (!cards) co_return refuse(cards.error());
  const json& host = (*body)["ssh_host"];
  const json& port = (*body)["ssh_port"];
  if (!host.is_string() || host.get<std::string>().empty())
    co_return refuse(Error{ErrorCode::kInvalidArgument, "'ssh_host' must be a host name"});
  if (!port.is_null() && !port.is_number_integer())
    co_return refuse(Error{ErrorCode::kInvalidArgument, "'ssh_port' must be a number"});
  const std::string user = body->value("ssh_user", "root");
  const int port_number = port.is_null() ? 22 : port.get<int>();
  core::Instance instance;
  instance.id = host.get<std::string>() + ":" + std::to_string(port_number);
  if (auto known = ctx.scheduler.instances().find(instance.id)) {
    instance = *known;  // registered with its key and options: keep them
  } else {
    instance.ssh_command = "ssh -p " + std::to_string(port_number) + " " +
                           remote::shell_quote(user + "@" + host.get<std::string>());
  }
  const json& ui_home = (*body)["ui_home"];
  if (!ui_home.is_null() && !ui_home.is_string())
    co_return refuse(Error{ErrorCode::kInvalidArgument, "'ui_home' must be a string"});
  const std::size_t count = cards->size();
  std::string job_ui_home = ui_home.is_string() ? ui_home.get<std::string>() : std::string();
  auto job = co_await queue_on_instance(ctx, std::move(instance), std::move(*cards),
                                        std::move(job_ui_home));
  if (!job) co_return refuse(job.error());
  co_return json_response(http::status::ok,
                          dump({{"success", true},
                                {"job_id", job->id},
                                {"message", "Installation started"},
                                {"resource_count", count}}),
                          request);
}

// POST /api/v1/instances/{id}/check: {reachable, latency_ms, error, checked_at}.
Awaitable<HandlerResult> check_instance(ApiContext& ctx, std::string id, Request& request) {
  const core::Instance* instance = ctx.scheduler.instances().find(id);
  if (instance == nullptr) {
    co_return from_error(Error{ErrorCode::kNotFound, "no instance '" + id + "'"}, request);
  }
  const auto executor = co_await asio::this_coro::executor;
  auto start = [&ctx, command = instance->ssh_command](auto done) {
    ctx.probe->check(command, std::move(done));
  };
  const ProbeResult result = co_await await_callback<ProbeResult>(executor, start);
  const json body = {{"id", id},
                     {"reachable", result.reachable},
                     {"latency_ms", result.latency.count()},
                     {"error", result.error ? json(*result.error) : json(nullptr)},
                     {"checked_at", iso_time(result.checked_at)}};
  co_return json_response(http::status::ok, dump(body), request);
}

}  // namespace

void install_remote_routes(Router& router, ApiContext& ctx) {
  router.add(http::verb::get, "/api/v1/instances",
             [&ctx](Request& request, Stream&, RouteParams&) -> Awaitable<HandlerResult> {
               json list = json::array();
               for (const core::Instance* instance : ctx.scheduler.instances().list())
                 list.push_back(instance_json(*instance));
               co_return json_response(http::status::ok, dump({{"instances", list}}), request);
             });
  router.add(
      http::verb::post, "/api/v1/instances",
      [&ctx](Request& request, Stream&, RouteParams&) { return post_instance(ctx, request); });
  router.add(http::verb::delete_, "/api/v1/instances/{id}",
             [&ctx](Request& request, Stream&, RouteParams& params) -> Awaitable<HandlerResult> {
               const std::string id = params.path[0];
               const auto executor = co_await asio::this_coro::executor;
               auto start = [&ctx, &id](auto done) {
                 ctx.scheduler.instances().remove(id, std::move(done));
               };
               auto removed = co_await await_callback<Result<void>>(executor, start);
               if (!removed) co_return from_error(removed.error(), request);
               co_return no_content(request);
             });
  if (ctx.probe != nullptr) {
    router.add(http::verb::post, "/api/v1/instances/{id}/check",
               [&ctx](Request& request, Stream&, RouteParams& params) {
                 return check_instance(ctx, params.path[0], request);
               });
  }
  router.add(
      http::verb::post, "/api/v1/instances/prune",
      [&ctx](Request& request, Stream&, RouteParams&) -> Awaitable<HandlerResult> {
        auto body = request.body().empty() ? Result<json>(json::object()) : object_body(request);
        if (!body) co_return from_error(body.error(), request);
        const json& older = (*body)["older_than"];
        if (!older.is_null() && !older.is_string())
          co_return from_error(
              Error{ErrorCode::kInvalidArgument, "'older_than' must be a duration like 7d"},
              request);
        auto age = parse_duration(older.is_string() ? older.get<std::string>() : "7d");
        if (!age) co_return from_error(age.error(), request);
        const auto executor = co_await asio::this_coro::executor;
        auto start = [&ctx, &age](auto done) {
          ctx.scheduler.instances().prune(*age, std::move(done));
        };
        auto removed = co_await await_callback<Result<std::vector<std::string>>>(executor, start);
        if (!removed) co_return from_error(removed.error(), request);
        co_return json_response(http::status::ok, dump({{"removed", *removed}}), request);
      });
  router.add(http::verb::get, "/api/v1/resources",
             [&ctx](Request& request, Stream&, RouteParams&) -> Awaitable<HandlerResult> {
               if (ctx.cards == nullptr)
                 co_return json_response(http::status::ok, R"({"resources":[]})", request);
               auto cards = ctx.cards->list();
               if (!cards) co_return from_error(cards.error(), request);
               json list = json::array();
               for (const auto& listed : *cards) {
                 json card = {{"path", listed.card.path},
                              {"name", listed.card.name},
                              {"type", listed.card.type},
                              {"description", listed.card.description},
                              {"commands", listed.card.commands}};
                 if (!listed.error.empty()) card["error"] = listed.error;
                 list.push_back(std::move(card));
               }
               co_return json_response(http::status::ok, dump({{"resources", list}}), request);
             });
  router.add(http::verb::post, "/downloads/queue", [&ctx](Request& request, Stream&, RouteParams&) {
    return post_download_queue(ctx, request);
  });
  router.add(http::verb::get, "/downloads/status",
             [&ctx](Request& request, Stream&, RouteParams& params) -> Awaitable<HandlerResult> {
               const auto instance = params.query_value("instance_id");
               json list = json::array();
               for (const core::Job* job : ctx.scheduler.list()) {
                 if (job->target == "local") continue;
                 if (instance && !instance->empty() && job->target != *instance) continue;
                 list.push_back(queue_entry(*job));
               }
               co_return json_response(http::status::ok, dump(list), request);
             });
  router.add(http::verb::post, "/resources/install",
             [&ctx](Request& request, Stream&, RouteParams&) {
               return post_resources_install(ctx, request);
             });
}

}  // namespace haul::api
