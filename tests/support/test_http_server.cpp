#include "support/test_http_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <iostream>
#include <list>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <variant>

#include "support/http_wire.hpp"
#include "support/response_writer.hpp"
#include "support/served_resource.hpp"
#include "support/socket_channel.hpp"

namespace haul::testing {

using detail::Channel;
using detail::ParsedRequest;
using detail::ResponsePlan;
using detail::UniqueFd;

namespace {

constexpr int kBindAttempts = 50;
constexpr std::string_view kCdnPrefix = "/cdn/";
constexpr std::string_view kSignatureParam = "X-Amz-Signature=";

using Handler = std::function<TestHttpServer::Response(const TestHttpServer::Request&)>;

struct SignedRoute {
  detail::ServedResource resource;
  int uses_per_token;
  std::string cdn_host;
};

using Route = std::variant<detail::ServedResource, Redirect, SignedRoute, Handler>;

// One URL handed out by a SignedRoute.
struct CdnToken {
  std::string origin_path;
  std::string signature;
  int uses_left;
};

struct Listener {
  std::string address;
  UniqueFd fd;
};

// What to answer, decided under the server lock.
struct Decision {
  ResponsePlan plan;
  Handler handler;       // when set: run it (without the lock) for the plan
  std::string byte_key;  // bytes_sent bucket
};

std::string random_hex(std::size_t bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::string text;
  for (std::size_t i = 0; i < bytes * 2; ++i) {
    text.push_back(kDigits[engine() % 16]);
  }
  return text;
}

// Value of `param` (given with its '=') in a query string, or "".
std::string query_value(std::string_view query, std::string_view param) {
  while (!query.empty()) {
    const auto end = query.find('&');
    const auto pair = query.substr(0, end);
    if (pair.starts_with(param)) {
      return std::string(pair.substr(param.size()));
    }
    query = end == std::string_view::npos ? std::string_view{} : query.substr(end + 1);
  }
  return {};
}

// counter += delta, never below 0 (clear_log may run between +n and -n).
void add_clamped(std::uint64_t& counter, std::int64_t delta) {
  const auto magnitude = static_cast<std::uint64_t>(delta < 0 ? -delta : delta);
  counter = delta >= 0 ? counter + magnitude : counter - std::min(counter, magnitude);
}

ResponsePlan redirect_plan(const Redirect& redirect) {
  auto plan = ResponsePlan::with_body(redirect.status, "", "");
  plan.headers.emplace_back("Location", redirect.location);
  return plan;
}

ResponsePlan not_found() { return ResponsePlan::with_body(404, "Not Found\n"); }

// Runs a custom handler; its exceptions become 500 responses.
ResponsePlan run_handler(const Handler& handler, const ParsedRequest& request) {
  const TestHttpServer::Request input{request.method, request.path, request.query, request.headers,
                                      request.body};
  try {
    auto response = handler(input);
    auto plan = ResponsePlan::with_body(response.status, std::move(response.body), "");
    plan.rate = response.rate;
    for (auto& header : response.headers) {
      if (detail::to_lower(header.first) != "content-length") {
        plan.headers.push_back(std::move(header));
      }
    }
    return plan;
  } catch (const std::exception& error) {
    return ResponsePlan::with_body(500, error.what());
  }
}

}  // namespace

class TestHttpServer::Impl {
 public:
  Impl();
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  int port() const { return port_; }
  std::string url(std::string_view path, std::string_view host) const;
  void set_route(std::string path, Route route);
  void set_prefix_route(std::string prefix, Handler handler);

  // All records, or only those for `path` when given.
  std::vector<RequestRecord> requests(std::optional<std::string_view> path) const;
  std::uint64_t bytes_sent(std::string_view path) const;
  void clear_log();

 private:
  struct Worker {
    std::thread thread;
    std::atomic<bool> finished{false};
  };

  void bind_listeners();
  // Acceptor thread: accepts on both listeners until the stop pipe is readable.
  void accept_loop();
  void accept_all(const Listener& listener);
  void reap_finished_workers();
  // Connection thread: serves requests until close, error or stop.
  void serve_connection(UniqueFd fd, const std::string& local_address);
  bool serve_one(Channel& channel, const std::string& local_address);
  bool read_request_body(Channel& channel, ParsedRequest& request);
  static void reject(Channel& channel, int status);

  // Routing; the caller holds mutex_.
  Decision decide(const ParsedRequest& request);
  Decision decide_route(Route& route, const ParsedRequest& request);
  Decision decide_cdn(const ParsedRequest& request);
  ResponsePlan issue_token(const std::string& origin_path, const SignedRoute& route);

