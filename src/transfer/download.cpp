// One download's state machine. Three rules hold it together:
//  - curl callbacks only record what they saw in the Connection (and may
//    adopt the remote file on the probe); anything that touches other
//    connections waits for on_request_done() or pump(), which run outside
//    curl_multi_perform();
//  - bytes are written only for the current epoch (version of the remote
//    file); a changed file bumps the epoch and the writer drops stale buffers;
//  - a connection gives up only its own piece: the download fails when no
//    healthy connection is left.
#include "transfer/download.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "base/format.hpp"
#include "transfer/curl_error.hpp"
#include "transfer/file_name.hpp"
#include "transfer/segment_planner.hpp"

namespace haul::transfer {

namespace {

constexpr std::size_t kErrorBodyLimit = 2048;
constexpr int kMaxRedirects = 10;
constexpr int kMaxRestarts = 3;
constexpr int kMaxReresolves = 3;
constexpr long kCurlBufferSize = 512L * 1024;
constexpr std::uint64_t kSplitAlign = 64u << 10;
constexpr std::uint64_t kMaxPiece = 256u << 20;

std::size_t header_callback(char* data, std::size_t size, std::size_t count, void* user) {
  auto* c = static_cast<Connection*>(user);
  return c->download->on_header_line(*c, std::string_view(data, size * count));
}

std::size_t write_callback(char* data, std::size_t size, std::size_t count, void* user) {
  auto* c = static_cast<Connection*>(user);
  return c->download->on_body_bytes(*c, data, size * count);
}

// First line of an error body, printable and short: the JSON reason of an API,
// not an HTML page.
std::string body_excerpt(const std::string& body, std::string_view content_type) {
  if (content_type.find("json") == std::string_view::npos &&
      content_type.find("text/plain") == std::string_view::npos) {
    return "";
  }
  std::string line;
  for (char c : body) {
    if (c == '\n' || c == '\r') {
      if (!line.empty()) break;
      continue;
    }
    if (std::isprint(static_cast<unsigned char>(c))) line += c;
    if (line.size() >= 200) {
      line += "...";
      break;
    }
  }
  return line;
}

std::chrono::seconds whole_seconds(std::chrono::milliseconds ms) {
  return std::chrono::seconds((ms.count() + 999) / 1000);
}

}  // namespace

void SpeedMeter::sample(Clock::time_point now) {
  if (!samples_.empty() && now - samples_.back().first < std::chrono::milliseconds(100)) return;
  samples_.emplace_back(now, total_);
  while (samples_.size() > 2 && now - samples_.front().first > std::chrono::seconds(3)) samples_.pop_front();
}

double SpeedMeter::speed() const {
  if (samples_.size() < 2) return 0;
  const double seconds = std::chrono::duration<double>(samples_.back().first - samples_.front().first).count();
  if (seconds <= 0) return 0;
  return static_cast<double>(samples_.back().second - samples_.front().second) / seconds;
}

Download::Download(TransferId id, TransferRequest request, Url url, EngineContext& context)
    : id_(id),
      request_(std::move(request)),
      origin_url_(url),
      resolved_url_(std::move(url)),
      ctx_(context),
      bucket_(request_.rate_limit) {
  max_connections_ = std::clamp(request_.connections, 1, 64);
  skip_existing_ = request_.skip_existing;
}

Download::~Download() {
  for (auto& c : connections_) {
    if (c->in_multi) curl_multi_remove_handle(ctx_.multi, c->easy);
  }
  if (destination_claimed_) ctx_.destinations->erase(destination_);
}

Connection& Download::add_connection() {
  CURL* easy = curl_easy_init();
  auto owned = std::make_unique<Connection>(*this, easy);
  Connection* c = owned.get();
  curl_easy_setopt(easy, CURLOPT_PRIVATE, c);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, header_callback);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, c);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_callback);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, c);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, c->error_buffer.data());
  // Redirects are followed by hand so credentials never leave their origin.
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, ctx_.options->user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request_.retry.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE,
                   std::min<long>(kCurlBufferSize, static_cast<long>(ctx_.pool->buffer_size())));
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  connections_.push_back(std::move(owned));
  return *c;
}

