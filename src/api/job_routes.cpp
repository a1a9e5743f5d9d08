// REST /api/v1/jobs and the seed routes /api/models/download/*.
#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "api/api.hpp"
#include "api/await.hpp"
#include "api/dto.hpp"
#include "api/responses.hpp"

namespace haul::api {

namespace {

using nlohmann::json;

Awaitable<HandlerResult> create_jobs(ApiContext& ctx, Request& request) {
  auto body = parse_body(request, /*object_only=*/false);
  if (!body) co_return from_error(body.error(), request);
  auto parsed = parse_job_requests(*body);
  // Well-formed JSON asking for something invalid: 422, like every route.
  if (!parsed) co_return from_error(parsed.error(), request);
  const bool batch = parsed->batch;
  const auto executor = co_await asio::this_coro::executor;
  auto start = [&ctx, &parsed](auto done) { ctx.scheduler.add(parsed->requests, std::move(done)); };
  auto added = co_await await_callback<Result<std::vector<scheduler::AddResult>>>(executor, start);
  if (!added) co_return from_error(added.error(), request);
  if (!batch) {
    const auto& result = added->front();
    co_return json_response(result.existing ? http::status::ok : http::status::created,
                            job_json_text(result.job), request);
  }
  json jobs = json::array();
  bool any_new = false;
  for (const auto& result : *added) {
    json job = job_json(result.job);
    job["existing"] = result.existing;
    any_new = any_new || !result.existing;
    jobs.push_back(std::move(job));
  }
  co_return json_response(any_new ? http::status::created : http::status::ok,
                          dump({{"jobs", jobs}}), request);
}

// `limit` / `offset` query values: absent means no limit / from the start.
Result<std::optional<std::size_t>> count_param(const RouteParams& params, const char* name) {
  auto text = params.query_value(name);
  if (!text || text->empty()) return std::optional<std::size_t>{};
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size())
    return fail(ErrorCode::kInvalidArgument,
                std::string(name) + " '" + *text + "': expected a non-negative integer");
  return std::optional<std::size_t>{value};
}

// Joins one JSON document per job into an array without building a tree of
// the whole list: a list of 100,000 jobs stays one string, not a DOM of it.
// `to_text` gives one job's JSON text.
template <class ToText>
std::string json_array(const std::vector<const core::Job*>& jobs, std::size_t first,
                       std::size_t last, ToText to_text) {
  std::string out = "[";
  for (std::size_t i = first; i < last; ++i) {
    if (i > first) out += ',';
    out += to_text(*jobs[i]);
  }
  out += ']';
  return out;
}

Response list_jobs(ApiContext& ctx, Request& request, RouteParams& params) {
  // A misspelt filter would otherwise list every job, as if it matched.
  // access_token is the security layer's (clients that cannot send headers).
  static constexpr std::string_view kKnown[] = {"state", "target", "group",  "name",
                                                "path",  "limit",  "offset", "access_token"};
  for (const auto& [name, value] : params.query) {
    if (std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown))
      return error_response(http::status::bad_request, "bad_request",
                            "unknown query parameter '" + name +
                                "' (known: state, target, group, name, path, limit, offset)",
                            request);
  }
  std::optional<core::JobState> state;
  if (auto text = params.query_value("state"); text && !text->empty()) {
    state = core::parse_state(*text);
    if (!state)
      return error_response(http::status::bad_request, "bad_request",
                            "unknown state '" + *text + "'", request);
  }
  auto non_empty = [&](const char* name) -> std::optional<std::string> {
    auto value = params.query_value(name);
    if (value && value->empty()) return std::nullopt;
    return value;
  };
  const auto limit = count_param(params, "limit");
  const auto offset = count_param(params, "offset");
  for (const auto* bad : {&limit, &offset}) {
    if (!*bad)
      return error_response(http::status::bad_request, "bad_request", (*bad).error().message,
                            request);
  }
  scheduler::JobFilter filter;
  filter.state = state;
  filter.target = non_empty("target");
  filter.group = non_empty("group");
  filter.name = non_empty("name");
  filter.path = non_empty("path");
  const auto jobs = ctx.scheduler.list(filter);
  const std::size_t first = std::min(offset->value_or(0), jobs.size());
  const std::size_t last = std::min(jobs.size(), first + limit->value_or(jobs.size()));
  // `count` is every job that matches, so a client can page with offset.
  return json_response(
      http::status::ok,
      "{\"jobs\":" +
          json_array(jobs, first, last, [](const core::Job& job) { return job_json_text(job); }) +
          ",\"count\":" + std::to_string(jobs.size()) + "}",
      request);
}

