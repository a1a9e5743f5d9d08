// REST /api/v1/manifests and /api/v1/models: registered manifests, models
// with their presence and live progress (also in seed 004's file status
// shape), syncs (seed 002's modes), and seed 002's progress document.
#include <boost/asio/post.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/api.hpp"
#include "api/await.hpp"
#include "api/dto.hpp"
#include "api/model_catalog.hpp"
#include "api/model_progress.hpp"
#include "api/progress_files.hpp"
#include "api/responses.hpp"
#include "base/format.hpp"
#include "models/manifest.hpp"
#include "models/sync_plan.hpp"

namespace haul::api {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Manifests larger than this are not models lists.
constexpr std::uintmax_t kMaxManifestBytes = 32u << 20;

json manifest_summary(const RegisteredManifest& registered) {
  json notices = json::array();
  for (const auto& notice : registered.manifest.notices)
    notices.push_back({{"where", notice.where}, {"message", notice.message}});
  return {{"id", registered.stored.id},
          {"name", registered.stored.name},
          {"origin", registered.stored.origin},
          {"format", models::manifest_format_name(registered.manifest.format)},
          {"models", registered.manifest.models.size()},
          {"notices", notices},
          {"created_at", iso_time(registered.stored.created_at)},
          {"updated_at", iso_time(registered.stored.updated_at)}};
}

}  // namespace

// One model: haul's fields and seed 004's ({modelId, allPresent, files:
// [{path, exists, size, humanSize}]}) side by side.
json model_event(const ModelView& view) {
  json files = json::array();
  bool all_present = !view.check.files.empty();
  for (std::size_t i = 0; i < view.check.files.size(); ++i) {
    const models::FileCheck& check = view.check.files[i];
    const models::ModelFile* file = i < view.model.files.size() ? &view.model.files[i] : nullptr;
    const bool exists = check.state == models::Presence::kPresent;
    all_present = all_present && exists;
    const std::uint64_t size =
        exists ? check.size_on_disk : (file != nullptr ? file->size.value_or(0) : 0);
    json entry = {{"path", check.path},
                  {"exists", exists},
                  {"size", size},
                  {"humanSize", format_bytes(size)},
                  {"state", models::presence_name(check.state)},
                  {"bytes_done", check.bytes_done}};
    if (file != nullptr) {
      entry["source"] = file->source;
      entry["relative_path"] = file->path;
      if (file->size) entry["expected_size"] = *file->size;
      if (!file->sha256.empty()) entry["sha256"] = file->sha256;
      if (!file->symlinks.empty()) entry["symlinks"] = file->symlinks;
    }
    if (!check.reason.empty()) entry["reason"] = check.reason;
    if (check.verified) entry["verified"] = true;
    files.push_back(std::move(entry));
  }
  json out = {{"id", view.model.id},       {"modelId", view.model.id},
              {"name", view.model.name},   {"group", view.model.group},
              {"manifest", view.manifest}, {"state", models::presence_name(view.check.state)},
              {"allPresent", all_present}, {"files", std::move(files)}};
  out["job_id"] = view.job_id ? json(*view.job_id) : json(nullptr);
  return out;
}

namespace {

Response bad_request(const std::string& message, const Request& request) {
  return error_response(http::status::bad_request, "bad_request", message, request);
}

// The text of a manifest file on this machine. Errors name the path.
Result<std::string> read_manifest_file(const std::string& path) {
  std::error_code ec;
  if (path.empty() || path.front() != '/')
    return fail(ErrorCode::kInvalidArgument, "'path' must be absolute: " + path);
  const auto size = fs::file_size(path, ec);
  if (ec) return fail(ErrorCode::kInvalidArgument, path + ": " + ec.message());
  if (size > kMaxManifestBytes)
    return fail(ErrorCode::kInvalidArgument, path + ": larger than 32 MiB");
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) return fail(ErrorCode::kInvalidArgument, path + ": cannot be read");
  return text.str();
}

// A manifest as a request gives it: {"path": ...} (a file here), or
// {"content": <the manifest's JSON, or its text>}, with an optional "name".
struct ManifestInput {
  std::string name;
  std::string origin;
  std::string content;
};

