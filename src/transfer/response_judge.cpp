#include "transfer/response_judge.hpp"

namespace haul::transfer {

namespace {

bool accepts_byte_ranges(const net::ResponseHead& head) {
  auto value = head.get("accept-ranges");
  return value && value->find("bytes") != std::string_view::npos;
}

HeadJudgement judge_error(const net::ResponseHead& head,
                          std::chrono::system_clock::time_point now) {
  HeadJudgement j;
  const int s = head.status;
  j.error.http_status = s;
  j.error.message = head.status_text();
  if (auto after = head.get("retry-after")) j.retry_after = net::parse_retry_after(*after, now);
  if (s == 408 || s == 429 || (s >= 500 && s <= 599)) {
    j.verdict = HeadVerdict::kRetry;
    j.error.code = ErrorCode::kUnavailable;
    return j;
  }
  j.verdict = HeadVerdict::kFail;
  if (s == 412) {
    // Only our If-Match asks for a precondition: the file changed since it was
    // resolved. Another attempt resolves it again.
    j.error.code = ErrorCode::kUnavailable;
    j.error.message = head.status_text() + ": the file changed on the server during the download";
    return j;
  }
  if (s == 401 || s == 403) {
    j.error.code = ErrorCode::kPermissionDenied;
  } else if (s == 404 || s == 410) {
    j.error.code = ErrorCode::kNotFound;
  } else if (s >= 400 && s <= 499) {
    j.error.code = ErrorCode::kInvalidArgument;
  } else {
    j.error.code = ErrorCode::kProtocol;
    j.error.message = "unexpected HTTP status " + head.status_text();
  }
  j.may_reresolve = s == 403 || s == 410;
  return j;
}

}  // namespace

HeadJudgement judge_head(const net::ResponseHead& head, std::uint64_t requested_start,
                         std::chrono::system_clock::time_point now) {
  HeadJudgement j;
  const int s = head.status;

  if (s == 200) {
    j.verdict = HeadVerdict::kBody;
    j.body_start = 0;
    if (auto length = head.get("content-length")) j.total = net::parse_decimal(*length);
    // A compressed body's length is not the file's length.
    if (auto encoding = head.get("content-encoding"); encoding && *encoding != "identity")
      j.total.reset();
    j.ranges_supported = accepts_byte_ranges(head);
    j.validator = validator_from(head, j.total);
    return j;
  }

  if (s == 206) {
    auto range = head.get("content-range");
    auto parsed = range ? net::parse_content_range(*range) : std::nullopt;
    if (!parsed || !parsed->first) {
      j.verdict = HeadVerdict::kRetry;
      j.error = {ErrorCode::kProtocol, "206 Partial Content without a usable Content-Range", s};
      return j;
    }
    if (*parsed->first != requested_start) {
      j.verdict = HeadVerdict::kRetry;
      j.error = {ErrorCode::kProtocol,
                 "server sent bytes from " + std::to_string(*parsed->first) + ", asked for " +
                     std::to_string(requested_start),
                 s};
      return j;
    }
    j.verdict = HeadVerdict::kBody;
    j.body_start = *parsed->first;
    j.total = parsed->complete_length;
    j.ranges_supported = true;
    j.validator = validator_from(head, j.total);
    return j;
  }

  if (s == 301 || s == 302 || s == 303 || s == 307 || s == 308) {
    auto location = head.get("location");
    if (!location || location->empty()) {
      j.verdict = HeadVerdict::kFail;
      j.error = {ErrorCode::kProtocol, head.status_text() + " without a Location header", s};
      return j;
    }
    j.verdict = HeadVerdict::kRedirect;
    j.location = std::string(*location);
    return j;
  }

  if (s == 416) {
    auto range = head.get("content-range");
    auto parsed = range ? net::parse_content_range(*range) : std::nullopt;
    if (requested_start == 0 && parsed && parsed->complete_length == 0u) {
      // "bytes=0-" of an empty file: nothing to fetch.
      j.verdict = HeadVerdict::kBody;
      j.total = 0;
      j.validator = validator_from(head, j.total);
      return j;
    }
    j.verdict = HeadVerdict::kRestart;
    j.error = {ErrorCode::kProtocol,
               "416 Range Not Satisfiable: the remote file is shorter than before", s};
    return j;
  }

  return judge_error(head, now);
}

}  // namespace haul::transfer