void Download::begin() {
  const auto now = Clock::now();
  last_progress_ = now;
  last_checkpoint_ = now;
  last_useful_byte_ = now;
  if (!request_.output_file.empty()) {
    destination_ = request_.output_file;
    if (ctx_.destinations->count(destination_) != 0) {
      return finish(haul::fail(ErrorCode::kInvalidArgument,
                               destination_.string() + " is already being written by another download"));
    }
    ctx_.destinations->insert(destination_);
    destination_claimed_ = true;
    resume_ = load_resume_state(ctx_.disk->file_system(), destination_);
  }
  Connection& probe = add_connection();
  probe.probe = true;
  probe.url = origin_url_;
  probe.pos = 0;
  probe.end = kOpenEnd;
  if (resume_ && resume_->validator.size) {
    const auto missing = resume_->done.missing(*resume_->validator.size);
    if (!missing.empty()) probe.pos = missing.front().begin;
  }
  start_request(probe);
  emit_progress(now, true);
}

void Download::start_request(Connection& c) {
  c.head.reset();
  c.judged = false;
  c.outcome = RequestOutcome::kNone;
  c.error = {};
  c.retry_after.reset();
  c.may_reresolve = false;
  c.location.clear();
  c.error_body.clear();
  c.request_bytes = 0;
  c.error_buffer[0] = '\0';
  c.retry_at.reset();
  c.paused = PauseCause::kNone;
  c.last_activity = Clock::now();
  c.request_started = c.last_activity;
  c.request_end = c.probe ? kOpenEnd : c.end;

  curl_slist_free_all(c.header_list);
  c.header_list = nullptr;
  std::string range = "Range: bytes=" + std::to_string(c.pos) + "-";
  if (c.request_end != kOpenEnd) range += std::to_string(c.request_end - 1);
  c.header_list = curl_slist_append(c.header_list, range.c_str());
  // If-Range makes a changed file come back whole (200) instead of spliced.
  const Validator* known = phase_ == Phase::kProbing ? (resume_ ? &resume_->validator : nullptr) : &validator_;
  if (known != nullptr && c.pos > 0) {
    const std::string if_range = known->if_range();
    if (!if_range.empty()) c.header_list = curl_slist_append(c.header_list, ("If-Range: " + if_range).c_str());
  }
  if (c.url.origin() == origin_url_.origin()) {
    for (const std::string& header : request_.headers) c.header_list = curl_slist_append(c.header_list, header.c_str());
  }
  curl_easy_setopt(c.easy, CURLOPT_URL, c.url.text.c_str());
  curl_easy_setopt(c.easy, CURLOPT_HTTPHEADER, c.header_list);
  curl_multi_add_handle(ctx_.multi, c.easy);
  c.in_multi = true;
}

std::size_t Download::on_header_line(Connection& c, std::string_view line) {
  c.last_activity = Clock::now();
  if (c.judged) return line.size();  // trailers
  c.head.add_line(line);
  if (!c.head.complete()) return line.size();
  if (c.head.head().status < 200) {  // 100 Continue and friends
    c.head.reset();
    return line.size();
  }
  c.judged = true;
  const HeadJudgement j = judge_head(c.head.head(), c.pos, std::chrono::system_clock::now());
  switch (j.verdict) {
    case HeadVerdict::kRedirect:
      c.outcome = RequestOutcome::kRedirect;
      c.location = j.location;
      return 0;
    case HeadVerdict::kRestart:
      c.outcome = RequestOutcome::kRestart;
      c.error = j.error;
      return 0;
    case HeadVerdict::kRetry:
      c.outcome = RequestOutcome::kRetry;
      c.error = j.error;
      c.retry_after = j.retry_after;
      return line.size();  // the body may explain; keep its start
    case HeadVerdict::kFail:
      c.outcome = RequestOutcome::kFail;
      c.error = j.error;
      c.may_reresolve = j.may_reresolve;
      return line.size();
    case HeadVerdict::kBody:
      return accept_body_head(c, j) ? line.size() : 0;
  }
  return 0;
}

bool Download::accept_body_head(Connection& c, const HeadJudgement& j) {
  if (phase_ == Phase::kProbing) return adopt_remote(c, j);
  if (phase_ != Phase::kRunning) {
    c.outcome = RequestOutcome::kNotNeeded;
    return false;
  }
  if (!validator_.matches(j.validator) || (j.total && j.total != size_)) {
    c.outcome = RequestOutcome::kRestart;
    c.error = {ErrorCode::kProtocol, "the file changed on the server"};
    return false;
  }
  if (j.body_start != c.pos) {
    c.outcome = RequestOutcome::kRetry;
    c.error = {ErrorCode::kProtocol, "the server ignored the Range header (" + c.head.head().status_text() + ")",
               c.head.head().status};
    return false;
  }
  resolved_url_ = c.url;  // after a re-resolve the newest signed URL wins
  return true;
}