  // Request log; each takes mutex_.
  std::uint64_t log_arrival(const ParsedRequest& request, const std::string& local_address);
  void log_status(std::uint64_t id, int status);
  void log_body_bytes(std::uint64_t id, const std::string& key, std::int64_t delta);
  void log_ended(std::uint64_t id);
  RequestRecord* find_record(std::uint64_t id);

  int port_ = 0;
  std::array<Listener, 2> listeners_;
  UniqueFd stop_read_;
  UniqueFd stop_write_;
  std::thread acceptor_;
  std::list<Worker> workers_;  // acceptor thread only, then the destructor

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Route> routes_;
  std::unordered_map<std::string, Handler> prefix_routes_;
  std::unordered_map<int, CdnToken> tokens_;
  int next_token_ = 1;
  std::vector<RequestRecord> log_;
  std::uint64_t log_base_ = 0;  // id of log_.front(); ids survive clear_log
  std::unordered_map<std::string, std::uint64_t> bytes_;
};

// ---- lifecycle ------------------------------------------------------------

TestHttpServer::Impl::Impl() {
  bind_listeners();
  std::array<int, 2> pipe_fds{};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error(std::string("TestHttpServer: pipe: ") + std::strerror(errno));
  }
  stop_read_.reset(pipe_fds[0]);
  stop_write_.reset(pipe_fds[1]);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestHttpServer::Impl::~Impl() {
  // The stop pipe is never drained, so every later poll on it wakes at once.
  [[maybe_unused]] const auto written = ::write(stop_write_.get(), "x", 1);
  acceptor_.join();
  for (auto& worker : workers_) {
    worker.thread.join();
  }
}

void TestHttpServer::Impl::bind_listeners() {
  for (int attempt = 0; attempt < kBindAttempts; ++attempt) {
    auto primary = detail::open_listener("127.0.0.1", 0);
    if (!primary.valid()) {
      throw std::runtime_error(std::string("TestHttpServer: bind 127.0.0.1: ") +
                               std::strerror(errno));
    }
    const int port = detail::local_port(primary.get());
    auto secondary = detail::open_listener("127.0.0.2", port);
    if (secondary.valid()) {
      port_ = port;
      listeners_ = {Listener{"127.0.0.1", std::move(primary)},
                    Listener{"127.0.0.2", std::move(secondary)}};
      return;
    }
  }
  throw std::runtime_error("TestHttpServer: no port free on both 127.0.0.1 and 127.0.0.2");
}

void TestHttpServer::Impl::accept_loop() {
  std::array<pollfd, 3> fds{{{listeners_[0].fd.get(), POLLIN, 0},
                             {listeners_[1].fd.get(), POLLIN, 0},
                             {stop_read_.get(), POLLIN, 0}}};
  while (true) {
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
      return;
    }
    if (fds[2].revents != 0) {
      return;
    }
    for (std::size_t i = 0; i < listeners_.size(); ++i) {
      if (fds[i].revents != 0) {
        accept_all(listeners_[i]);
      }
    }
    reap_finished_workers();
  }
}

void TestHttpServer::Impl::accept_all(const Listener& listener) {
  while (true) {
    const int fd = ::accept4(listener.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      return;  // EAGAIN: drained; other errors: the client is gone already
    }
    auto& worker = workers_.emplace_back();
    try {
      worker.thread = std::thread([this, &worker, fd, address = listener.address] {
        serve_connection(UniqueFd(fd), address);
        worker.finished = true;
      });
    } catch (const std::system_error& error) {  // out of threads: refuse this client
      std::cerr << "TestHttpServer: cannot start a connection thread: " << error.what() << '\n';
      ::close(fd);
      workers_.pop_back();
    }
  }
}

void TestHttpServer::Impl::reap_finished_workers() {
  workers_.remove_if([](Worker& worker) {
    if (!worker.finished) {
      return false;
    }
    worker.thread.join();
    return true;
  });
}

// ---- connections ----------------------------------------------------------

void TestHttpServer::Impl::serve_connection(UniqueFd fd, const std::string& local_address) {
  try {
    Channel channel(std::move(fd), stop_read_.get());
    while (serve_one(channel, local_address)) {
    }
  } catch (const std::exception& error) {
    std::cerr << "TestHttpServer: connection failed: " << error.what() << '\n';
  }
}