Result<ManifestInput> manifest_input(const json& body) {
  ManifestInput input;
  for (const auto& [key, value] : body.items()) {
    if (key != "name" && key != "path" && key != "content")
      return fail(ErrorCode::kInvalidArgument, "unknown field '" + key + "'");
  }
  if (body.contains("path") == body.contains("content"))
    return fail(ErrorCode::kInvalidArgument,
                "give 'path' (a file on the daemon's machine) or "
                "'content' (the manifest itself)");
  if (body.contains("name") && !body.at("name").is_string())
    return fail(ErrorCode::kInvalidArgument, "'name' must be a string");
  if (body.contains("path")) {
    if (!body.at("path").is_string())
      return fail(ErrorCode::kInvalidArgument, "'path' must be a string");
    input.origin = body.at("path").get<std::string>();
    auto text = read_manifest_file(input.origin);
    if (!text) return fail(text.error());
    input.content = std::move(*text);
  } else {
    const json& content = body.at("content");
    input.content = content.is_string() ? content.get<std::string>() : content.dump();
  }
  input.name = body.value("name", input.origin.empty() ? std::string("inline") : input.origin);
  return input;
}

Awaitable<HandlerResult> add_manifest(ApiContext& ctx, Request& request) {
  auto body = parse_body(request, /*object_only=*/true);
  if (!body) co_return from_error(body.error(), request);
  auto input = manifest_input(*body);
  if (!input) co_return from_error(input.error(), request);
  const auto executor = co_await asio::this_coro::executor;
  auto start = [&ctx, &input](auto done) {
    ctx.models->add(input->name, input->origin, input->content, std::move(done));
  };
  auto added = co_await await_callback<Result<const RegisteredManifest*>>(executor, start);
  if (!added) co_return from_error(added.error(), request);
  co_return json_response(http::status::created, dump(manifest_summary(**added)), request);
}

// The models of a GET: every registered manifest's, or the one its
// `manifest` parameter names.
Result<std::vector<std::pair<std::string, std::vector<models::Model>>>> models_of(
    ApiContext& ctx, const RouteParams& params) {
  auto manifest = params.query_value("manifest");
  if (manifest && manifest->empty()) manifest.reset();
  std::vector<std::pair<std::string, std::vector<models::Model>>> out;
  for (const RegisteredManifest* registered : ctx.models->list()) {
    if (manifest && registered->stored.id != *manifest) continue;
    out.emplace_back(registered->stored.id, registered->manifest.models);
  }
  if (manifest && out.empty()) return fail(ErrorCode::kNotFound, "no manifest '" + *manifest + "'");
  return out;
}

// Checks the models of several manifests, one after another: here, or on
// `instance` (null: here).
void check_all(ApiContext& ctx,
               std::vector<std::pair<std::string, std::vector<models::Model>>> sets,
               const core::Instance* instance, bool verify,
               std::function<void(Result<std::vector<ModelView>>)> done) {
  struct Walk {
    std::vector<ModelView> gathered;
    std::vector<std::pair<std::string, std::vector<models::Model>>> remaining;
    std::optional<core::Instance> instance;
    std::function<void(Result<std::vector<ModelView>>)> done;
  };
  auto walk = std::make_shared<Walk>();
  walk->remaining = std::move(sets);
  if (instance != nullptr) walk->instance = *instance;
  walk->done = std::move(done);
  auto step = std::make_shared<std::function<void()>>();
  *step = [&ctx, verify, walk, step]() {
    if (walk->remaining.empty()) {
      walk->done(std::move(walk->gathered));
      *step = nullptr;  // breaks the cycle
      return;
    }
    auto [id, models] = std::move(walk->remaining.front());
    walk->remaining.erase(walk->remaining.begin());
    auto add = [walk, step](Result<std::vector<ModelView>> views) {
      if (!views) {
        walk->done(fail(views.error()));
        *step = nullptr;
        return;
      }
      for (ModelView& view : *views) walk->gathered.push_back(std::move(view));
      (*step)();
    };
    if (walk->instance) {
      ctx.models->check_remote(*walk->instance, id, std::move(models), verify, std::move(add));
    } else {
      ctx.models->check(id, std::move(models), verify,
                        [add](std::vector<ModelView> views) { add(std::move(views)); });
    }
  };
  (*step)();
}