bool Download::claim_destination(Connection& c) {
  if (!destination_.empty()) return true;
  std::string name;
  if (auto disposition = c.head.head().get("content-disposition")) {
    if (auto raw = parse_content_disposition(*disposition)) name = sanitize_file_name(*raw);
  }
  // The original URL names the file better than a CDN's hashed path.
  if (name.empty()) name = file_name_from_url(origin_url_.text);
  if (name.empty()) name = file_name_from_url(c.url.text);
  if (name.empty()) name = "download";
  std::filesystem::path destination = request_.output_dir / name;
  if (ctx_.destinations->count(destination) != 0) {
    c.outcome = RequestOutcome::kFail;
    c.error = {ErrorCode::kInvalidArgument, destination.string() + " is already being written by another download"};
    return false;
  }
  destination_ = std::move(destination);
  ctx_.destinations->insert(destination_);
  destination_claimed_ = true;
  resume_ = load_resume_state(ctx_.disk->file_system(), destination_);
  return true;
}

bool Download::adopt_remote(Connection& c, const HeadJudgement& j) {
  if (!claim_destination(c)) return false;
  FileSystem& fs = ctx_.disk->file_system();
  if (!part_) part_ = std::make_shared<PartFile>(ctx_.disk->file_system_ptr(), id_, destination_);

  if (skip_existing_ && !resume_ && j.total) {
    auto existing = fs.file_size(destination_);
    if (existing && *existing == *j.total) {
      size_ = j.total;
      validator_ = j.validator;
      phase_ = Phase::kVerifyingExisting;
      if (request_.sha256) {
        ctx_.disk->verify_existing(part_);
      } else {
        finalized_ = TransferResult{destination_, *existing, "", true, 0};
      }
      c.outcome = RequestOutcome::kNotNeeded;
      return false;
    }
  }

  const bool changed = resume_ && !(resume_->validator.matches(j.validator) && resume_->validator.size == j.total);
  bool ranges = j.ranges_supported && j.total.has_value();
  // A 200 to a Range request for an unchanged file: the server ignores ranges.
  if (c.pos > 0 && j.body_start == 0 && !changed) ranges = false;

  RangeSet done;
  if (resume_ && !changed && ranges) done = resume_->done;
  resume_.reset();

  size_ = j.total;
  validator_ = j.validator;
  ranges_ok_ = ranges;
  if (!ranges_ok_) max_connections_ = 1;
  received_ = done;
  resumed_bytes_ = done.covered();
  pending_.clear();
  if (size_) pending_ = received_.missing(*size_);

  c.pos = j.body_start;
  c.probe = false;
  if (!size_) {
    c.end = kOpenEnd;
  } else {
    auto mine = std::find_if(pending_.begin(), pending_.end(),
                             [&](const ByteRange& r) { return r.begin == j.body_start; });
    if (mine == pending_.end()) {
      c.end = c.pos;
      c.outcome = RequestOutcome::kNotNeeded;  // these bytes are on disk already
    } else {
      // Without ranges this one response is the whole download.
      c.end = ranges_ok_ ? plan_next_piece(std::span<const ByteRange>(&*mine, 1), {}, planner_limits())->piece.end
                         : mine->end;
      mine->begin = c.end;
      if (mine->empty()) pending_.erase(mine);
    }
  }
  resolved_url_ = c.url;
  ctx_.disk->prepare(part_, PrepareSpec{++epoch_, size_, validator_, done});
  phase_ = Phase::kRunning;
  return c.outcome == RequestOutcome::kNone;
}

