// The transfer engine: downloads http(s) URLs to files, many at once, each
// over up to N connections, with resume, throttling, inline SHA-256 and an
// atomic finalize. See docs/design/transfer.md.
//
// Threading: the engine owns one network thread (curl_multi_poll) and three
// disk threads (see disk_pipeline.hpp). Public methods are thread-safe and
// never block on the network or the disk. Observer callbacks run on the
// network thread: they must be quick and must not call back into the engine
// synchronously (post the work elsewhere, as the daemon does with its io_context).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/backoff.hpp"
#include "base/error.hpp"
#include "transfer/file_system.hpp"

namespace haul::transfer {

using TransferId = std::uint64_t;

struct RetryPolicy {
  int max_attempts = 5;  // per connection, counted from its last useful byte
  BackoffPolicy backoff{};
  std::chrono::milliseconds stall_timeout{30'000};  // no byte for this long: reconnect
  std::chrono::milliseconds connect_timeout{10'000};
  // A Retry-After longer than this fails the download instead of waiting.
  std::chrono::milliseconds max_retry_after{120'000};
  // Fail when no byte arrived for this long, whatever the attempts left
  // (zero: never). Interactive use wants an answer within about a minute.
  std::chrono::milliseconds give_up_after{0};
  // For callers that retry whole attempts themselves (the daemon's jobs): a
  // request that fails before its first byte is not tried again in place, so
  // a server refusing every time gets one request per attempt. A connection
  // that was receiving still resumes at once.
  bool retry_only_after_data = false;
};

struct TransferRequest {
  std::string url;
  // Exactly one of these: a file path, or a directory where the server (or
  // the URL) names the file.
  std::filesystem::path output_file;
  std::filesystem::path output_dir;
  // "Name: value" lines, sent only to the URL's own origin, never across a redirect.
  std::vector<std::string> headers;
  std::optional<std::string> sha256;  // expected digest, lower-case hex
  // Expected git blob id (a small Hugging Face file has no SHA-256), checked
  // like the SHA-256: computed while the bytes arrive, before the rename.
  std::string git_blob_sha1;
  // S3: every request to the URL's origin is signed by libcurl
  // (CURLOPT_AWS_SIGV4 with `aws_sigv4` as provider, e.g. "aws:amz:us-east-1:s3",
  // and "key:secret" as credentials). Headers it must sign (x-amz-content-sha256,
  // x-amz-security-token) go in `headers`.
  std::string aws_sigv4;
  std::string aws_credentials;
  // Sent as If-Match to the URL's origin: a server answering 412 changed the
  // file since it was resolved (S3 ETags).
  std::string if_match;
  int connections = 8;
  std::uint64_t rate_limit = 0;  // bytes/s for this download; 0 = none
  RetryPolicy retry{};
  // When the destination already holds a file of the remote size, do not
  // fetch it again (and verify it when sha256 is set).
  bool skip_existing = true;
};

// A request header as `-H` takes it: "Name: value" on one line. Errors:
// kInvalidArgument naming the header. Pure; Engine::start checks it too.
Result<void> check_header(std::string_view header);

enum class TransferStage {
  kConnecting,   // waiting for the first response
  kDownloading,  // bytes are flowing
  kRetrying,     // every connection is waiting out a backoff
  kVerifying,    // all bytes received; hashing and flushing
  kDone,
};

struct TransferProgress {
  TransferId id = 0;
  std::filesystem::path destination;  // empty until the server named the file
  TransferStage stage = TransferStage::kConnecting;
  std::uint64_t bytes_done = 0;        // includes bytes kept from an earlier run
  std::uint64_t resumed_bytes = 0;     // of bytes_done, how many came from an earlier run
  std::optional<std::uint64_t> total;  // unknown for chunked responses
  double speed = 0;                    // bytes/s over the last few seconds
  std::optional<std::chrono::seconds> eta;
  int connections = 0;
  std::string note;  // the last retry reason, e.g. "503 Service Unavailable, retrying in 2s"
};

struct TransferResult {
  std::filesystem::path destination;
  std::uint64_t size = 0;
  std::string sha256;            // lower-case hex of the whole file
  bool already_present = false;  // the file was there already; nothing was fetched
  std::uint64_t resumed_bytes = 0;
};

class TransferObserver {
 public:
  virtual ~TransferObserver() = default;
  // At most every progress_interval per transfer, plus on stage changes.
  virtual void on_progress(const TransferProgress& progress) = 0;
  // Exactly once per started transfer. A stopped transfer ends with kCancelled.
  virtual void on_finished(TransferId id, const Result<TransferResult>& result) = 0;
};

struct EngineOptions {
  std::shared_ptr<FileSystem> file_system;  // null = the real one
  std::uint64_t global_rate_limit = 0;      // bytes/s over every transfer; 0 = none
  std::size_t buffer_size = 512u << 10;     // disk write size
  // Memory: the pool holds what the running downloads can use (see
  // Engine::size_pool), never more than max_buffers over all of them.
  std::size_t max_buffers = 48;
  // Buffers kept in memory for the hashers, over all files; bytes beyond
  // them go through the page cache and are read back from there.
  std::size_t hash_buffers = 16;
  // How often the bytes on disk are fdatasync'ed and recorded in the resume
  // state, partly filled buffers included: what a SIGKILL costs at most.
  std::chrono::milliseconds checkpoint_interval{500};
  std::chrono::milliseconds progress_interval{250};
  std::string user_agent;  // default "haul/VERSION"
  // No split of a running piece makes one smaller than this (a cut-off
  // response wastes what is in flight); pieces sized for the hasher go to 1 MiB.
  std::uint64_t min_piece = 4ull << 20;
  bool direct_io = true;  // O_DIRECT writes where the filesystem allows
};

class Engine {
 public:
  // Errors: kInternal when libcurl cannot be initialised.
  static Result<std::unique_ptr<Engine>> create(EngineOptions options, TransferObserver& observer);
  // Stops every transfer, keeping partial files for a resume, and joins.
  virtual ~Engine() = default;

  // Validates the request and queues it. Errors (kInvalidArgument) are
  // returned here, not through the observer.
  virtual Result<TransferId> start(TransferRequest request) = 0;
  // Stops a transfer: keep_partial leaves .part and its state for a resume
  // (pause), otherwise both are deleted (cancel). on_finished follows with
  // kCancelled. Unknown or finished ids are ignored.
  virtual void stop(TransferId id, bool keep_partial) = 0;
  virtual void set_global_rate_limit(std::uint64_t bytes_per_second) = 0;
};

}  // namespace haul::transfer