// The instance a `target` names: null for "" and "local". Errors: kNotFound.
Result<const core::Instance*> target_instance(ApiContext& ctx,
                                              const std::optional<std::string>& target) {
  if (!target || target->empty() || *target == "local") return nullptr;
  const core::Instance* instance = ctx.scheduler.instances().find(*target);
  if (instance == nullptr) return fail(ErrorCode::kNotFound, "no instance '" + *target + "'");
  return instance;
}

Result<bool> verify_param(const RouteParams& params) {
  auto text = params.query_value("verify");
  if (!text || text->empty() || *text == "0" || *text == "false") return false;
  if (*text == "1" || *text == "true") return true;
  return fail(ErrorCode::kInvalidArgument, "verify must be true or false");
}

Awaitable<HandlerResult> list_models(ApiContext& ctx, Request& request, RouteParams& params) {
  static constexpr std::string_view kKnown[] = {"manifest", "state", "verify", "target",
                                                "access_token"};
  std::string unknown;
  for (const auto& [name, value] : params.query) {
    if (std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown)) unknown = name;
  }
  if (!unknown.empty())
    co_return bad_request(
        "unknown query parameter '" + unknown + "' (known: manifest, state, verify, target)",
        request);
  std::optional<models::Presence> state;
  const auto state_text = params.query_value("state");
  if (state_text && !state_text->empty()) state = models::parse_presence(*state_text);
  if (state_text && !state_text->empty() && !state)
    co_return bad_request(
        "unknown state '" + *state_text + "' (present, missing, partial, corrupt, downloading)",
        request);
  const auto verify = verify_param(params);
  if (!verify) co_return bad_request(verify.error().message, request);
  auto sets = models_of(ctx, params);
  if (!sets) co_return from_error(sets.error(), request);
  const auto instance = target_instance(ctx, params.query_value("target"));
  if (!instance) co_return from_error(instance.error(), request);
  const auto executor = co_await asio::this_coro::executor;
  auto start = [&ctx, &sets, &verify, &instance](auto done) {
    check_all(ctx, std::move(*sets), *instance, *verify, std::move(done));
  };
  auto views = co_await await_callback<Result<std::vector<ModelView>>>(executor, start);
  if (!views) co_return from_error(views.error(), request);
  json list = json::array();
  for (const ModelView& view : *views) {
    if (!state || view.check.state == *state) list.push_back(model_event(view));
  }
  const std::size_t count = list.size();
  co_return json_response(http::status::ok, dump({{"models", std::move(list)}, {"count", count}}),
                          request);
}

Awaitable<HandlerResult> get_model(ApiContext& ctx, Request& request, RouteParams& params) {
  const std::string id = params.path[0];
  const auto verify = verify_param(params);
  if (!verify) co_return bad_request(verify.error().message, request);
  auto sets = models_of(ctx, params);
  if (!sets) co_return from_error(sets.error(), request);
  // The first manifest that has a model of that id (or name).
  std::vector<std::pair<std::string, std::vector<models::Model>>> wanted;
  for (auto& [manifest_id, models] : *sets) {
    for (models::Model& model : models) {
      if (wanted.empty() && (model.id == id || model.name == id))
        wanted.emplace_back(manifest_id, std::vector<models::Model>{model});
    }
  }
  if (wanted.empty())
    co_return error_response(http::status::not_found, "not_found", "no model '" + id + "'",
                             request);
  const auto instance = target_instance(ctx, params.query_value("target"));
  if (!instance) co_return from_error(instance.error(), request);
  const auto executor = co_await asio::this_coro::executor;
  auto start = [&ctx, &wanted, &verify, &instance](auto done) {
    check_all(ctx, std::move(wanted), *instance, *verify, std::move(done));
  };
  auto views = co_await await_callback<Result<std::vector<ModelView>>>(executor, start);
  if (!views) co_return from_error(views.error(), request);
  co_return json_response(http::status::ok, dump(model_event(views->at(0))), request);
}