bool TestHttpServer::Impl::serve_one(Channel& channel, const std::string& local_address) {
  const auto head = channel.read_head();
  if (!head) {
    if (channel.head_too_large()) {
      reject(channel, 431);
    }
    return false;
  }
  auto request = detail::parse_request_head(*head);
  if (!request) {
    reject(channel, 400);
    return false;
  }
  if (!read_request_body(channel, *request)) {
    return false;
  }
  const auto id = log_arrival(*request, local_address);
  Decision decision;
  {
    std::lock_guard lock(mutex_);
    decision = decide(*request);
  }
  auto plan = decision.handler ? run_handler(decision.handler, *request) : std::move(decision.plan);
  plan.send_body = plan.send_body && request->method != "HEAD";
  plan.close = plan.close || request->wants_close();
  log_status(id, plan.status);
  const bool usable = detail::write_response(
      channel, plan, [&](std::int64_t delta) { log_body_bytes(id, decision.byte_key, delta); });
  log_ended(id);
  return usable;
}

bool TestHttpServer::Impl::read_request_body(Channel& channel, ParsedRequest& request) {
  if (!request.header("transfer-encoding").empty()) {
    reject(channel, 501);  // chunked request bodies are not needed by any test yet
    return false;
  }
  const auto length_text = request.header("content-length");
  if (length_text.empty()) {
    return true;
  }
  std::size_t length = 0;
  const auto* end = length_text.data() + length_text.size();
  if (std::from_chars(length_text.data(), end, length).ptr != end) {
    reject(channel, 400);
    return false;
  }
  if (detail::to_lower(request.header("expect")) == "100-continue" &&
      !channel.send_all("HTTP/1.1 100 Continue\r\n\r\n")) {
    return false;
  }
  auto body = channel.read_bytes(length);
  if (!body) {
    return false;
  }
  request.body = std::move(*body);
  return true;
}

void TestHttpServer::Impl::reject(Channel& channel, int status) {
  auto plan = ResponsePlan::with_body(status, std::string(detail::reason_phrase(status)) + "\n");
  plan.close = true;
  detail::write_response(channel, plan, [](std::int64_t) {});
}

// ---- routing --------------------------------------------------------------

Decision TestHttpServer::Impl::decide(const ParsedRequest& request) {
  if (const auto route = routes_.find(request.path); route != routes_.end()) {
    return decide_route(route->second, request);
  }
  if (request.path.starts_with(kCdnPrefix)) {
    return decide_cdn(request);
  }
  const Handler* longest = nullptr;
  std::size_t longest_size = 0;
  for (const auto& [prefix, handler] : prefix_routes_) {
    if (request.path.starts_with(prefix) && (longest == nullptr || prefix.size() > longest_size)) {
      longest = &handler;
      longest_size = prefix.size();
    }
  }
  if (longest != nullptr) {
    return {{}, *longest, request.path};
  }
  return {not_found(), {}, request.path};
}

Decision TestHttpServer::Impl::decide_route(Route& route, const ParsedRequest& request) {
  if (auto* resource = std::get_if<detail::ServedResource>(&route)) {
    return {resource->respond(request), {}, request.path};
  }
  if (const auto* redirect = std::get_if<Redirect>(&route)) {
    return {redirect_plan(*redirect), {}, request.path};
  }
  if (const auto* signed_route = std::get_if<SignedRoute>(&route)) {
    return {issue_token(request.path, *signed_route), {}, request.path};
  }
  return {{}, std::get<Handler>(route), request.path};
}

// "/cdn/<n>/<name>?X-Amz-Signature=<sig>" handed out by issue_token.
Decision TestHttpServer::Impl::decide_cdn(const ParsedRequest& request) {
  const std::string_view rest = std::string_view(request.path).substr(kCdnPrefix.size());
  int number = 0;
  const auto parsed = std::from_chars(rest.data(), rest.data() + rest.size(), number);
  const auto token = tokens_.find(number);
  if (parsed.ec != std::errc{} || token == tokens_.end()) {
    return {not_found(), {}, request.path};
  }
  const auto& origin_path = token->second.origin_path;
  const auto route = routes_.find(origin_path);
  auto* signed_route = route == routes_.end() ? nullptr : std::get_if<SignedRoute>(&route->second);
  if (signed_route == nullptr || token->second.uses_left <= 0) {
    return {ResponsePlan::with_body(403, "Request has expired"), {}, origin_path};
  }
  if (query_value(request.query, kSignatureParam) != token->second.signature) {
    return {ResponsePlan::with_body(403, "Signature does not match"), {}, origin_path};
  }
  --token->second.uses_left;
  return {signed_route->resource.respond(request), {}, origin_path};
}

ResponsePlan TestHttpServer::Impl::issue_token(const std::string& origin_path,
                                               const SignedRoute& route) {
  const int number = next_token_++;
  auto signature = random_hex(16);
  const auto basename = origin_path.substr(origin_path.rfind('/') + 1);
  const auto path = std::string(kCdnPrefix) + std::to_string(number) + "/" + basename;
  const auto location = url(path, route.cdn_host) + "?" + std::string(kSignatureParam) + signature;
  tokens_[number] = CdnToken{origin_path, std::move(signature), route.uses_per_token};
  return redirect_plan({location, 302});
}

