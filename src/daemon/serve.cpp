// Threading (DESIGN.md):
// - One control thread runs the io_context: job state (Scheduler), the API,
//   WebSocket/Socket.IO/SSE fan-out. Nothing blocks it.
// - The transfer engine runs curl_multi_poll on its own thread (plus three
//   disk threads); its callbacks are post()ed to the io_context, at most
//   ~4 progress updates per second per transfer.
// - Store calls run on one DB thread (DbWorker), results posted back.
// - Shared data between threads is confined to those queues; see
//   docs/design/threading.md.
#include "daemon/serve.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "api/api.hpp"
#include "api/http/http_server.hpp"
#include "api/instance_probe.hpp"
#include "api/live_feed.hpp"
#include "api/model_catalog.hpp"
#include "api/node_heartbeat.hpp"
#include "api/progress_files.hpp"
#include "api/resources_feed.hpp"
#include "api/socketio/server.hpp"
#include "api/web_assets.hpp"
#include "base/format.hpp"
#include "base/version.hpp"
#include "daemon/job_system.hpp"
#include "daemon/logging.hpp"
#include "daemon/queue_changes.hpp"
#include "daemon/service_notify.hpp"
#include "daemon/store_spec.hpp"
#include "models/folders.hpp"
#include "scheduler/event_bus.hpp"
#include "scheduler/scheduler.hpp"
#include "store/db_worker.hpp"
#include "store/postgres/postgres_job_store.hpp"
#include "store/sqlite/sqlite_job_store.hpp"

namespace haul::daemon {

namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};

Result<Endpoint> parse_listen(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return fail(ErrorCode::kInvalidArgument,
                "--listen '" + text + "': expected HOST:PORT, e.g. 127.0.0.1:5000");
  }
  Endpoint endpoint;
  endpoint.host = text.substr(0, colon);
  if (endpoint.host.size() > 2 && endpoint.host.front() == '[' && endpoint.host.back() == ']') {
    endpoint.host = endpoint.host.substr(1, endpoint.host.size() - 2);
  }
  try {
    const int port = std::stoi(text.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    endpoint.port = static_cast<std::uint16_t>(port);
  } catch (const std::exception&) {
    return fail(ErrorCode::kInvalidArgument, "--listen '" + text + "': the port must be 0-65535");
  }
  return endpoint;
}

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

// One daemon per data directory: a second one would share the database and
// the partial files. The pid file doubles as the lock (`haul worker stop`
// reads it).
class PidFile {
 public:
  static Result<std::unique_ptr<PidFile>> claim(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return fail(ErrorCode::kIo, "cannot open " + path.string());
    if (::lockf(fd, F_TLOCK, 0) != 0) {
      char buf[32] = {};
      (void)::pread(fd, buf, sizeof buf - 1, 0);
      ::close(fd);
      return fail(ErrorCode::kConflict, "another haul daemon (pid " +
                                            std::string(trim_newline(buf)) + ") is using " +
                                            path.parent_path().string());
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
      ::close(fd);
      return fail(ErrorCode::kIo, "cannot write " + path.string());
    }
    return std::unique_ptr<PidFile>(new PidFile(path, fd));
  }
  ~PidFile() {
    std::error_code ec;
    fs::remove(path_, ec);
    ::close(fd_);
  }

 private:
  PidFile(fs::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  static std::string trim_newline(const char* text) {
    std::string s(text);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  fs::path path_;
  int fd_;
};

// Every subscriber and every transfer connection holds a descriptor; the
// soft limit (often 1024) would cap them long before memory does.
void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Tells systemd (Type=notify) what the daemon is doing; a no-op elsewhere.
void notify_systemd(const std::string& state) {
  if (auto sent = notify_service_manager(state); !sent) {
    spdlog::warn("cannot notify systemd: {}", sent.error().message);
  }
}

int startup_error(const Error& error, int code = 1) {
  std::fprintf(stderr, "haul serve: %s\n", error.message.c_str());
  return code;
}

std::unique_ptr<store::JobStore> make_store(const StoreSpec& spec, const std::string& node) {
  if (spec.kind == StoreSpec::Kind::kPostgres) {
    auto store = std::make_unique<store::postgres::PostgresJobStore>(spec.postgres_url);
    store->serve_as(node);  // one node of that name at a time
    return store;
  }
  return std::make_unique<store::sqlite::SqliteJobStore>(spec.sqlite_path);
}

}  // namespace

int run_serve(ServeOptions options) {
  auto endpoint = parse_listen(options.listen);
  if (!endpoint) return startup_error(endpoint.error(), 2);
  if (options.token.empty()) options.token = env_or("HAUL_TOKEN", "");
  if (!is_loopback(endpoint->host) && options.token.empty()) {
    return startup_error(
        Error{ErrorCode::kInvalidArgument, "listening on " + endpoint->host +
                                               " exposes the daemon beyond this machine: set a "
                                               "token with --token or HAUL_TOKEN"},
        2);
  }
  const fs::path data_dir =
      fs::absolute(options.data_dir.empty() ? env_or("HAUL_DATA_DIR", "data") : options.data_dir);
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec)
    return startup_error(
        Error{ErrorCode::kIo, "cannot create " + data_dir.string() + ": " + ec.message()});
  auto store_spec = parse_store_spec(options.store, data_dir);
  if (!store_spec) return startup_error(store_spec.error(), 2);
  auto pid_file = PidFile::claim(data_dir / "haul.pid");
  if (!pid_file) return startup_error(pid_file.error());
  if (options.log_format != "text" && options.log_format != "json")
    return startup_error(Error{ErrorCode::kInvalidArgument,
                               "--log-format '" + options.log_format + "': text or json"},
                         2);
  if (auto logging = setup_logging(data_dir / "logs", !options.quiet, options.log_format == "json");
      !logging)
    return startup_error(logging.error());