std::size_t Download::on_body_bytes(Connection& c, const char* data, std::size_t size) {
  if (c.outcome == RequestOutcome::kRetry || c.outcome == RequestOutcome::kFail) {
    const std::size_t room = kErrorBodyLimit - std::min(kErrorBodyLimit, c.error_body.size());
    c.error_body.append(data, std::min(room, size));
    return c.error_body.size() >= kErrorBodyLimit ? 0 : size;
  }
  if (c.outcome != RequestOutcome::kNone) return 0;
  c.last_activity = Clock::now();
  if (!bucket_.has_tokens() || !ctx_.global_bucket->has_tokens()) {
    c.paused = PauseCause::kRate;
    return CURL_WRITEFUNC_PAUSE;
  }
  // Only the connection extending the prefix may run ahead of a busy hasher.
  if (c.pos != received_.contiguous_end(0) && hasher_behind(ctx_.max_kept_buffers)) {
    hasher_was_behind_ = true;
    c.paused = PauseCause::kHashLag;
    submit_buffer(c);
    return CURL_WRITEFUNC_PAUSE;
  }

  std::size_t usable = c.end == kOpenEnd ? size : static_cast<std::size_t>(std::min<std::uint64_t>(size, c.end - c.pos));
  // Make room first: a paused callback gets the same bytes again later, so
  // nothing may be consumed before we know all of them fit.
  BufferRef fresh;
  if (usable > 0 && (!c.buffer || c.buffer->space() < usable)) {
    fresh = ctx_.pool->try_acquire();
    if (!fresh) {
      c.paused = PauseCause::kBuffers;
      submit_buffer(c);  // a waiting connection must not sit on memory others need
      return CURL_WRITEFUNC_PAUSE;
    }
  }
  const std::uint64_t start = c.pos;
  auto append = [&c](const char* bytes, std::size_t count) {
    std::copy_n(reinterpret_cast<const std::byte*>(bytes), count, c.buffer->data() + c.buffer->size);
    c.buffer->size += count;
    c.pos += count;
  };
  const char* cursor = data;
  std::size_t left = usable;
  if (fresh) {
    if (c.buffer) {
      const std::size_t fill = c.buffer->space();
      append(cursor, fill);
      cursor += fill;
      left -= fill;
      submit_buffer(c);
    }
    c.buffer = std::move(fresh);
    c.buffer->reset(c.pos, epoch_);
  }
  if (left > 0) append(cursor, left);
  if (c.buffer && c.buffer->space() == 0) submit_buffer(c);

  received_.add({start, c.pos});
  if (usable > 0) last_useful_byte_ = c.last_activity;
  bucket_.consume(usable);
  ctx_.global_bucket->consume(usable);
  speed_.add(usable);
  if (c.request_bytes == 0 && usable > 0) {
    c.failures = 0;  // a useful byte ends a run of failures
    reresolves_ = 0;
    note_.clear();
    const double ttfb = std::chrono::duration<double>(c.last_activity - c.request_started).count();
    ttfb_seconds_ = ttfb_seconds_ == 0 ? ttfb : 0.75 * ttfb_seconds_ + 0.25 * ttfb;
  }
  c.request_bytes += usable;

  if (c.end != kOpenEnd && c.pos >= c.end) {
    submit_buffer(c);
    c.outcome = RequestOutcome::kPieceDone;
    // Cut the response off when it would go past the piece (after a split);
    // a response that ends here anyway keeps its connection for reuse.
    const std::uint64_t response_end = c.request_end == kOpenEnd ? size_.value_or(kOpenEnd) : c.request_end;
    return (usable < size || response_end != c.end) ? 0 : size;
  }
  return size;
}

void Download::submit_buffer(Connection& c) {
  if (c.buffer && c.buffer->size > 0 && part_) ctx_.disk->write(part_, std::move(c.buffer));
  c.buffer.reset();
}

void Download::on_request_done(Connection& c, CURLcode code) {
  c.in_multi = false;
  c.paused = PauseCause::kNone;
  if (phase_ == Phase::kStopping || phase_ == Phase::kFinished) return;
  if (c.outcome == RequestOutcome::kRestart) return restart_from_zero(c.error.message);
  submit_buffer(c);  // whatever arrived is good data of this version

  switch (c.outcome) {
    case RequestOutcome::kPieceDone:
    case RequestOutcome::kNotNeeded:
      if (phase_ == Phase::kVerifyingExisting) {
        if (finalized_) finish(std::move(*finalized_));
        return;
      }
      c.pos = c.end;
      return give_next_piece(c);
    case RequestOutcome::kRedirect: {
      if (++c.redirects > kMaxRedirects) {
        return fail(Error{ErrorCode::kProtocol, "more than " + std::to_string(kMaxRedirects) + " redirects"});
      }
      auto next = resolve_location(c.url, c.location);
      if (!next) return fail(next.error());
      c.url = std::move(*next);
      return start_request(c);
    }
    case RequestOutcome::kRetry:
      return handle_failure(c, Error{c.error.code, describe_failure(c), c.error.http_status}, c.retry_after);
    case RequestOutcome::kFail:
      if (c.may_reresolve && c.url.text != origin_url_.text && reresolves_ < kMaxReresolves) {
        // A signed CDN URL expired mid-download: ask the origin for a fresh one.
        ++reresolves_;
        note_ = c.head.head().status_text() + " from the redirect target; resolving the URL again";
        c.url = origin_url_;
        c.redirects = 0;
        return start_request(c);
      }
      return fail(Error{c.error.code, describe_failure(c), c.error.http_status});
    case RequestOutcome::kRestart:
    case RequestOutcome::kNone:
      break;
  }

  if (code == CURLE_OK) {
    if (c.end == kOpenEnd) {  // length unknown: the body's end is the file's end
      size_ = c.pos;
      c.end = c.pos;
      return check_all_received();
    }
    if (c.pos >= c.end) return give_next_piece(c);
    return handle_failure(c,
                          Error{ErrorCode::kUnavailable, "the connection closed " + format_bytes(c.end - c.pos) +
                                                             " before the end of the range"},
                          std::nullopt);
  }
  handle_failure(c, error_from_curl(code, c.error_buffer.data()), std::nullopt);
}

