// libFuzzer target for the parsers that read what a server sends: response
// head lines, header values, file names, URLs, and the resume state file.
//
// Input: one selector byte, then the text. Selector ('0' + n, taken mod 10):
//   0 response head lines (split after '\n') and the judgement of the head
//   1 Content-Range            2 decimal               3 HTTP date
//   4 Retry-After              5 Content-Disposition + sanitize_file_name
//   6 file_name_from_url       7 percent_decode        8 resume state
//   9 every parser on the same text
// Built as a libFuzzer binary with HAUL_FUZZ and as a corpus replay otherwise
// (tests/fuzz/replay_main.cpp).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/text.hpp"
#include "net/file_name.hpp"
#include "net/http_head.hpp"
#include "transfer/response_judge.hpp"
#include "transfer/resume_state.hpp"

namespace {

using namespace haul::transfer;
namespace net = haul::net;

// Sun, 06 Nov 1994 08:49:37 GMT: a fixed "now" keeps runs reproducible.
const std::chrono::system_clock::time_point kNow =
    std::chrono::system_clock::from_time_t(784111777);

void check(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "header_parsers_fuzz: %s (input %zu bytes)\n", what, input.size());
  std::abort();
}

// What sanitize_file_name promises: one safe path component.
void check_safe_name(const std::string& name, std::string_view input) {
  check(name.size() <= 255, "file name longer than 255 bytes", input);
  check(name != "." && name != "..", "file name is . or ..", input);
  check(name.empty() || name.front() != '.', "file name starts with a dot", input);
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    check(c != '/' && c != '\\', "file name contains a path separator", input);
    check(u >= 0x20 && u != 0x7F, "file name contains a control character", input);
  }
}

void fuzz_head(const std::string_view text) {
  net::ResponseHeadBuilder builder;
  for (std::string_view rest = text; !rest.empty();) {
    const std::size_t eol = rest.find('\n');
    const std::size_t len = eol == std::string_view::npos ? rest.size() : eol + 1;
    builder.add_line(rest.substr(0, len));
    rest.remove_prefix(len);
  }
  const net::ResponseHead& head = builder.head();
  check(!builder.complete() || head.status != 0, "complete head without a status", text);
  check(head.status >= 0 && head.status <= 999, "status out of range", text);
  for (const auto& header : head.headers) {
    for (char c : header.first) check(!(c >= 'A' && c <= 'Z'), "header name not lower-cased", text);
    check(head.get(header.first).has_value(), "get() misses a stored header", text);
  }
  (void)head.status_text();
  for (std::uint64_t start : {std::uint64_t{0}, std::uint64_t{1000}}) {
    const HeadJudgement j = judge_head(head, start, kNow);
    if (j.verdict == HeadVerdict::kBody)
      check(j.body_start == 0 || j.body_start == start, "body_start", text);
    if (j.verdict == HeadVerdict::kRedirect)
      check(!j.location.empty(), "redirect without location", text);
    if (j.retry_after) check(j.retry_after->count() >= 0, "negative Retry-After", text);
  }
}

void fuzz_content_range(std::string_view text) {
  const auto range = net::parse_content_range(text);
  if (!range) return;
  check(range->first.has_value() == range->last.has_value(), "first without last", text);
  if (range->first) {
    check(*range->first <= *range->last, "last < first", text);
    if (range->complete_length)
      check(*range->last < *range->complete_length, "last >= length", text);
  } else {
    check(range->complete_length.has_value(), "bytes */* accepted", text);
  }
}

void fuzz_decimal(std::string_view text) {
  const auto value = net::parse_decimal(text);
  if (!value) return;
  const std::string_view digits = haul::trim(text);
  check(!digits.empty(), "decimal without digits", text);
  for (char c : digits) check(c >= '0' && c <= '9', "decimal with a non-digit inside", text);
}

void fuzz_http_date(std::string_view text) { (void)net::parse_http_date(text); }

void fuzz_retry_after(std::string_view text) {
  const auto delay = net::parse_retry_after(text, kNow);
  if (!delay) return;
  check(delay->count() >= 0, "negative Retry-After", text);
  check(*delay <= std::chrono::hours(24 * 7), "Retry-After above the cap", text);
}

void fuzz_content_disposition(std::string_view text) {
  const auto name = net::parse_content_disposition(text);
  if (name) {
    check(!name->empty(), "empty file name returned", text);
    check_safe_name(net::sanitize_file_name(*name), text);
  }
  check_safe_name(net::sanitize_file_name(text), text);
}

void fuzz_url_name(std::string_view text) { check_safe_name(net::file_name_from_url(text), text); }

void fuzz_percent_decode(std::string_view text) {
  check(net::percent_decode(text).size() <= text.size(), "net::percent_decode grew the text", text);
}

void fuzz_resume_state(std::string_view text) {
  const auto state = parse_resume_state(text);
  if (!state) {
    check(state.error().code == haul::ErrorCode::kDataLoss, "resume state error is not kDataLoss",
          text);
    return;
  }
  for (const ByteRange& r : state->done.ranges()) {
    check(!r.empty(), "empty range kept", text);
    if (state->validator.size) check(r.end <= *state->validator.size, "range past the size", text);
  }
  const auto again = parse_resume_state(serialize_resume_state(*state));
  check(again.has_value() && *again == *state, "resume state does not round-trip", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned selector = static_cast<unsigned char>(data[0] - '0') % 10;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (selector) {
    case 0:
      fuzz_head(text);
      break;
    case 1:
      fuzz_content_range(text);
      break;
    case 2:
      fuzz_decimal(text);
      break;
    case 3:
      fuzz_http_date(text);
      break;
    case 4:
      fuzz_retry_after(text);
      break;
    case 5:
      fuzz_content_disposition(text);
      break;
    case 6:
      fuzz_url_name(text);
      break;
    case 7:
      fuzz_percent_decode(text);
      break;
    case 8:
      fuzz_resume_state(text);
      break;
    default:
      fuzz_head(text);
      fuzz_content_range(text);
      fuzz_decimal(text);
      fuzz_http_date(text);
      fuzz_retry_after(text);
      fuzz_content_disposition(text);
      fuzz_url_name(text);
      fuzz_percent_decode(text);
      fuzz_resume_state(text);
      break;
  }
  return 0;
}