// POST /api/v1/models/sync, parsed.
struct SyncRequest {
  std::optional<std::string> manifest_id;    // a registered manifest
  std::optional<ManifestInput> registering;  // a file or inline manifest to register first
  models::SyncMode mode = models::SyncMode::kMissing;
  std::string selection;  // JSON text of "models" (list and single)
  std::string target = "local";
  std::optional<fs::path> output;
  bool verify = false;
};

Result<SyncRequest> parse_sync(ApiContext& ctx, const json& body) {
  SyncRequest sync;
  for (const auto& [key, value] : body.items()) {
    if (key != "manifest" && key != "entries" && key != "mode" && key != "models" &&
        key != "target" && key != "output" && key != "verify" && key != "name")
      return fail(ErrorCode::kInvalidArgument, "unknown field '" + key + "'");
  }
  if (body.contains("manifest") == body.contains("entries"))
    return fail(ErrorCode::kInvalidArgument,
                "give 'manifest' (a registered id, a file path, or the manifest itself) or "
                "'entries' (seed 002 model config entries)");
  const json& manifest = body.contains("manifest") ? body.at("manifest") : body.at("entries");
  if (manifest.is_string() && ctx.models->find(manifest.get<std::string>()) != nullptr) {
    sync.manifest_id = manifest.get<std::string>();
  } else if (manifest.is_string()) {
    const std::string path = manifest.get<std::string>();
    if (path.empty() || path.front() != '/')
      return fail(ErrorCode::kNotFound, "no manifest '" + path + "' (nor an absolute file path)");
    auto input = manifest_input({{"path", path}});
    if (!input) return fail(input.error());
    sync.registering = std::move(*input);
  } else if (manifest.is_object() || manifest.is_array()) {
    json inline_body = {{"content", manifest}};
    if (body.contains("name")) inline_body["name"] = body.at("name");
    auto input = manifest_input(inline_body);
    if (!input) return fail(input.error());
    sync.registering = std::move(*input);
  } else {
    return fail(ErrorCode::kInvalidArgument, "'manifest' must be an id, a path or a manifest");
  }
  const std::string mode = body.value("mode", std::string("missing"));
  const auto parsed_mode = models::parse_sync_mode(mode);
  if (!parsed_mode)
    return fail(ErrorCode::kInvalidArgument,
                "unknown mode '" + mode + "' (all, missing, list, single)");
  sync.mode = *parsed_mode;
  const bool picks = sync.mode == models::SyncMode::kList || sync.mode == models::SyncMode::kSingle;
  if (picks != body.contains("models"))
    return fail(ErrorCode::kInvalidArgument,
                picks ? "mode '" + mode + "' needs 'models'" : "'models' goes with list or single");
  if (picks) sync.selection = body.at("models").dump();
  if (body.contains("target")) {
    if (!body.at("target").is_string())
      return fail(ErrorCode::kInvalidArgument, "'target' must be a string");
    sync.target = body.at("target").get<std::string>();
  }
  if (body.contains("output")) {
    if (!body.at("output").is_string() || body.at("output").get<std::string>().empty() ||
        body.at("output").get<std::string>().front() != '/')
      return fail(ErrorCode::kInvalidArgument, "'output' must be an absolute file path");
    sync.output = body.at("output").get<std::string>();
  }
  if (body.contains("verify")) {
    if (!body.at("verify").is_boolean())
      return fail(ErrorCode::kInvalidArgument, "'verify' must be true or false");
    sync.verify = body.at("verify").get<bool>();
  }
  return sync;
}

// The steps of a sync, each answering through a callback on the control
// thread: register the manifest (when given as a file or inline), select,
// check presence, plan, queue, follow the output file.
class SyncRun : public std::enable_shared_from_this<SyncRun> {
 public:
  SyncRun(ApiContext& ctx, SyncRequest sync, std::function<void(Result<json>)> done)
      : ctx_(ctx), sync_(std::move(sync)), done_(std::move(done)) {}