std::string Download::describe_failure(const Connection& c) const {
  std::string message = c.error.message;
  const std::string excerpt = body_excerpt(c.error_body, c.head.head().get("content-type").value_or(""));
  // A body that only repeats the status ("Not Found") adds nothing.
  const std::string& reason = c.head.head().reason;
  if (!excerpt.empty() && excerpt != reason && excerpt != c.head.head().status_text()) message += ": " + excerpt;
  return message;
}

bool Download::hasher_behind(std::size_t kept_limit) const {
  // The hasher has hashable bytes waiting and the memory kept for it is
  // (nearly) full: bytes fetched further ahead would have to be read back
  // from disk. A hasher that merely waits for a gap is never "behind".
  if (!part_ || ctx_.max_kept_buffers == 0) return false;
  return ctx_.disk->kept_buffers() >= kept_limit &&
         part_->written_prefix.load(std::memory_order_relaxed) > part_->hashed_mark.load(std::memory_order_relaxed);
}

bool Download::has_live_connection_besides(const Connection& c) const {
  return std::any_of(connections_.begin(), connections_.end(), [&](const auto& other) {
    return other.get() != &c && other->busy() && other->failures == 0;
  });
}

void Download::handle_failure(Connection& c, Error error, std::optional<std::chrono::milliseconds> retry_after) {
  ++c.failures;
  last_error_ = error.message;
  const RetryPolicy& policy = request_.retry;
  if (retry_after && *retry_after > policy.max_retry_after) {
    error.message += "; the server asks to retry in " + format_duration(whole_seconds(*retry_after));
    return fail(std::move(error));
  }
  if (error.code != ErrorCode::kUnavailable && error.code != ErrorCode::kProtocol) return fail(std::move(error));
  if (c.failures >= policy.max_attempts) {
    if (has_live_connection_besides(c)) {
      // Others still make progress: hand the piece back rather than fail.
      if (c.pos < c.end) pending_.push_back({c.pos, c.end});
      c.retired = true;
      c.end = c.pos;
      max_connections_ = std::max(1, max_connections_ - 1);
      note_ = "dropped a connection: " + error.message;
      return;
    }
    error.message += " (gave up after " + std::to_string(c.failures) + " attempts)";
    return fail(std::move(error));
  }
  if (phase_ == Phase::kRunning && !ranges_ok_ && c.pos > 0) {
    // Without ranges the only way to continue is from the start.
    received_.clear();
    c.pos = 0;
    ctx_.disk->prepare(part_, PrepareSpec{++epoch_, size_, validator_, {}});
  }
  std::uniform_real_distribution<double> draw(0.0, 1.0);
  const auto delay = backoff_delay(policy.backoff, c.failures + 1, draw(*ctx_.rng), retry_after);
  c.retry_at = Clock::now() + delay;
  note_ = error.message + ", retrying in " + format_duration(whole_seconds(delay));
}