Awaitable<HandlerResult> act(ApiContext& ctx, Request& request, const std::string& id,
                             core::Action action) {
  const auto executor = co_await asio::this_coro::executor;
  auto start = [&ctx, &id, action](auto done) { ctx.scheduler.act(id, action, std::move(done)); };
  auto result = co_await await_callback<Result<scheduler::ActResult>>(executor, start);
  if (!result) co_return from_error(result.error(), request);
  // A running job's stop is under way: 202, and events tell how it ends.
  co_return json_response(result->pending ? http::status::accepted : http::status::ok,
                          job_json_text(result->job), request);
}

}  // namespace

void install_job_routes(Router& router, ApiContext& ctx) {
  router.add(http::verb::post, "/api/v1/jobs",
             [&ctx](Request& request, Stream&, RouteParams&) { return create_jobs(ctx, request); });
  router.add(http::verb::get, "/api/v1/jobs",
             [&ctx](Request& request, Stream&, RouteParams& params) -> Awaitable<HandlerResult> {
               co_return list_jobs(ctx, request, params);
             });
  router.add(http::verb::get, "/api/v1/jobs/{id}",
             [&ctx](Request& request, Stream&, RouteParams& params) -> Awaitable<HandlerResult> {
               const core::Job* job = ctx.scheduler.find(params.path[0]);
               if (job == nullptr) {
                 co_return error_response(http::status::not_found, "not_found",
                                          "no job " + params.path[0], request);
               }
               const auto output = params.query_value("output").value_or("0");
               co_return json_response(http::status::ok,
                                       job_json_text(*job, output == "1" || output == "true"),
                                       request);
             });
  for (core::Action action :
       {core::Action::kPause, core::Action::kResume, core::Action::kRetry, core::Action::kCancel}) {
    router.add(http::verb::post, "/api/v1/jobs/{id}/" + std::string(core::action_name(action)),
               [&ctx, action](Request& request, Stream&, RouteParams& params) {
                 return act(ctx, request, params.path[0], action);
               });
  }
  router.add(http::verb::delete_, "/api/v1/jobs/{id}",
             [&ctx](Request& request, Stream&, RouteParams& params) -> Awaitable<HandlerResult> {
               const std::string id = params.path[0];
               const auto executor = co_await asio::this_coro::executor;
               auto start = [&ctx, &id](auto done) { ctx.scheduler.remove(id, std::move(done)); };
               auto removed = co_await await_callback<Result<void>>(executor, start);
               if (!removed) co_return from_error(removed.error(), request);
               co_return no_content(request);
             });

  // Seed 004: the model downloader's status routes, shapes as written there.
  router.add(http::verb::get, "/api/models/download/status/{jobId}",
             [&ctx](Request& request, Stream&, RouteParams& params) -> Awaitable<HandlerResult> {
               const core::Job* job = ctx.scheduler.find(params.path[0]);
               if (job == nullptr) {
                 co_return json_response(http::status::not_found,
                                         dump({{"error", "Download job not found"}}), request);
               }
               co_return json_response(http::status::ok, dump(download_status(*job)), request);
             });
  router.add(http::verb::get, "/api/models/download/jobs",
             [&ctx](Request& request, Stream&, RouteParams&) -> Awaitable<HandlerResult> {
               const auto jobs = ctx.scheduler.list();
               co_return json_response(
                   http::status::ok,
                   json_array(jobs, 0, jobs.size(),
                              [](const core::Job& job) { return dump(download_status(job)); }),
                   request);
             });
}

}  // namespace haul::api
