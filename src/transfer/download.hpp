// One transfer's state machine on the engine's network thread: the probe that
// learns size, name and version; the pieces spread over connections; retries,
// redirects and re-resolution; the hand-off to the disk pipeline; the end.
// Internal to the engine. Network thread only.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "net/url.hpp"
#include "transfer/buffer_pool.hpp"
#include "transfer/byte_range.hpp"
#include "transfer/connection.hpp"
#include "transfer/disk_pipeline.hpp"
#include "transfer/engine.hpp"
#include "transfer/response_judge.hpp"
#include "transfer/segment_planner.hpp"
#include "transfer/token_bucket.hpp"

namespace haul::transfer {

// Services the engine lends to every download.
struct EngineContext {
  CURLM* multi = nullptr;
  BufferPool* pool = nullptr;
  DiskPipeline* disk = nullptr;
  TokenBucket* global_bucket = nullptr;
  TransferObserver* observer = nullptr;
  const EngineOptions* options = nullptr;
  std::mt19937_64* rng = nullptr;
  std::set<std::filesystem::path>* destinations = nullptr;  // claimed by running downloads
  // Buffers the disk pipeline keeps per file for the hasher; when they run
  // out while the hasher is busy, connections beyond the prefix pause.
  std::size_t max_kept_buffers = 0;
};

// Bytes per second over a sliding window of a few seconds.
class SpeedMeter {
 public:
  using Clock = std::chrono::steady_clock;
  void add(std::uint64_t bytes) { total_ += bytes; }
  void sample(Clock::time_point now);
  double speed() const;

 private:
  std::uint64_t total_ = 0;
  std::deque<std::pair<Clock::time_point, std::uint64_t>> samples_;
};

class Download {
 public:
  using Clock = std::chrono::steady_clock;

  Download(TransferId id, TransferRequest request, net::Url url, EngineContext& context);
  ~Download();
  Download(const Download&) = delete;
  Download& operator=(const Download&) = delete;

  TransferId id() const { return id_; }
  bool finished() const { return phase_ == Phase::kFinished; }
  // How many connections it may run at once.
  int connection_budget() const { return max_connections_; }

  // Sends the first request.
  void begin();
  // curl reported `connection`'s request done (it is already out of the multi handle).
  void on_request_done(Connection& connection, CURLcode code);
  // Deferred work: new connections, due retries, stall checks, unpausing,
  // checkpoints, progress. `buffers_returned` says the pool has room again.
  void pump(Clock::time_point now, bool buffers_returned);
  // When pump() next needs to run even if no socket wakes the thread.
  Clock::time_point next_deadline(Clock::time_point now) const;
  void on_disk_event(const PartEvent& event);
  // Pause (keep = true) or cancel.
  void stop(bool keep);
  void set_rate_limit(std::uint64_t bytes_per_second);

  // libcurl callbacks, routed here by the engine.
  std::size_t on_header_line(Connection& connection, std::string_view line);
  std::size_t on_body_bytes(Connection& connection, const char* data, std::size_t size);

 private:
  enum class Phase {
    kProbing,            // waiting for the first body response
    kVerifyingExisting,  // the destination already holds a file of that size: hashing it
    kRunning,            // pieces flowing
    kFlushing,           // all bytes received; the disk pipeline hashes, verifies, renames
    kStopping,           // stopped or failed; waiting for the last checkpoint
    kFinished,           // on_finished was sent
  };

  // Checkpoints come every options.checkpoint_interval, and sooner (but
  // not within kMinCheckpointGap of the last) once a burst of bytes (a
  // quarter second's worth, at least kMinCheckpointBytes) is unrecorded.
  static constexpr std::chrono::milliseconds kMinCheckpointGap{100};
  static constexpr std::uint64_t kMinCheckpointBytes = 4u << 20;
  bool burst_unsaved() const;
  bool checkpoint_due(Clock::time_point now) const;

  Connection& add_connection();
  void start_request(Connection& c);
  bool accept_body_head(Connection& c, const HeadJudgement& j);
  bool adopt_remote(Connection& c, const HeadJudgement& j);
  bool claim_destination(Connection& c);
  void give_next_piece(Connection& c);
  PlannerLimits planner_limits() const;
  void spawn_connections();
  void check_all_received();
  void handle_failure(Connection& c, Error error,
                      std::optional<std::chrono::milliseconds> retry_after);
  void restart_from_zero(std::string why);
  void fail(Error error);
  // Ends every request; keeps or deletes the partial file, then reports `why`.
  void wind_down(Error why, bool keep);
  void finish(const Result<TransferResult>& result);
  void submit_buffer(Connection& c);
  bool has_live_connection_besides(const Connection& c) const;
  // True when the hasher has work and at least `kept_limit` buffers wait for it.
  bool hasher_behind(std::size_t kept_limit) const;
  // The link outran the hasher less than kHashLagMemory ago.
  static constexpr std::chrono::seconds kHashLagMemory{1};
  bool hasher_recently_behind(Clock::time_point now) const;
  // True when the hasher has work and `c` is further ahead of the hash
  // position than the kept buffers reach.
  bool beyond_hash_window(const Connection& c) const;
  void emit_progress(Clock::time_point now, bool force);
  TransferStage stage() const;
  std::string describe_failure(const Connection& c) const;

  const TransferId id_;
  TransferRequest request_;
  const net::Url origin_url_;  // as given; headers are scoped to its origin
  net::Url resolved_url_;      // after redirects; new pieces go here
  EngineContext& ctx_;
  Phase phase_ = Phase::kProbing;

  std::vector<std::unique_ptr<Connection>> connections_;
  int max_connections_ = 1;

  // The remote file, as the probe found it.
  std::optional<std::uint64_t> size_;
  Validator validator_;
  bool ranges_ok_ = false;

  std::filesystem::path destination_;
  bool destination_claimed_ = false;
  std::optional<ResumeState> resume_;
  std::shared_ptr<PartFile> part_;
  std::uint64_t epoch_ = 0;
  bool skip_existing_ = true;

  RangeSet received_;               // this epoch, including bytes kept from an earlier run
  std::vector<ByteRange> pending_;  // missing and not assigned to a connection
  std::uint64_t resumed_bytes_ = 0;
  int restarts_ = 0;
  double ttfb_seconds_ = 0;            // moving average of request start to first byte
  Clock::time_point hash_lag_seen_{};  // when the link last outran the hasher
  int reresolves_ = 0;

  TokenBucket bucket_;
  SpeedMeter speed_;
  std::string note_;
  std::string last_error_;  // the latest failure, for the give-up message
  Clock::time_point last_useful_byte_{};
  Clock::time_point last_progress_{};
  TransferStage last_stage_ = TransferStage::kConnecting;
  Clock::time_point last_checkpoint_{};
  std::uint64_t received_at_checkpoint_ = 0;  // received_.covered() then
  std::optional<Error> failure_;
  std::optional<Result<TransferResult>> finalized_;
};

}  // namespace haul::transfer