void Download::give_next_piece(Connection& c) {
  if (phase_ != Phase::kRunning || c.retired) return;
  std::vector<ActiveSegment> active;
  std::vector<Connection*> owners;
  for (auto& other : connections_) {
    if (other.get() != &c && other->busy()) {
      active.push_back({other->pos, other->end});
      owners.push_back(other.get());
    }
  }
  auto plan = plan_next_piece(pending_, active, planner_limits());
  if (!plan) {
    c.pos = c.end;  // idle
    return check_all_received();
  }
  if (plan->split_segment) owners[*plan->split_segment]->end = plan->piece.begin;
  if (plan->pending_index) {
    ByteRange& source = pending_[*plan->pending_index];
    source.begin = plan->piece.end;
    if (source.empty()) pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(*plan->pending_index));
  }
  c.pos = plan->piece.begin;
  c.end = plan->piece.end;
  c.url = resolved_url_;
  c.redirects = 0;
  start_request(c);
}

void Download::spawn_connections() {
  if (phase_ != Phase::kRunning || !ranges_ok_) return;
  for (auto& c : connections_) {
    if (!c->retired && !c->busy() && !c->in_multi && !pending_.empty()) give_next_piece(*c);
    if (phase_ != Phase::kRunning) return;
  }
  while (true) {
    const auto live = std::count_if(connections_.begin(), connections_.end(),
                                    [](const auto& c) { return !c->retired; });
    if (live >= max_connections_) return;
    std::vector<ActiveSegment> active;
    for (auto& c : connections_) {
      if (c->busy()) active.push_back({c->pos, c->end});
    }
    if (!plan_next_piece(pending_, active, planner_limits())) return;
    Connection& c = add_connection();
    c.url = resolved_url_;
    give_next_piece(c);
    if (phase_ != Phase::kRunning) return;
  }
}

PlannerLimits Download::planner_limits() const {
  // Until speed and latency are known, pieces are four minimum pieces.
  PlannerLimits limits{ctx_.options->min_piece, kSplitAlign, 4 * ctx_.options->min_piece};
  const auto flowing = std::count_if(connections_.begin(), connections_.end(),
                                     [](const auto& c) { return c->in_multi && c->request_bytes > 0; });
  const double per_connection = speed_.speed() / static_cast<double>(std::max<std::ptrdiff_t>(1, flowing));
  if (per_connection > 0 && ttfb_seconds_ > 0) {
    // A new request leaves its connection idle for about one time-to-first-
    // byte; pieces lasting ~25 of those keep that under 4 %, while small
    // pieces keep the bytes on disk close to one contiguous, hashable prefix.
    const double bytes = per_connection * 25 * ttfb_seconds_;
    limits.piece_size = static_cast<std::uint64_t>(
        std::clamp(bytes, static_cast<double>(limits.min_piece), static_cast<double>(kMaxPiece)));
  }
  if (hasher_was_behind_) {
    // The link outruns the hasher: one round of pieces must fit in the
    // buffers kept for it, or the bytes get read back from disk.
    const std::uint64_t kept = ctx_.max_kept_buffers * ctx_.pool->buffer_size();
    const auto live = std::max<std::ptrdiff_t>(1, std::count_if(connections_.begin(), connections_.end(),
                                                                [](const auto& c) { return !c->retired; }));
    limits.piece_size = std::min(limits.piece_size, std::max(limits.min_piece, kept / static_cast<std::uint64_t>(live)));
  }
  return limits;
}

void Download::check_all_received() {
  if (phase_ != Phase::kRunning || !pending_.empty()) return;
  for (auto& c : connections_) {
    if (c->busy()) return;
  }
  if (size_ && received_.covered() != *size_) {
    // Every connection is idle yet bytes are missing (a retired piece raced a
    // finishing one): put them back and let pump() hand them out.
    pending_ = received_.missing(*size_);
    return;
  }
  phase_ = Phase::kFlushing;
  ctx_.disk->finish(part_, request_.sha256);
}

void Download::restart_from_zero(std::string why) {
  // `why` is taken by value: it often lives in a connection cleared below.
  if (++restarts_ > kMaxRestarts) {
    return fail(Error{ErrorCode::kProtocol, "the file kept changing on the server (" + why + ")"});
  }
  for (auto& c : connections_) {
    if (c->in_multi) curl_multi_remove_handle(ctx_.multi, c->easy);
    c->in_multi = false;
  }
  connections_.clear();
  received_.clear();
  pending_.clear();
  size_.reset();
  validator_ = {};
  ranges_ok_ = false;
  resume_.reset();
  max_connections_ = std::clamp(request_.connections, 1, 64);
  phase_ = Phase::kProbing;
  note_ = why + "; starting over";
  Connection& probe = add_connection();
  probe.probe = true;
  probe.url = origin_url_;
  probe.pos = 0;
  probe.end = kOpenEnd;
  start_request(probe);
}

