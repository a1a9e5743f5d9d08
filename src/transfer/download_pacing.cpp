// A download's pacing: which piece a connection fetches next, when
// connections start, retry, stall, pause and resume, and progress reports.
// Network thread only.
#include <algorithm>
#include <cmath>

#include "base/format.hpp"
#include "transfer/download.hpp"

namespace haul::transfer {

namespace {
constexpr std::uint64_t kSplitAlign = 64u << 10;
constexpr std::uint64_t kMaxPiece = 256u << 20;
// Pieces sized to fit the hasher's buffers go no smaller than this.
constexpr std::uint64_t kMinHashPiece = 1u << 20;
}  // namespace

void SpeedMeter::sample(Clock::time_point now) {
  if (!samples_.empty() && now - samples_.back().first < std::chrono::milliseconds(100)) return;
  samples_.emplace_back(now, total_);
  while (samples_.size() > 2 && now - samples_.front().first > std::chrono::seconds(3))
    samples_.pop_front();
}

double SpeedMeter::speed() const {
  if (samples_.size() < 2) return 0;
  const double seconds =
      std::chrono::duration<double>(samples_.back().first - samples_.front().first).count();
  if (seconds <= 0) return 0;
  return static_cast<double>(samples_.back().second - samples_.front().second) / seconds;
}

bool Download::hasher_behind(std::size_t kept_limit) const {
  // The hasher has hashable bytes waiting and the memory kept for it is
  // (nearly) full: bytes fetched further ahead would have to be read back
  // from disk. A hasher that merely waits for a gap is never "behind".
  if (!part_ || ctx_.max_kept_buffers == 0) return false;
  return ctx_.disk->kept_buffers() >= kept_limit &&
         part_->written_prefix.load(std::memory_order_relaxed) >
             part_->hashed_mark.load(std::memory_order_relaxed);
}

bool Download::hasher_recently_behind(Clock::time_point now) const {
  return hash_lag_seen_ != Clock::time_point{} && now - hash_lag_seen_ < kHashLagMemory;
}

bool Download::beyond_hash_window(const Connection& c) const {
  // While the link outruns the hasher (it has work waiting), a connection
  // stays within the bytes the hasher can keep in memory: what it fetches
  // beyond them would go through the page cache and cost a second copy for
  // nothing. A hasher waiting for a slow connection holds nobody back.
  if (!part_ || ctx_.max_kept_buffers == 0 || !hasher_recently_behind(c.last_activity))
    return false;
  const std::uint64_t hashed = part_->hashed_mark.load(std::memory_order_relaxed);
  return part_->written_prefix.load(std::memory_order_relaxed) > hashed &&
         c.pos > hashed + ctx_.max_kept_buffers * ctx_.pool->buffer_size();
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
    if (source.empty())
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(*plan->pending_index));
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
  const auto flowing = std::count_if(connections_.begin(), connections_.end(), [](const auto& c) {
    return c->in_multi && c->request_bytes > 0;
  });
  const double per_connection =
      speed_.speed() / static_cast<double>(std::max<std::ptrdiff_t>(1, flowing));
  if (per_connection > 0 && ttfb_seconds_ > 0) {
    // A new request leaves its connection idle for about one time-to-first-
    // byte; pieces lasting ~25 of those keep that under 4 %, while small
    // pieces keep the bytes on disk close to one contiguous, hashable prefix.
    const double bytes = per_connection * 25 * ttfb_seconds_;
    limits.piece_size = static_cast<std::uint64_t>(
        std::clamp(bytes, static_cast<double>(limits.min_piece), static_cast<double>(kMaxPiece)));
  }
  if (hasher_recently_behind(Clock::now())) {
    // The link outruns the hasher: one round of pieces must fit in the
    // buffers kept for it, or the bytes get read back from the page cache.
    const std::uint64_t kept = ctx_.max_kept_buffers * ctx_.pool->buffer_size();
    const auto live =
        std::max<std::ptrdiff_t>(1, std::count_if(connections_.begin(), connections_.end(),
                                                  [](const auto& c) { return !c->retired; }));
    limits.piece_size = std::min(limits.piece_size,
                                 std::max(kMinHashPiece, kept / static_cast<std::uint64_t>(live)));
  }
  return limits;
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
  for (auto& connection : connections_) {
    Connection& c = *connection;
    if (!c.in_multi) continue;
    if ((c.paused == PauseCause::kRate && tokens) ||
        (c.paused == PauseCause::kBuffers && buffers_returned) ||
        (c.paused == PauseCause::kHashLag && hasher_caught_up && !beyond_hash_window(c))) {
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
  for (auto& connection : connections_) {
    Connection& c = *connection;
    if (c.retry_at && *c.retry_at <= now && !c.in_multi && !c.retired) {
      c.retry_at.reset();
      if (c.busy()) start_request(c);
    }
  }
  const auto idle = now - last_useful_byte_;
  if (request_.retry.give_up_after.count() > 0 && idle > request_.retry.give_up_after &&
      (phase_ == Phase::kProbing || phase_ == Phase::kRunning)) {
    const std::string quiet_for =
        "no data for " + format_duration(std::chrono::duration_cast<std::chrono::seconds>(idle)) +
        ", giving up";
    return fail(Error{ErrorCode::kUnavailable,
                      last_error_.empty() ? quiet_for : last_error_ + " (" + quiet_for + ")"});
  }
  if (phase_ == Phase::kRunning) {
    spawn_connections();
    if (part_ && checkpoint_due(now)) {
      // A slow connection takes seconds to fill a buffer: hand over what it
      // holds, or a SIGKILL would cost those bytes on top of the interval.
      for (auto& connection : connections_) submit_buffer(*connection);
      ctx_.disk->checkpoint(part_);
      last_checkpoint_ = now;
      received_at_checkpoint_ = received_.covered();
    }
  }
  emit_progress(now, false);
}

bool Download::burst_unsaved() const {
  // A server that rate-limits in bursts (nginx sends a second's worth at
  // once) would otherwise leave up to a second of bytes unrecorded.
  const auto threshold = std::max<std::uint64_t>(kMinCheckpointBytes,
                                                 static_cast<std::uint64_t>(speed_.speed() * 0.25));
  return received_.covered() >= received_at_checkpoint_ + threshold;
}

bool Download::checkpoint_due(Clock::time_point now) const {
  const auto since = now - last_checkpoint_;
  return since >= ctx_.options->checkpoint_interval ||
         (since >= kMinCheckpointGap && burst_unsaved());
}

Download::Clock::time_point Download::next_deadline(Clock::time_point now) const {
  auto deadline = now + std::chrono::seconds(1);
  if (phase_ == Phase::kFinished || phase_ == Phase::kStopping) return deadline;
  deadline = std::min(deadline, last_progress_ + ctx_.options->progress_interval);
  if (phase_ == Phase::kRunning) {
    deadline = std::min(deadline, last_checkpoint_ + ctx_.options->checkpoint_interval);
    if (burst_unsaved()) deadline = std::min(deadline, last_checkpoint_ + kMinCheckpointGap);
  }
  for (const auto& c : connections_) {
    if (c->retry_at) deadline = std::min(deadline, *c->retry_at);
    if (c->in_multi && c->paused == PauseCause::kHashLag)
      deadline = std::min(deadline, now + std::chrono::milliseconds(2));
    if (c->in_multi && c->paused == PauseCause::kRate) {
      const auto wait = std::max(
          {bucket_.wait_time(), ctx_.global_bucket->wait_time(), std::chrono::milliseconds(1)});
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
    case Phase::kProbing:
      return waiting() ? TransferStage::kRetrying : TransferStage::kConnecting;
    case Phase::kRunning:
      return waiting() ? TransferStage::kRetrying : TransferStage::kDownloading;
    case Phase::kVerifyingExisting:
    case Phase::kFlushing:
      return TransferStage::kVerifying;
    case Phase::kStopping:
    case Phase::kFinished:
      return TransferStage::kDone;
  }
  return TransferStage::kDone;
}

void Download::emit_progress(Clock::time_point now, bool force) {
  const TransferStage current = stage();
  if (!force && current == last_stage_ && now - last_progress_ < ctx_.options->progress_interval)
    return;
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
    p.eta = std::chrono::seconds(
        static_cast<long long>(std::ceil(static_cast<double>(*size_ - p.bytes_done) / p.speed)));
  }
  p.connections = static_cast<int>(std::count_if(connections_.begin(), connections_.end(),
                                                 [](const auto& c) { return c->in_multi; }));
  p.note = note_;
  ctx_.observer->on_progress(p);
}

}  // namespace haul::transfer
