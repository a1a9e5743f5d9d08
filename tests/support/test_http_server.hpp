// A programmable HTTP/1.1 server for integration tests: runs in-process on
// 127.0.0.1 and 127.0.0.2 (same free port) and serves files with ranges,
// validators and injectable faults (resets, truncation, stalls, error
// statuses, trickling, content changes), redirects, expiring signed CDN URLs
// and custom handlers, while logging every request it answers.
//
// Threads: one acceptor thread plus one thread per client connection. Every
// public method may be called from the test thread while those run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace haul::testing {

// A file served at a path, with optional faults. Fault counters count
// responses for this path from the moment the resource was added.
//
// Every member of these structs has an initializer, so designated
// initializers ({.body = ..., .rate = ...}) compile without
// -Wmissing-field-initializers warnings.
//
// Fault order for one response: fail_status first (any method); otherwise at
// most one body fault, tried in the order reset, truncate, stall. A body fault
// "matches" only a GET whose payload is longer than its *_after threshold, so
// a short ranged response neither triggers nor uses up the fault.
struct Resource {
  std::string body{};
  // "auto": a strong ETag derived from the body ("\"<hex>\""); "" = none;
  // anything else is sent verbatim.
  std::string etag = "auto";
  std::string last_modified{};  // "" = none; else sent verbatim
  // Honour a single "Range: bytes=a-b" / "bytes=a-" / "bytes=-n" with 206 and
  // Content-Range, and send "Accept-Ranges: bytes". false: ignore Range,
  // always 200, no Accept-Ranges.
  bool ranges = true;
  // An If-Range that names neither the current ETag nor Last-Modified gets a
  // 200 with the full body. false: If-Range is ignored (a broken server).
  bool honour_if_range = true;
  // Transfer-Encoding: chunked without Content-Length; implies ranges=false.
  bool chunked = false;
  std::string content_disposition{};  // raw header value; "" = none
  std::string content_type = "application/octet-stream";
  std::size_t rate = 0;  // trickle: body bytes per second per response; 0 = full speed

  // Faults, applied to the first N matching responses (N = *_times; -1 = every
  // matching response).
  // After sending reset_after body bytes, reset the TCP connection (RST).
  std::size_t reset_after = 0;
  int reset_times = 0;
  // Headers promise the full length; send truncate_after body bytes, then FIN.
  std::size_t truncate_after = 0;
  int truncate_times = 0;
  // Answer fail_status (e.g. 500/503/429/404/403) instead of the file.
  int fail_status = 0;
  int fail_times = 0;
  std::string retry_after{};  // Retry-After sent with fail_status responses; "" = none
  std::string fail_body{};
  std::string fail_content_type = "text/plain";
  // Send headers and stall_after body bytes, then nothing (socket kept open)
  // until the server stops or the client disconnects.
  int stall_times = 0;
  std::size_t stall_after = 0;

  // Once `change_after_requests` GET requests for this path have been answered
  // (any status), the body becomes next_body: an "auto" ETag is recomputed and
  // last_modified becomes next_last_modified if that is non-empty. -1 = never.
  int change_after_requests = -1;
  std::string next_body{};
  std::string next_last_modified{};
};

struct Redirect {
  std::string location{};  // absolute URL or relative reference, sent verbatim
  int status = 302;
};

struct RequestRecord {
  std::string method{};
  std::string path{};           // path of the request target, without query
  std::string query{};          // without '?'
  std::string host_header{};    // Host header value
  std::string local_address{};  // listener it arrived on: "127.0.0.1" or "127.0.0.2"
  bool absolute_form = false;   // target was "http://host:port/path" (a proxy request)
  std::map<std::string, std::string> headers{};  // lower-cased names
  int status = 0;                                // status the server answered (0 until decided)
  std::uint64_t body_bytes = 0;  // body bytes written to the socket so far for this response
  // The response is over: sent in full, cut off by a fault, or the client went
  // away (a trickling response notices that within a tenth of a second).
  bool ended = false;
};

class TestHttpServer {
 public:
  // Listens on 127.0.0.1 and 127.0.0.2 with the same free port. Throws
  // std::runtime_error when no such port can be found.
  TestHttpServer();
  // Stops accepting, closes every connection (waking stalled and trickling
  // responses) and joins all server threads.
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const;
  // "http://<host>:<port><path>"; host may be "127.0.0.1", "localhost" or
  // "127.0.0.2". A missing leading '/' in `path` is added.
  std::string url(std::string_view path, std::string_view host = "127.0.0.1") const;

  // Serves `resource` at `path`; replaces any previous route for the path and
  // resets its fault counters.
  void add(std::string path, Resource resource);
  void add_redirect(std::string path, Redirect redirect);
  // Simulates a signed CDN URL: any request for `origin_path` answers 302 to
  // "http://<cdn_host>:PORT/cdn/<n>/<basename>?X-Amz-Signature=<random>" with a
  // fresh n each time; that URL serves `resource` (ranges and faults as for
  // add) for at most `uses_per_token` requests, then answers 403 with body
  // "Request has expired". A wrong signature also answers 403.
  void add_signed(std::string origin_path, Resource resource, int uses_per_token,
                  std::string cdn_host = "127.0.0.2");

  // Arbitrary handler for fakes. It runs on a connection thread without the
  // server lock held (so it may call this server's methods). Content-Length is
  // added from the body (omitted body for HEAD), Date unless the handler sets
  // it. An exception from the handler becomes a 500 with what() as body.
  struct Request {
    std::string method{};
    std::string path{};
    std::string query{};
    std::map<std::string, std::string> headers{};  // lower-cased names
    std::string body{};
  };
  struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers{};
    std::string body{};
    std::size_t rate = 0;  // trickle the body at this many bytes per second; 0 = full speed
  };
  void add_handler(std::string path, std::function<Response(const Request&)> handler);
  // Like add_handler, for every path that starts with `prefix` (e.g. "/api/"
  // or "/" for everything). Exact routes (add, add_redirect, add_signed,
  // add_handler) and add_signed's /cdn/ URLs are tried first; among prefix
  // handlers the longest matching prefix wins. Replaces a previous handler
  // for the same prefix.
  void add_prefix_handler(std::string prefix, std::function<Response(const Request&)> handler);

  std::vector<RequestRecord> requests() const;  // every request so far, in arrival order
  std::vector<RequestRecord> requests_for(std::string_view path) const;
  // Body bytes written for `path`; bytes of add_signed's /cdn/ URLs count under
  // their origin_path.
  std::uint64_t bytes_sent(std::string_view path) const;
  // Forgets records and byte counts (not the fault counters).
  void clear_log();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace haul::testing