void Download::fail(Error error) {
  // Bytes already received stay on disk for a later resume.
  wind_down(std::move(error), received_.covered() > 0);
}

void Download::stop(bool keep) {
  wind_down(Error{ErrorCode::kCancelled, keep ? "paused" : "cancelled"}, keep);
}

void Download::wind_down(Error why, bool keep) {
  if (phase_ == Phase::kStopping || phase_ == Phase::kFinished) return;
  failure_ = std::move(why);
  for (auto& c : connections_) {
    if (c->in_multi) curl_multi_remove_handle(ctx_.multi, c->easy);
    c->in_multi = false;
    if (keep) {
      submit_buffer(*c);
    } else {
      c->buffer.reset();
    }
  }
  if (!part_) return finish(haul::fail(*failure_));
  phase_ = Phase::kStopping;
  ctx_.disk->stop(part_, keep);  // on_disk_event(kClosed) finishes
}

void Download::finish(Result<TransferResult> result) {
  if (phase_ == Phase::kFinished) return;
  phase_ = Phase::kFinished;
  emit_progress(Clock::now(), true);
  if (destination_claimed_) {
    ctx_.destinations->erase(destination_);
    destination_claimed_ = false;
  }
  ctx_.observer->on_finished(id_, result);
}

void Download::on_disk_event(const PartEvent& event) {
  switch (event.kind) {
    case PartEvent::Kind::kFailed:
      if (phase_ != Phase::kStopping && phase_ != Phase::kFinished) fail(event.result.error());
      return;
    case PartEvent::Kind::kFinalized:
      if (phase_ == Phase::kFinished) return;
      if (event.result) {
        TransferResult done{destination_, event.result->size, event.result->sha256, false, resumed_bytes_};
        if (phase_ == Phase::kStopping) {
          finalized_ = std::move(done);  // it completed before the stop reached the disk
          return;
        }
        return finish(std::move(done));
      }
      if (phase_ != Phase::kStopping) finish(haul::fail(event.result.error()));
      return;
    case PartEvent::Kind::kClosed:
      if (finalized_) return finish(std::move(*finalized_));
      return finish(haul::fail(failure_.value_or(Error{ErrorCode::kCancelled, "stopped"})));
    case PartEvent::Kind::kVerified:
      if (phase_ != Phase::kVerifyingExisting) return;
      if (event.result && request_.sha256 && event.result->sha256 == *request_.sha256) {
        return finish(TransferResult{destination_, event.result->size, event.result->sha256, true, 0});
      }
      // The file there is not the one asked for: fetch it and replace it.
      skip_existing_ = false;
      phase_ = Phase::kProbing;
      note_ = event.result ? "the existing file does not match the sha256; downloading again"
                           : event.result.error().message + "; downloading again";
      for (auto& c : connections_) {
        if (c->in_multi) curl_multi_remove_handle(ctx_.multi, c->easy);
      }
      connections_.clear();
      {
        Connection& probe = add_connection();
        probe.probe = true;
        probe.url = origin_url_;
        probe.pos = 0;
        probe.end = kOpenEnd;
        start_request(probe);
      }
      return;
  }
}

void Download::set_rate_limit(std::uint64_t bytes_per_second) {
  bucket_.set_rate(bytes_per_second, Clock::now());
}