  void start() {
    if (!sync_.registering) return with_manifest();
    auto self = shared_from_this();
    ctx_.models->add(sync_.registering->name, sync_.registering->origin, sync_.registering->content,
                     [self](Result<const RegisteredManifest*> added) {
                       if (!added) return self->done_(fail(added.error()));
                       self->sync_.manifest_id = (*added)->stored.id;
                       self->with_manifest();
                     });
  }

 private:
  void with_manifest() {
    const RegisteredManifest* registered = ctx_.models->find(*sync_.manifest_id);
    if (registered == nullptr)
      return done_(fail(ErrorCode::kNotFound, "no manifest '" + *sync_.manifest_id + "'"));
    auto chosen = models::select_models(registered->manifest, sync_.mode, sync_.selection);
    if (!chosen) return done_(fail(chosen.error()));
    models_ = std::move(*chosen);
    auto self = shared_from_this();
    auto instance = target_instance(ctx_, sync_.target);
    if (!instance) return done_(fail(instance.error()));
    if (*instance != nullptr) roots_ = {ModelCatalog::remote_models_dir(**instance)};
    check_all(ctx_, {{*sync_.manifest_id, models_}}, *instance, sync_.verify,
              [self](Result<std::vector<ModelView>> views) {
                if (!views) return self->done_(fail(views.error()));
                std::vector<models::ModelCheck> checks;
                for (ModelView& view : *views) checks.push_back(std::move(view.check));
                self->plan(checks);
              });
  }

  void plan(const std::vector<models::ModelCheck>& checks) {
    models::SyncContext context;
    context.target = sync_.target;
    context.manifest = *sync_.manifest_id;
    for (std::string& path : ctx_.models->live_paths(sync_.target))
      context.live_paths.insert(std::move(path));
    context.roots = roots_;
    if (context.roots.empty()) {
      for (const fs::path& root : ctx_.models->folders().allowed_roots())
        context.roots.push_back(root.string());
    }
    plan_ = models::plan_sync(models_, checks, sync_.mode, context);
    if (plan_.requests.empty()) return finish({});
    auto self = shared_from_this();
    ctx_.scheduler.add(plan_.requests, [self](Result<std::vector<scheduler::AddResult>> added) {
      if (!added) return self->done_(fail(added.error()));
      self->finish(*added);
    });
  }

  void finish(const std::vector<scheduler::AddResult>& added) {
    json jobs = json::array();
    std::vector<std::string> ids;
    for (const scheduler::AddResult& result : added) {
      json job = job_json(result.job);
      job["existing"] = result.existing;
      jobs.push_back(std::move(job));
      ids.push_back(result.job.id);
    }
    json skipped = json::array();
    for (const models::SyncSkip& skip : plan_.skipped)
      skipped.push_back({{"model", skip.model_id}, {"reason", skip.reason}});
    json out = {{"manifest", *sync_.manifest_id},
                {"mode", models::sync_mode_name(sync_.mode)},
                {"jobs", std::move(jobs)},
                {"skipped", std::move(skipped)}};
    if (sync_.output) {
      ctx_.progress_files->follow(*sync_.output, ids);
      out["output"] = sync_.output->string();
    }
    done_(std::move(out));
  }

  ApiContext& ctx_;
  SyncRequest sync_;
  std::function<void(Result<json>)> done_;
  std::vector<models::Model> models_;
  std::vector<std::string> roots_;  // an instance's UI_HOME/models; empty: this machine's roots
  models::SyncPlan plan_;
};

Awaitable<HandlerResult> sync_models(ApiContext& ctx, Request& request) {
  auto body = parse_body(request, /*object_only=*/true);
  if (!body) co_return from_error(body.error(), request);
  auto sync = parse_sync(ctx, *body);
  if (!sync) co_return from_error(sync.error(), request);
  const auto executor = co_await asio::this_coro::executor;
  auto start = [&ctx, &sync](auto done) {
    std::make_shared<SyncRun>(ctx, std::move(*sync), std::move(done))->start();
  };
  auto result = co_await await_callback<Result<json>>(executor, start);
  if (!result) co_return from_error(result.error(), request);
  const bool queued = std::any_of(result->at("jobs").begin(), result->at("jobs").end(),
                                  [](const json& job) { return !job.at("existing").get<bool>(); });
  co_return json_response(queued ? http::status::created : http::status::ok, dump(*result),
                          request);
}

