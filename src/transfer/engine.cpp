// The engine's network thread: a curl multi handle driven by curl_multi_poll.
// Commands from other threads arrive through a locked inbox plus
// curl_multi_wakeup; disk events come back the same way, so every Download
// lives on this one thread and needs no locks.
#include "transfer/engine.hpp"

#include <curl/curl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "base/version.hpp"
#include "net/sha256.hpp"
#include "net/url.hpp"
#include "transfer/buffer_pool.hpp"
#include "transfer/disk_pipeline.hpp"
#include "transfer/download.hpp"
#include "transfer/token_bucket.hpp"

namespace haul::transfer {

namespace {

namespace fs = std::filesystem;

// Buffers per file that may wait for the writer: the disk's queue depth.
constexpr std::size_t kWriteQueueBuffers = 4;

// The nearest directory at or above `dir` that exists must be writable.
Result<void> check_writable(const fs::path& dir) {
  fs::path probe = fs::absolute(dir.empty() ? fs::path(".") : dir);
  std::error_code ec;
  while (!fs::exists(probe, ec) && probe.has_parent_path() && probe != probe.parent_path()) {
    probe = probe.parent_path();
  }
  if (!fs::is_directory(probe, ec)) {
    return fail(ErrorCode::kInvalidArgument,
                "cannot write to " + dir.string() + ": " + probe.string() + " is not a directory");
  }
  if (::access(probe.c_str(), W_OK | X_OK) != 0) {
    return fail(ErrorCode::kPermissionDenied,
                "cannot write to " + dir.string() + ": permission denied");
  }
  return {};
}

class EngineImpl final : public Engine {
 public:
  EngineImpl(EngineOptions options, TransferObserver& observer, CURLM* multi)
      : options_(std::move(options)),
        observer_(observer),
        multi_(multi),
        global_bucket_(options_.global_rate_limit) {
    if (!options_.file_system) options_.file_system = posix_file_system();
    if (options_.user_agent.empty()) options_.user_agent = "haul/" + std::string(kVersion);
    // Segments get their own connections: multiplexing them over one HTTP/2
    // connection would defeat per-connection caps, the point of segmenting.
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_NOTHING);
    pool_ = std::make_unique<BufferPool>(options_.buffer_size, options_.max_buffers, [this] {
      buffers_returned_ = true;
      curl_multi_wakeup(multi_);
    });
    // At most 5/8 of the pool may wait for the hasher; the rest keeps the
    // network flowing, so kept buffers never starve it.
    const DiskOptions disk_options{
        options_.direct_io,
        std::min(options_.hash_buffers, std::max<std::size_t>(1, options_.max_buffers * 5 / 8))};
    disk_ = std::make_unique<DiskPipeline>(
        options_.file_system,
        [this](PartEvent event) {
          post([this, event = std::move(event)] {
            auto it = downloads_.find(event.owner);
            if (it != downloads_.end()) it->second->on_disk_event(event);
          });
        },
        disk_options);
    context_.multi = multi_;
    context_.pool = pool_.get();
    context_.disk = disk_.get();
    context_.global_bucket = &global_bucket_;
    context_.observer = &observer_;
    context_.options = &options_;
    context_.rng = &rng_;
    context_.destinations = &destinations_;
    context_.max_kept_buffers = disk_options.max_hash_buffers;
    thread_ = std::thread([this] { run(); });
  }

  ~EngineImpl() override {
    post([this] {
      shutting_down_ = true;
      for (auto& [id, download] : downloads_) download->stop(/*keep=*/true);
    });
    thread_.join();
    // The network thread is gone; drain the disk before the pool and multi go.
    disk_.reset();
    pool_.reset();
    curl_multi_cleanup(multi_);
  }