  raise_open_file_limit();
  asio::io_context io;
  std::string node = options.node;
  if (node.empty()) {
    char host[256] = {};
    node = ::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0' ? host : "haul";
  }
  if (auto named = check_node_name(node); !named) return startup_error(named.error(), 2);
  store::DbWorker db(make_store(*store_spec, node),
                     [&io](std::function<void()> task) { asio::post(io, std::move(task)); });
  auto opened = db.call<bool>([](store::JobStore& store) -> Result<bool> {
    if (auto ok = store.open(); !ok) return fail(ok.error());
    return true;
  });
  if (!opened) return startup_error(opened.error());
  auto last_event =
      db.call<std::uint64_t>([](store::JobStore& store) { return store.last_event_id(); });
  if (!last_event) return startup_error(last_event.error());

  const bool shared_queue = store_spec->kind == StoreSpec::Kind::kPostgres;
  scheduler::EventBus bus(*last_event);
  if (shared_queue) bus.use_clock_ids();
  JobSystemOptions jobs;
  auto lease = parse_duration(options.lease);
  if (!lease || *lease < std::chrono::seconds(1))
    return startup_error(Error{ErrorCode::kInvalidArgument,
                               "--lease '" + options.lease + "': a duration of 1s or more"},
                         2);
  if (shared_queue) {
    jobs.scheduler.node = node;
    jobs.scheduler.lease = *lease;
  }
  jobs.scheduler.max_active = options.max_active;
  jobs.scheduler.max_per_host = options.max_per_host;
  jobs.scheduler.default_max_attempts = options.max_attempts;
  auto retry_delay = parse_duration(options.retry_delay);
  if (!retry_delay)
    return startup_error(
        Error{ErrorCode::kInvalidArgument, "--retry-delay: " + retry_delay.error().message}, 2);
  auto max_retry_delay = parse_duration(options.max_retry_delay);
  if (!max_retry_delay)
    return startup_error(
        Error{ErrorCode::kInvalidArgument, "--max-retry-delay: " + max_retry_delay.error().message},
        2);
  jobs.scheduler.retry_backoff.initial = *retry_delay;
  jobs.scheduler.retry_backoff.max = std::max(*max_retry_delay, *retry_delay);
  jobs.connections = options.connections;
  jobs.transfer_retry.max_retry_after = std::chrono::seconds(options.max_retry_after_s);
  for (const std::string& root : options.models_roots) jobs.roots.emplace_back(fs::absolute(root));
  if (jobs.roots.empty()) jobs.roots.push_back(fs::current_path());
  std::optional<fs::path> comfyui;
  if (!options.comfyui_dir.empty()) comfyui = fs::absolute(options.comfyui_dir);
  std::vector<fs::path> yaml_files(options.extra_model_paths.begin(),
                                   options.extra_model_paths.end());
  const EnvLookup getenv = [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  auto folders = models::load_model_folders(jobs.roots, comfyui, yaml_files, getenv);
  if (!folders) return startup_error(folders.error(), 2);
  // Models found in the install's folders are fetched again where they are.
  for (const fs::path& root : folders->allowed_roots()) {
    if (std::find(jobs.roots.begin(), jobs.roots.end(), root) == jobs.roots.end())
      jobs.roots.push_back(root);
  }
  const fs::path library_dir =
      fs::absolute(options.library.empty() ? data_dir / "resources" : fs::path(options.library));
  fs::create_directories(library_dir, ec);
  const cards::CardLibrary library(library_dir);
  jobs.cards = &library;
  jobs.ssh.known_hosts = options.known_hosts;
  jobs.ssh.policy =
      options.strict_host_keys ? remote::HostKeyPolicy::kStrict : remote::HostKeyPolicy::kAcceptNew;
  jobs.command_timeout = std::chrono::seconds(options.command_timeout_s);
  const std::vector<fs::path> jobs_roots = jobs.roots;  // before JobSystem takes them
  const remote::SessionOptions ssh_options = jobs.ssh;
  JobSystem job_system(io, db, bus, std::move(jobs));
  scheduler::Scheduler& scheduler = job_system.scheduler();
  // Other nodes' changes: listened for before the queue is loaded.
  std::optional<QueueChanges> queue_changes;
  if (shared_queue) {
    queue_changes.emplace(io.get_executor(), scheduler, store_spec->postgres_url, node);
    if (auto listening = queue_changes->start(); !listening)
      return startup_error(listening.error());
  }
  if (auto started = job_system.start(); !started) return startup_error(started.error());

  api::socketio::Server socketio(io);
  // Every event but progress goes to the stored log (SSE replay, audit).
  api::LiveFeed feed(
      bus, &socketio.of("/downloads"), [&db](const core::Event& event, const api::Message& entry) {
        if (event.relayed) return;  // the node that made the change stored it
        store::WriteBatch batch;
        batch.events.push_back(
            store::StoredEvent{event.id, entry->type, event.job.id, event.at, entry->json});
        db.write(std::move(batch));
      });

  api::Router router;
  api::ResourcesFeed resources_feed(bus, socketio.of("/resources"));
  auto manifests = db.call<std::vector<store::StoredManifest>>(
      [](store::JobStore& store) { return store.load_manifests(); });
  if (!manifests) return startup_error(manifests.error());
  api::ModelCatalog catalog(io.get_executor(), db, scheduler, bus, std::move(*folders),
                            data_dir / "sha256-cache.txt", ssh_options);
  catalog.load(*manifests);
  if (queue_changes) {
    queue_changes->on_manifests_changed([&db, &catalog] {
      db.read<std::vector<store::StoredManifest>>(
          [](store::JobStore& store) { return store.load_manifests(); },
          [&catalog](const Result<std::vector<store::StoredManifest>>& stored) {
            if (!stored) {
              spdlog::warn("cannot reload manifests: {}", stored.error().message);
              return;
            }
            catalog.load(*stored);
          });
    });
  }
  catalog.on_model_change([&feed](const std::string&, const api::ModelView& view) {
    feed.publish_model(api::model_event(view));
  });
  asio::thread_pool file_writer(1);
  api::ProgressFiles progress_files(io.get_executor(), file_writer.get_executor(), scheduler, bus);

  auto web = options.web_dir.empty() ? Result<api::WebAssets>(api::WebAssets::embedded())
                                     : api::WebAssets::from_directory(options.web_dir);
  if (!web) return startup_error(web.error(), 2);

  api::ApiContext context{scheduler, bus, db, feed, &socketio, &library};
  context.models = &catalog;
  context.progress_files = &progress_files;
  context.web = &*web;
  api::InstanceProbe probe(io.get_executor(), ssh_options);
  context.probe = &probe;
  // On a shared queue: this node's heartbeat, and the nodes /healthz shows.
  std::optional<api::NodeHeartbeat> heartbeat;
  if (shared_queue) {
    heartbeat.emplace(io.get_executor(), db, node, *lease / 3, *lease);
    heartbeat->start();
    context.heartbeat = &*heartbeat;
  }
  std::string roots_text;
  for (const fs::path& root : jobs_roots)
    roots_text += (roots_text.empty() ? "" : ", ") + root.string();
  context.settings = {{"data_dir", data_dir.string()},
                      {"store", store_spec->display},
                      {"listen", options.listen},
                      {"models_roots", roots_text},
                      {"comfyui", comfyui ? comfyui->string() : "(none)"},
                      {"library", library_dir.string()},
                      {"max_active", std::to_string(options.max_active)},
                      {"connections", std::to_string(options.connections)}};
  api::install_routes(router, context);  // Socket.IO's routes too
  api::HttpServer server(
      io, router,
      api::make_policy(options.token, endpoint->host, endpoint->port, options.allowed_hosts));
  auto bound = server.listen(endpoint->host, endpoint->port);
  if (!bound) return startup_error(bound.error());
  server.set_policy(
      api::make_policy(options.token, endpoint->host, bound->port(), options.allowed_hosts));

  const std::string url =
      "http://" +
      (endpoint->host.find(':') != std::string::npos ? "[" + endpoint->host + "]"
                                                     : endpoint->host) +
      ":" + std::to_string(bound->port());
  // The handlers are in place before anyone hears the daemon is ready, so a
  // SIGTERM right after READY=1 (or the line below) still stops it cleanly.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  bool stopping = false;
  signals.async_wait([&](const boost::system::error_code& error, int signal) {
    if (error || stopping) return;
    stopping = true;
    spdlog::info("signal {}: stopping; running jobs resume at the next start", signal);
    notify_systemd("STOPPING=1\nSTATUS=Stopping: saving transfer state");
    server.stop();
    scheduler.shutdown([&io] { io.stop(); });
  });
  ::signal(SIGPIPE, SIG_IGN);

  spdlog::info("haul {} serving on {} (data {}, store {})", kVersion, url, data_dir.string(),
               store_spec->display);
  std::printf("haul: serving on %s\n", url.c_str());
  std::fflush(stdout);
  notify_systemd("READY=1\nSTATUS=Serving on " + url);
  io.run();
  spdlog::info("stopped");
  return 0;
}

}  // namespace haul::daemon