Response progress(ApiContext& ctx, Request& request, RouteParams& params) {
  static constexpr std::string_view kKnown[] = {"group", "model", "path", "access_token"};
  for (const auto& [name, value] : params.query) {
    if (std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown))
      return bad_request("unknown query parameter '" + name + "' (known: group, model, path)",
                         request);
  }
  ProgressFilter filter;
  filter.group = params.query_value("group");
  filter.model = params.query_value("model");
  filter.path = params.query_value("path");
  if (filter.model && !filter.group)
    return bad_request("model needs group (seed 002: group and model, or a local path)", request);
  if (filter.path && !filter.path->empty() && filter.path->front() != '/')
    filter.path = (ctx.scheduler.options().models_root / *filter.path).lexically_normal().string();
  return json_response(http::status::ok,
                       dump(model_progress(ctx.scheduler.list(), filter, core::Clock::now())),
                       request);
}

}  // namespace

void install_model_routes(Router& router, ApiContext& ctx) {
  if (ctx.models == nullptr) return;
  router.add(
      http::verb::get, "/api/v1/folders",
      [&ctx](Request& request, Stream&, RouteParams&) -> Awaitable<HandlerResult> {
        json names = ctx.models->folders().folder_names();
        co_return json_response(http::status::ok, dump({{"folders", std::move(names)}}), request);
      });
  router.add(
      http::verb::post, "/api/v1/manifests",
      [&ctx](Request& request, Stream&, RouteParams&) { return add_manifest(ctx, request); });
  router.add(http::verb::get, "/api/v1/manifests",
             [&ctx](Request& request, Stream&, RouteParams&) -> Awaitable<HandlerResult> {
               json list = json::array();
               for (const RegisteredManifest* registered : ctx.models->list())
                 list.push_back(manifest_summary(*registered));
               const std::size_t count = list.size();
               co_return json_response(http::status::ok,
                                       dump({{"manifests", std::move(list)}, {"count", count}}),
                                       request);
             });
  router.add(http::verb::get, "/api/v1/manifests/{id}",
             [&ctx](Request& request, Stream&, RouteParams& params) -> Awaitable<HandlerResult> {
               const RegisteredManifest* registered = ctx.models->find(params.path[0]);
               if (registered == nullptr)
                 co_return error_response(http::status::not_found, "not_found",
                                          "no manifest '" + params.path[0] + "'", request);
               json out = manifest_summary(*registered);
               out["content"] = registered->stored.content;
               co_return json_response(http::status::ok, dump(out), request);
             });
  router.add(http::verb::delete_, "/api/v1/manifests/{id}",
             [&ctx](Request& request, Stream&, RouteParams& params) -> Awaitable<HandlerResult> {
               const std::string id = params.path[0];
               const auto executor = co_await asio::this_coro::executor;
               auto start = [&ctx, &id](auto done) { ctx.models->remove(id, std::move(done)); };
               auto removed = co_await await_callback<Result<void>>(executor, start);
               if (!removed) co_return from_error(removed.error(), request);
               co_return no_content(request);
             });
  router.add(http::verb::get, "/api/v1/models",
             [&ctx](Request& request, Stream&, RouteParams& params) {
               return list_models(ctx, request, params);
             });
  router.add(http::verb::get, "/api/v1/models/progress",
             [&ctx](Request& request, Stream&, RouteParams& params) -> Awaitable<HandlerResult> {
               co_return progress(ctx, request, params);
             });
  router.add(http::verb::post, "/api/v1/models/sync",
             [&ctx](Request& request, Stream&, RouteParams&) { return sync_models(ctx, request); });
  router.add(http::verb::get, "/api/v1/models/{id}",
             [&ctx](Request& request, Stream&, RouteParams& params) {
               return get_model(ctx, request, params);
             });
}

}  // namespace haul::api
