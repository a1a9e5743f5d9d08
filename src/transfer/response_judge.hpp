// What a response head means for a ranged download: body to keep, a redirect
// to follow, a transient failure to retry, or a permanent one. Pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "net/http_head.hpp"
#include "transfer/resume_state.hpp"

namespace haul::transfer {

enum class HeadVerdict {
  kBody,      // the body is (part of) the file
  kRedirect,  // follow `location`
  kRetry,     // transient: try again after a backoff
  kRestart,   // the remote file is not what we have: start over from zero
  kFail,      // permanent
};

struct HeadJudgement {
  HeadVerdict verdict = HeadVerdict::kFail;
  // kBody
  std::uint64_t body_start = 0;        // file offset of the first body byte
  std::optional<std::uint64_t> total;  // complete length, when known
  bool ranges_supported = false;
  Validator validator;
  // kRedirect
  std::string location;
  // kRetry, kRestart, kFail
  Error error{};
  std::optional<std::chrono::milliseconds> retry_after;
  // kFail with 403/410: a signed URL may have expired; resolving the original
  // URL again can help.
  bool may_reresolve = false;
};

// `requested_start` is the first byte the request asked for.
HeadJudgement judge_head(const net::ResponseHead& head, std::uint64_t requested_start,
                         std::chrono::system_clock::time_point now);

}  // namespace haul::transfer
