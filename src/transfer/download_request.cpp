// A download's requests: one libcurl easy handle per connection, the Range
// and If-Range headers, and the callbacks that read the response head and
// copy body bytes into buffers for the writer. Network thread only; the
// callbacks only record what they saw (see download.cpp).
#include <algorithm>
#include <cctype>

#include "transfer/download.hpp"

namespace haul::transfer {

namespace {

constexpr std::size_t kErrorBodyLimit = 2048;
// libcurl's own default: each connection holds one, and larger ones cost
// memory (64 connections) without saving measurable CPU.
constexpr long kCurlBufferSize = 16L * 1024;

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

}  // namespace

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
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request_.retry.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE,
                   std::min<long>(kCurlBufferSize, static_cast<long>(ctx_.pool->buffer_size())));
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  connections_.push_back(std::move(owned));
  return *c;
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
  const Validator* known =
      phase_ == Phase::kProbing ? (resume_ ? &resume_->validator : nullptr) : &validator_;
  if (known != nullptr && c.pos > 0) {
    const std::string if_range = known->if_range();
    if (!if_range.empty())
      c.header_list = curl_slist_append(c.header_list, ("If-Range: " + if_range).c_str());
  }
  const bool at_origin = c.url.origin() == origin_url_.origin();
  if (at_origin) {
    for (const std::string& header : request_.headers)
      c.header_list = curl_slist_append(c.header_list, header.c_str());
    if (!request_.if_match.empty())
      c.header_list = curl_slist_append(c.header_list, ("If-Match: " + request_.if_match).c_str());
  }
  // Signing credentials, like headers, stay with the origin they were given for.
  const bool sign = at_origin && !request_.aws_sigv4.empty();
  curl_easy_setopt(c.easy, CURLOPT_AWS_SIGV4, sign ? request_.aws_sigv4.c_str() : nullptr);
  curl_easy_setopt(c.easy, CURLOPT_USERPWD, sign ? request_.aws_credentials.c_str() : nullptr);
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
  if (c.pos != received_.contiguous_end(0)) {
    const bool lagging = hasher_behind(ctx_.max_kept_buffers);
    if (lagging) hash_lag_seen_ = c.last_activity;
    if (lagging || beyond_hash_window(c)) {
      c.paused = PauseCause::kHashLag;
      submit_buffer(c);
      return CURL_WRITEFUNC_PAUSE;
    }
  }

  std::size_t usable = c.end == kOpenEnd
                           ? size
                           : static_cast<std::size_t>(std::min<std::uint64_t>(size, c.end - c.pos));
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
    std::copy_n(reinterpret_cast<const std::byte*>(bytes), count,
                c.buffer->data() + c.buffer->size);
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
    const std::uint64_t response_end =
        c.request_end == kOpenEnd ? size_.value_or(kOpenEnd) : c.request_end;
    return (usable < size || response_end != c.end) ? 0 : size;
  }
  return size;
}

void Download::submit_buffer(Connection& c) {
  if (c.buffer && c.buffer->size > 0 && part_) ctx_.disk->write(part_, std::move(c.buffer));
  c.buffer.reset();
}

std::string Download::describe_failure(const Connection& c) const {
  std::string message = c.error.message;
  const std::string excerpt =
      body_excerpt(c.error_body, c.head.head().get("content-type").value_or(""));
  // A body that only repeats the status ("Not Found") adds nothing.
  const std::string& reason = c.head.head().reason;
  if (!excerpt.empty() && excerpt != reason && excerpt != c.head.head().status_text())
    message += ": " + excerpt;
  return message;
}

}  // namespace haul::transfer