void Download::pump(Clock::time_point now, bool buffers_returned) {
  if (phase_ == Phase::kFinished || phase_ == Phase::kStopping) return;
  bucket_.refill(now);
  speed_.sample(now);
  const bool tokens = bucket_.has_tokens() && ctx_.global_bucket->has_tokens();
  const bool hasher_caught_up = !hasher_behind(ctx_.max_kept_buffers / 2);
  for (std::size_t i = 0; i < connections_.size(); ++i) {
    Connection& c = *connections_[i];
    if (!c.in_multi) continue;
    if ((c.paused == PauseCause::kRate && tokens) || (c.paused == PauseCause::kBuffers && buffers_returned) ||
        (c.paused == PauseCause::kHashLag && hasher_caught_up)) {
      c.paused = PauseCause::kNone;
      c.last_activity = now;
      curl_easy_pause(c.easy, CURLPAUSE_CONT);
      continue;
    }
    if (c.paused == PauseCause::kNone && now - c.last_activity > request_.retry.stall_timeout) {
      curl_multi_remove_handle(ctx_.multi, c.easy);
      c.in_multi = false;
      submit_buffer(c);
      handle_failure(c,
                     Error{ErrorCode::kUnavailable,
                           "stalled: no data for " +
                               format_duration(std::chrono::duration_cast<std::chrono::seconds>(
                                   request_.retry.stall_timeout))},
                     std::nullopt);
      if (phase_ == Phase::kStopping || phase_ == Phase::kFinished) return;
    }
  }
  for (std::size_t i = 0; i < connections_.size(); ++i) {
    Connection& c = *connections_[i];
    if (c.retry_at && *c.retry_at <= now && !c.in_multi && !c.retired) {
      c.retry_at.reset();
      if (c.busy()) start_request(c);
    }
  }
  const auto idle = now - last_useful_byte_;
  if (request_.retry.give_up_after.count() > 0 && idle > request_.retry.give_up_after &&
      (phase_ == Phase::kProbing || phase_ == Phase::kRunning)) {
    const std::string quiet_for =
        "no data for " + format_duration(std::chrono::duration_cast<std::chrono::seconds>(idle)) + ", giving up";
    return fail(Error{ErrorCode::kUnavailable,
                      last_error_.empty() ? quiet_for : last_error_ + " (" + quiet_for + ")"});
  }
  if (phase_ == Phase::kRunning) {
    spawn_connections();
    if (part_ && now - last_checkpoint_ >= ctx_.options->checkpoint_interval) {
      ctx_.disk->checkpoint(part_);
      last_checkpoint_ = now;
    }
  }
  emit_progress(now, false);
}

Download::Clock::time_point Download::next_deadline(Clock::time_point now) const {
  auto deadline = now + std::chrono::seconds(1);
  if (phase_ == Phase::kFinished || phase_ == Phase::kStopping) return deadline;
  deadline = std::min(deadline, last_progress_ + ctx_.options->progress_interval);
  if (phase_ == Phase::kRunning) deadline = std::min(deadline, last_checkpoint_ + ctx_.options->checkpoint_interval);
  for (const auto& c : connections_) {
    if (c->retry_at) deadline = std::min(deadline, *c->retry_at);
    if (c->in_multi && c->paused == PauseCause::kHashLag) deadline = std::min(deadline, now + std::chrono::milliseconds(2));
    if (c->in_multi && c->paused == PauseCause::kRate) {
      const auto wait = std::max({bucket_.wait_time(), ctx_.global_bucket->wait_time(), std::chrono::milliseconds(1)});
      deadline = std::min(deadline, now + wait);
    }
  }
  return std::max(deadline, now);
}

TransferStage Download::stage() const {
  auto waiting = [this] {
    bool any_waiting = false;
    for (const auto& c : connections_) {
      if (c->in_multi) return false;
      any_waiting = any_waiting || c->retry_at.has_value();
    }
    return any_waiting;
  };
  switch (phase_) {
    case Phase::kProbing: return waiting() ? TransferStage::kRetrying : TransferStage::kConnecting;
    case Phase::kRunning: return waiting() ? TransferStage::kRetrying : TransferStage::kDownloading;
    case Phase::kVerifyingExisting:
    case Phase::kFlushing: return TransferStage::kVerifying;
    case Phase::kStopping:
    case Phase::kFinished: return TransferStage::kDone;
  }
  return TransferStage::kDone;
}

void Download::emit_progress(Clock::time_point now, bool force) {
  const TransferStage current = stage();
  if (!force && current == last_stage_ && now - last_progress_ < ctx_.options->progress_interval) return;
  last_progress_ = now;
  last_stage_ = current;
  TransferProgress p;
  p.id = id_;
  p.destination = destination_;
  p.stage = current;
  p.bytes_done = received_.covered();
  p.resumed_bytes = resumed_bytes_;
  p.total = size_;
  p.speed = current == TransferStage::kDownloading ? speed_.speed() : 0;
  if (size_ && p.speed > 0 && *size_ >= p.bytes_done) {
    p.eta = std::chrono::seconds(static_cast<long long>(std::ceil(static_cast<double>(*size_ - p.bytes_done) / p.speed)));
  }
  p.connections = static_cast<int>(std::count_if(connections_.begin(), connections_.end(),
                                                 [](const auto& c) { return c->in_multi; }));
  p.note = note_;
  ctx_.observer->on_progress(p);
}

}  // namespace haul::transfer