void TestHttpServer::Impl::set_route(std::string path, Route route) {
  std::lock_guard lock(mutex_);
  routes_.insert_or_assign(std::move(path), std::move(route));
}

void TestHttpServer::Impl::set_prefix_route(std::string prefix, Handler handler) {
  std::lock_guard lock(mutex_);
  prefix_routes_.insert_or_assign(std::move(prefix), std::move(handler));
}

std::string TestHttpServer::Impl::url(std::string_view path, std::string_view host) const {
  std::string text = "http://" + std::string(host) + ":" + std::to_string(port_);
  if (!path.starts_with('/')) {
    text.push_back('/');
  }
  return text.append(path);
}

// ---- request log ----------------------------------------------------------

std::uint64_t TestHttpServer::Impl::log_arrival(const ParsedRequest& request,
                                                const std::string& local_address) {
  RequestRecord record;
  record.method = request.method;
  record.path = request.path;
  record.query = request.query;
  record.host_header = request.header("host");
  record.local_address = local_address;
  record.absolute_form = request.absolute_form;
  record.headers = request.headers;
  std::lock_guard lock(mutex_);
  log_.push_back(std::move(record));
  return log_base_ + log_.size() - 1;
}

void TestHttpServer::Impl::log_status(std::uint64_t id, int status) {
  std::lock_guard lock(mutex_);
  if (auto* record = find_record(id)) {
    record->status = status;
  }
}

void TestHttpServer::Impl::log_body_bytes(std::uint64_t id, const std::string& key,
                                          std::int64_t delta) {
  std::lock_guard lock(mutex_);
  if (auto* record = find_record(id)) {
    add_clamped(record->body_bytes, delta);
  }
  add_clamped(bytes_[key], delta);
}

void TestHttpServer::Impl::log_ended(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  if (auto* record = find_record(id)) {
    record->ended = true;
  }
}

RequestRecord* TestHttpServer::Impl::find_record(std::uint64_t id) {
  return id >= log_base_ && id - log_base_ < log_.size() ? &log_[id - log_base_] : nullptr;
}

std::vector<RequestRecord> TestHttpServer::Impl::requests(
    std::optional<std::string_view> path) const {
  std::lock_guard lock(mutex_);
  std::vector<RequestRecord> records;
  for (const auto& record : log_) {
    if (!path || record.path == *path) {
      records.push_back(record);
    }
  }
  return records;
}

std::uint64_t TestHttpServer::Impl::bytes_sent(std::string_view path) const {
  std::lock_guard lock(mutex_);
  const auto it = bytes_.find(std::string(path));
  return it == bytes_.end() ? 0 : it->second;
}

void TestHttpServer::Impl::clear_log() {
  std::lock_guard lock(mutex_);
  log_base_ += log_.size();
  log_.clear();
  bytes_.clear();
}

// ---- public API -----------------------------------------------------------

TestHttpServer::TestHttpServer() : impl_(std::make_unique<Impl>()) {}

TestHttpServer::~TestHttpServer() = default;

int TestHttpServer::port() const { return impl_->port(); }

std::string TestHttpServer::url(std::string_view path, std::string_view host) const {
  return impl_->url(path, host);
}

void TestHttpServer::add(std::string path, Resource resource) {
  impl_->set_route(std::move(path), detail::ServedResource(std::move(resource)));
}

void TestHttpServer::add_redirect(std::string path, Redirect redirect) {
  impl_->set_route(std::move(path), std::move(redirect));
}

void TestHttpServer::add_signed(std::string origin_path, Resource resource, int uses_per_token,
                                std::string cdn_host) {
  impl_->set_route(std::move(origin_path), SignedRoute{detail::ServedResource(std::move(resource)),
                                                       uses_per_token, std::move(cdn_host)});
}

void TestHttpServer::add_handler(std::string path,
                                 std::function<Response(const Request&)> handler) {
  impl_->set_route(std::move(path), std::move(handler));
}

void TestHttpServer::add_prefix_handler(std::string prefix,
                                        std::function<Response(const Request&)> handler) {
  impl_->set_prefix_route(std::move(prefix), std::move(handler));
}

std::vector<RequestRecord> TestHttpServer::requests() const {
  return impl_->requests(std::nullopt);
}

std::vector<RequestRecord> TestHttpServer::requests_for(std::string_view path) const {
  return impl_->requests(path);
}

std::uint64_t TestHttpServer::bytes_sent(std::string_view path) const {
  return impl_->bytes_sent(path);
}

void TestHttpServer::clear_log() { impl_->clear_log(); }

}  // namespace haul::testing
