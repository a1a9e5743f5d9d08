// What a job's commands printed: GET /api/v1/jobs/{id}/output (text/plain),
// with ?follow=1 streaming new lines while the job runs (`haul logs -f`).
// Each item's tail is an OutputTail (remote/output_tail.hpp): ANSI removed,
// redraws folded, secrets masked.
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <vector>

#include "api/api.hpp"
#include "api/http/coroutines.hpp"

namespace haul::api {

namespace {

constexpr std::chrono::milliseconds kFollowInterval{250};

// The complete lines of `tail` and the partial last one.
struct TailLines {
  std::vector<std::string_view> complete;
  std::string_view partial;
};

TailLines split_tail(std::string_view tail) {
  TailLines out;
  std::size_t start = 0;
  for (std::size_t end = tail.find('\n'); end != std::string_view::npos;
       end = tail.find('\n', start)) {
    out.complete.push_back(tail.substr(start, end - start));
    start = end + 1;
  }
  out.partial = tail.substr(start);
  return out;
}

// A heading before an item's lines when the job has several.
std::string heading(const core::Job& job, std::size_t index) {
  const core::Item& item = job.items[index];
  std::string name = item.extras->resource.empty() ? item.source : item.extras->resource;
  return "== " + std::to_string(index + 1) + "/" + std::to_string(job.items.size()) + " " + name +
         " ==\n";
}

std::string whole_output(const core::Job& job) {
  std::string out;
  for (std::size_t i = 0; i < job.items.size(); ++i) {
    const std::string& tail = job.items[i].extras->output_tail;
    if (tail.empty()) continue;
    if (job.items.size() > 1) out += heading(job, i);
    out += tail;
    if (!tail.ends_with('\n')) out += '\n';
  }
  return out;
}

// Where a follower is in each item's output.
struct Cursor {
  std::vector<std::uint64_t> sent;  // complete lines written, per item
  std::size_t last_item = SIZE_MAX;
};

// New complete lines since `cursor` (the tail may have dropped some: those
// are gone); with `final`, also each partial last line.
std::string advance(const core::Job& job, Cursor& cursor, bool final) {
  std::string out;
  cursor.sent.resize(job.items.size(), 0);
  for (std::size_t i = 0; i < job.items.size(); ++i) {
    const core::Item& item = job.items[i];
    const TailLines lines = split_tail(item.extras->output_tail);
    const std::uint64_t total =
        std::max<std::uint64_t>(item.extras->output_lines, lines.complete.size());
    const std::uint64_t fresh =
        std::min<std::uint64_t>(total - std::min(total, cursor.sent[i]), lines.complete.size());
    const bool partial = final && !lines.partial.empty();
    if (fresh == 0 && !partial) continue;
    if (job.items.size() > 1 && cursor.last_item != i) out += heading(job, i);
    cursor.last_item = i;
    for (std::size_t k = lines.complete.size() - fresh; k < lines.complete.size(); ++k) {
      out += lines.complete[k];
      out += '\n';
    }
    cursor.sent[i] = total;
    if (partial) {
      out += lines.partial;
      out += '\n';
    }
  }
  return out;
}

Awaitable<bool> write_text(Stream& stream, const std::string& text) {
  boost::system::error_code ec;
  co_await asio::async_write(stream, asio::buffer(text),
                             asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

Awaitable<HandlerResult> follow_output(ApiContext& ctx, Stream& stream, std::string id) {
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-cache\r\n"
      "Connection: close\r\nX-Accel-Buffering: no\r\n\r\n";
  if (!co_await write_text(stream, head)) co_return std::nullopt;
  Cursor cursor;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (true) {
    const core::Job* job = ctx.scheduler.find(id);
    if (job == nullptr) break;  // removed meanwhile
    const bool finished = core::is_finished(job->state);
    const std::string text = advance(*job, cursor, finished);
    if (!text.empty() && !co_await write_text(stream, text)) break;
    if (finished) break;
    timer.expires_after(kFollowInterval);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  co_return std::nullopt;
}

Awaitable<HandlerResult> answer_output(Response response) { co_return response; }

}  // namespace

void install_output_routes(Router& router, ApiContext& ctx) {
  // Not a coroutine itself: it picks one (GCC 12 and co_await in branches).
  router.add(http::verb::get, "/api/v1/jobs/{id}/output",
             [&ctx](Request& request, Stream& stream, RouteParams& params) {
               const core::Job* job = ctx.scheduler.find(params.path[0]);
               if (job == nullptr) {
                 return answer_output(error_response(http::status::not_found, "not_found",
                                                     "no job " + params.path[0], request));
               }
               const auto follow = params.query_value("follow").value_or("0");
               if (follow != "0" && follow != "1" && follow != "true" && follow != "false") {
                 return answer_output(error_response(http::status::bad_request, "bad_request",
                                                     "follow must be 1 or 0", request));
               }
               if (follow == "1" || follow == "true") return follow_output(ctx, stream, job->id);
               Response response{http::status::ok, request.version()};
               response.set(http::field::content_type, "text/plain; charset=utf-8");
               response.keep_alive(request.keep_alive());
               response.body() = whole_output(*job);
               response.prepare_payload();
               return answer_output(std::move(response));
             });
}

}  // namespace haul::api
