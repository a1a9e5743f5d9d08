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
#include "net/file_name.hpp"
#include "transfer/curl_error.hpp"
#include "transfer/segment_planner.hpp"

namespace haul::transfer {

namespace {

constexpr int kMaxRedirects = 10;
constexpr int kMaxRestarts = 3;
constexpr int kMaxReresolves = 3;

std::chrono::seconds whole_seconds(std::chrono::milliseconds ms) {
  return std::chrono::seconds((ms.count() + 999) / 1000);
}

}  // namespace

Download::Download(TransferId id, TransferRequest request, net::Url url, EngineContext& context)
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

void Download::begin() {
  const auto now = Clock::now();
  last_progress_ = now;
  last_checkpoint_ = now;
  last_useful_byte_ = now;
  if (!request_.output_file.empty()) {
    destination_ = request_.output_file;
    if (ctx_.destinations->count(destination_) != 0) {
      return finish(
          haul::fail(ErrorCode::kInvalidArgument,
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
    c.error = {ErrorCode::kProtocol,
               "the server ignored the Range header (" + c.head.head().status_text() + ")",
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
    if (auto raw = net::parse_content_disposition(*disposition))
      name = net::sanitize_file_name(*raw);
  }
  // The original URL names the file better than a CDN's hashed path.
  if (name.empty()) name = net::file_name_from_url(origin_url_.text);
  if (name.empty()) name = net::file_name_from_url(c.url.text);
  if (name.empty()) name = "download";
  std::filesystem::path destination = request_.output_dir / name;
  if (ctx_.destinations->count(destination) != 0) {
    c.outcome = RequestOutcome::kFail;
    c.error = {ErrorCode::kInvalidArgument,
               destination.string() + " is already being written by another download"};
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
  if (!part_) {
    part_ = std::make_shared<PartFile>(ctx_.disk->file_system_ptr(), id_, destination_);
    part_->expected_git_sha1 = request_.git_blob_sha1;
  }

  if (skip_existing_ && !resume_ && j.total) {
    auto existing = fs.file_size(destination_);
    if (existing && *existing == *j.total) {
      size_ = j.total;
      validator_ = j.validator;
      phase_ = Phase::kVerifyingExisting;
      if (request_.sha256 || !request_.git_blob_sha1.empty()) {
        ctx_.disk->verify_existing(part_);
      } else {
        finalized_ = TransferResult{destination_, *existing, "", true, 0};
      }
      c.outcome = RequestOutcome::kNotNeeded;
      return false;
    }
  }

  const bool changed =
      resume_ && !(resume_->validator.matches(j.validator) && resume_->validator.size == j.total);
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
      c.end = ranges_ok_
                  ? plan_next_piece(std::span<const ByteRange>(&*mine, 1), {}, planner_limits())
                        ->piece.end
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
        if (finalized_) finish(*finalized_);
        return;
      }
      c.pos = c.end;
      return give_next_piece(c);
    case RequestOutcome::kRedirect: {
      if (++c.redirects > kMaxRedirects) {
        return fail(Error{ErrorCode::kProtocol,
                          "more than " + std::to_string(kMaxRedirects) + " redirects"});
      }
      auto next = net::resolve_location(c.url, c.location);
      if (!next) return fail(next.error());
      c.url = std::move(*next);
      return start_request(c);
    }
    case RequestOutcome::kRetry:
      return handle_failure(c, Error{c.error.code, describe_failure(c), c.error.http_status},
                            c.retry_after);
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
    return handle_failure(
        c,
        Error{ErrorCode::kUnavailable, "the connection closed " + format_bytes(c.end - c.pos) +
                                           " before the end of the range"},
        std::nullopt);
  }
  handle_failure(c, error_from_curl(code, c.error_buffer.data()), std::nullopt);
}

bool Download::has_live_connection_besides(const Connection& c) const {
  return std::any_of(connections_.begin(), connections_.end(), [&](const auto& other) {
    return other.get() != &c && other->busy() && other->failures == 0;
  });
}

void Download::handle_failure(Connection& c, Error error,
                              std::optional<std::chrono::milliseconds> retry_after) {
  ++c.failures;
  last_error_ = error.message;
  const RetryPolicy& policy = request_.retry;
  if (retry_after && *retry_after > policy.max_retry_after) {
    error.retry_after = *retry_after;
    error.message +=
        "; the server asks to retry in " + format_duration(whole_seconds(*retry_after));
    return fail(std::move(error));
  }
  if (error.code != ErrorCode::kUnavailable && error.code != ErrorCode::kProtocol)
    return fail(std::move(error));
  const bool no_data = policy.retry_only_after_data && c.request_bytes == 0;
  if (c.failures >= policy.max_attempts || no_data) {
    if (has_live_connection_besides(c)) {
      // Others still make progress: hand the piece back rather than fail.
      if (c.pos < c.end) pending_.push_back({c.pos, c.end});
      c.retired = true;
      c.end = c.pos;
      max_connections_ = std::max(1, max_connections_ - 1);
      note_ = "dropped a connection: " + error.message;
      return;
    }
    // A caller counting attempts of its own says how many there were.
    if (!policy.retry_only_after_data)
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

void Download::restart_from_zero(std::string why) {  // NOLINT(performance-unnecessary-value-param)
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

void Download::finish(const Result<TransferResult>& result) {
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
        TransferResult done{destination_, event.result->size, event.result->sha256, false,
                            resumed_bytes_};
        if (phase_ == Phase::kStopping) {
          finalized_ = std::move(done);  // it completed before the stop reached the disk
          return;
        }
        return finish(done);
      }
      if (phase_ != Phase::kStopping) finish(haul::fail(event.result.error()));
      return;
    case PartEvent::Kind::kClosed:
      if (finalized_) return finish(*finalized_);
      return finish(haul::fail(failure_.value_or(Error{ErrorCode::kCancelled, "stopped"})));
    case PartEvent::Kind::kVerified:
      if (phase_ != Phase::kVerifyingExisting) return;
      if (event.result && (!request_.sha256 || event.result->sha256 == *request_.sha256) &&
          (request_.git_blob_sha1.empty() || event.result->git_sha1 == request_.git_blob_sha1)) {
        return finish(
            TransferResult{destination_, event.result->size, event.result->sha256, true, 0});
      }
      // The file there is not the one asked for: fetch it and replace it.
      skip_existing_ = false;
      phase_ = Phase::kProbing;
      note_ = event.result ? "the existing file does not match its digest; downloading again"
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

}  // namespace haul::transfer
