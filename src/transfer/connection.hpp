// One libcurl easy handle working for one download: it fetches one byte range
// (a piece) at a time and is reused for the next, so the TCP/TLS connection
// stays warm. Internal to the engine; network thread only.
#pragma once

#include <curl/curl.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "net/http_head.hpp"
#include "net/url.hpp"
#include "transfer/buffer_pool.hpp"

namespace haul::transfer {

class Download;

inline constexpr std::uint64_t kOpenEnd = std::numeric_limits<std::uint64_t>::max();

// Why a request ended early or what its head said; read when curl reports it done.
enum class RequestOutcome {
  kNone,       // still running, or ended on its own (see the curl code)
  kPieceDone,  // every byte of the piece arrived; the rest was cut off on purpose
  kNotNeeded,  // the download needs nothing from this request (already on disk)
  kRedirect,   // follow `location`
  kRetry,      // transient failure in `error`
  kRestart,    // the remote file changed: start the download over
  kFail,       // permanent failure in `error`
};

enum class PauseCause {
  kNone,
  kRate,     // a speed cap is used up
  kBuffers,  // the buffer pool is empty (the disk is behind)
  kHashLag,  // the hasher is behind: fetching further ahead would only evict
};

struct Connection {
  using Clock = std::chrono::steady_clock;

  Connection(Download& owner, CURL* handle) : download(&owner), easy(handle) {}
  ~Connection() {
    curl_slist_free_all(header_list);
    curl_easy_cleanup(easy);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // True while the connection owns a piece (running or waiting to retry).
  bool busy() const { return !retired && pos < end; }

  Download* download;
  CURL* easy;
  curl_slist* header_list = nullptr;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};

  // The piece: bytes [pos, end) are still to come. request_end is what the
  // Range header asked for; a split can pull `end` below it.
  std::uint64_t pos = 0;
  std::uint64_t end = 0;
  std::uint64_t request_end = kOpenEnd;
  bool probe = false;  // the download's first request: learns size, name, version
  net::Url url;        // where the current request goes
  int redirects = 0;

  // State of the current request.
  bool in_multi = false;
  PauseCause paused = PauseCause::kNone;
  net::ResponseHeadBuilder head;
  bool judged = false;
  RequestOutcome outcome = RequestOutcome::kNone;
  Error error{};
  std::optional<std::chrono::milliseconds> retry_after;
  bool may_reresolve = false;
  std::string location;
  std::string error_body;  // the first bytes of an error response, for the message
  std::uint64_t request_bytes = 0;
  Clock::time_point request_started{};
  Clock::time_point last_activity{};
  BufferRef buffer;  // being filled; goes to the writer when full

  // Retry bookkeeping.
  int failures = 0;  // consecutive failed requests without a useful byte
  std::optional<Clock::time_point> retry_at;
  bool retired = false;  // gave up; its piece went back to the pending list
};

}  // namespace haul::transfer