  Result<TransferId> start(TransferRequest request) override {
    auto url = net::parse_url(request.url);
    if (!url) return fail(url.error());
    if (!request.output_file.empty() && !request.output_dir.empty()) {
      return fail(ErrorCode::kInvalidArgument,
                  "give an output file or an output directory, not both");
    }
    if (request.output_file.empty() && request.output_dir.empty()) request.output_dir = ".";
    // Relative paths are taken from the working directory now, so a bare
    // file name ("-o model.safetensors") has a parent to create and fsync.
    if (!request.output_file.empty())
      request.output_file = fs::absolute(request.output_file).lexically_normal();
    if (!request.output_dir.empty())
      request.output_dir = fs::absolute(request.output_dir).lexically_normal();
    const fs::path dir =
        request.output_file.empty() ? request.output_dir : request.output_file.parent_path();
    if (auto writable = check_writable(dir); !writable) return fail(writable.error());
    std::error_code ec;
    if (!request.output_file.empty() && fs::is_directory(request.output_file, ec)) {
      return fail(ErrorCode::kInvalidArgument, request.output_file.string() + " is a directory");
    }
    if (request.sha256) {
      if (!net::is_sha256_hex(*request.sha256)) {
        return fail(ErrorCode::kInvalidArgument,
                    "invalid sha256 '" + *request.sha256 + "': expected 64 hex digits");
      }
      std::transform(request.sha256->begin(), request.sha256->end(), request.sha256->begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    if (!request.git_blob_sha1.empty()) {
      std::transform(request.git_blob_sha1.begin(), request.git_blob_sha1.end(),
                     request.git_blob_sha1.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (request.git_blob_sha1.size() != 40 ||
          request.git_blob_sha1.find_first_not_of("0123456789abcdef") != std::string::npos)
        return fail(ErrorCode::kInvalidArgument,
                    "invalid git blob id '" + request.git_blob_sha1 + "': expected 40 hex digits");
    }
    if (request.connections < 1 || request.connections > 64) {
      return fail(
          ErrorCode::kInvalidArgument,
          "invalid connection count " + std::to_string(request.connections) + ": expected 1 to 64");
    }
    for (const std::string& header : request.headers) {
      if (auto ok = check_header(header); !ok) return fail(ok.error());
    }
    const TransferId id = next_id_++;
    post([this, id, request = std::move(request), url = std::move(*url)]() mutable {
      auto download = std::make_unique<Download>(id, std::move(request), std::move(url), context_);
      Download* raw = download.get();
      downloads_.emplace(id, std::move(download));
      raw->begin();
    });
    return id;
  }

  void stop(TransferId id, bool keep_partial) override {
    post([this, id, keep_partial] {
      auto it = downloads_.find(id);
      if (it != downloads_.end()) it->second->stop(keep_partial);
    });
  }

  void set_global_rate_limit(std::uint64_t bytes_per_second) override {
    post([this, bytes_per_second] {
      global_bucket_.set_rate(bytes_per_second, std::chrono::steady_clock::now());
    });
  }

 private:
  void post(std::function<void()> task) {
    {
      std::lock_guard lock(inbox_mutex_);
      inbox_.push_back(std::move(task));
    }
    curl_multi_wakeup(multi_);
  }

  void run() {
    pthread_setname_np(pthread_self(), "haul-net");
    using Clock = std::chrono::steady_clock;
    while (true) {
      std::vector<std::function<void()>> tasks;
      {
        std::lock_guard lock(inbox_mutex_);
        tasks.swap(inbox_);
      }
      for (auto& task : tasks) task();
      reap_finished();
      if (shutting_down_ && downloads_.empty()) return;
      size_pool();

      int running = 0;
      curl_multi_perform(multi_, &running);
      int queued = 0;
      while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
        if (message->msg != CURLMSG_DONE) continue;
        // The message dies with the handle's removal: copy what we need first.
        CURL* easy = message->easy_handle;
        const CURLcode code = message->data.result;
        Connection* connection = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &connection);
        curl_multi_remove_handle(multi_, easy);
        connection->in_multi = false;
        connection->download->on_request_done(*connection, code);
      }

      const auto now = Clock::now();
      global_bucket_.refill(now);
      const bool returned = buffers_returned_.exchange(false);
      auto deadline = now + std::chrono::seconds(1);
      for (auto& [id, download] : downloads_) {
        download->pump(now, returned);
        deadline = std::min(deadline, download->next_deadline(now));
      }
      reap_finished();
      const auto wait =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
      curl_multi_poll(multi_, nullptr, 0, static_cast<int>(std::clamp<long long>(wait, 0, 1000)),
                      nullptr);
    }
  }

  // The pool holds what the running downloads can use: a buffer filling per
  // connection, a few on their way to the disk per file, and the hasher's.
  // Buffers beyond that go back to the system as they return.
  void size_pool() {
    std::size_t wanted = context_.max_kept_buffers;
    for (const auto& [id, download] : downloads_)
      wanted += static_cast<std::size_t>(download->connection_budget()) + kWriteQueueBuffers;
    wanted = std::clamp<std::size_t>(wanted, 1, options_.max_buffers);
    if (wanted == pool_limit_) return;  // the usual case: no lock on every loop
    pool_limit_ = wanted;
    pool_->set_limit(wanted);
  }

  void reap_finished() {
    std::erase_if(downloads_, [](const auto& entry) { return entry.second->finished(); });
  }

  EngineOptions options_;
  TransferObserver& observer_;
  CURLM* multi_;
  std::unique_ptr<BufferPool> pool_;
  std::unique_ptr<DiskPipeline> disk_;

  // Network thread only.
  TokenBucket global_bucket_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::set<fs::path> destinations_;
  EngineContext context_;
  std::map<TransferId, std::unique_ptr<Download>> downloads_;
  std::size_t pool_limit_ = 0;  // what size_pool() last gave the pool
  bool shutting_down_ = false;

  std::mutex inbox_mutex_;
  std::vector<std::function<void()>> inbox_;  // guarded by inbox_mutex_
  std::atomic<bool> buffers_returned_{false};
  std::atomic<TransferId> next_id_{1};
  std::thread thread_;
};

}  // namespace

Result<void> check_header(std::string_view header) {
  const auto colon = header.find(':');
  if (colon == std::string::npos || colon == 0 ||
      header.find_first_of("\r\n") != std::string::npos) {
    return fail(ErrorCode::kInvalidArgument,
                "invalid header '" + std::string(header) + "': expected 'Name: value'");
  }
  return {};
}

Result<std::unique_ptr<Engine>> Engine::create(EngineOptions options, TransferObserver& observer) {
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global != CURLE_OK) return fail(ErrorCode::kInternal, "cannot initialise libcurl");
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) return fail(ErrorCode::kInternal, "cannot create a libcurl multi handle");
  return std::unique_ptr<Engine>(new EngineImpl(std::move(options), observer, multi));
}

}  // namespace haul::transfer
