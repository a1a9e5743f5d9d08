#include "transfer/response_judge.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <utility>

namespace haul::transfer {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

// Sun, 06 Nov 1994 08:49:37 GMT
const system_clock::time_point kNow = system_clock::from_time_t(784111777);

net::ResponseHead make_head(
    int status, std::initializer_list<std::pair<std::string, std::string>> headers = {}) {
  net::ResponseHead head;
  head.status = status;
  head.headers.assign(headers.begin(), headers.end());
  return head;
}

// ---- 200 ----------------------------------------------------------------------

TEST(JudgeHead, FullResponseTakesTotalFromContentLength) {
  auto j = judge_head(make_head(200, {{"content-length", "1234"},
                                      {"accept-ranges", "bytes"},
                                      {"etag", "\"v1\""},
                                      {"last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"}}),
                      0, kNow);
  EXPECT_EQ(j.verdict, HeadVerdict::kBody);
  EXPECT_EQ(j.body_start, 0u);
  EXPECT_EQ(j.total, 1234u);
  EXPECT_TRUE(j.ranges_supported);
  EXPECT_EQ(j.validator.etag, "\"v1\"");
  EXPECT_EQ(j.validator.last_modified, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(j.validator.size, 1234u);
}

TEST(JudgeHead, FullResponseToARangedRequestStartsAtZero) {
  // The server ignored "Range: bytes=500-": the body is the whole file.
  auto j = judge_head(make_head(200, {{"content-length", "1000"}}), 500, kNow);
  EXPECT_EQ(j.verdict, HeadVerdict::kBody);
  EXPECT_EQ(j.body_start, 0u);
  EXPECT_EQ(j.total, 1000u);
  EXPECT_FALSE(j.ranges_supported);
}

TEST(JudgeHead, FullResponseWithoutUsableLengthHasNoTotal) {
  EXPECT_FALSE(judge_head(make_head(200), 0, kNow).total.has_value());
  auto garbage = judge_head(make_head(200, {{"content-length", "12abc"}}), 0, kNow);
  EXPECT_EQ(garbage.verdict, HeadVerdict::kBody);
  EXPECT_FALSE(garbage.total.has_value());
  EXPECT_FALSE(garbage.validator.size.has_value());
}

TEST(JudgeHead, CompressedBodyLengthIsNotTheFileLength) {
  auto gzip = judge_head(make_head(200, {{"content-length", "500"}, {"content-encoding", "gzip"}}),
                         0, kNow);
  EXPECT_EQ(gzip.verdict, HeadVerdict::kBody);
  EXPECT_FALSE(gzip.total.has_value());
  EXPECT_FALSE(gzip.validator.size.has_value());

  auto identity = judge_head(
      make_head(200, {{"content-length", "500"}, {"content-encoding", "identity"}}), 0, kNow);
  EXPECT_EQ(identity.total, 500u);
}

TEST(JudgeHead, RangeSupportNeedsBytesInAcceptRanges) {
  EXPECT_FALSE(judge_head(make_head(200, {{"accept-ranges", "none"}}), 0, kNow).ranges_supported);
  EXPECT_TRUE(judge_head(make_head(200, {{"accept-ranges", "bytes"}}), 0, kNow).ranges_supported);
}

// ---- 206 ----------------------------------------------------------------------

TEST(JudgeHead, PartialResponseStartingWhereAskedIsBody) {
  auto j = judge_head(
      make_head(206, {{"content-range", "bytes 1000-1999/5000"}, {"etag", "\"abc\""}}), 1000, kNow);
  EXPECT_EQ(j.verdict, HeadVerdict::kBody);
  EXPECT_EQ(j.body_start, 1000u);
  EXPECT_EQ(j.total, 5000u);
  EXPECT_TRUE(j.ranges_supported);
  EXPECT_EQ(j.validator.etag, "\"abc\"");
  EXPECT_EQ(j.validator.size, 5000u);
}

TEST(JudgeHead, PartialResponseWithUnknownLengthHasNoTotal) {
  auto j = judge_head(make_head(206, {{"content-range", "bytes 0-99/*"}}), 0, kNow);
  EXPECT_EQ(j.verdict, HeadVerdict::kBody);
  EXPECT_FALSE(j.total.has_value());
}

TEST(JudgeHead, PartialResponseWithoutUsableContentRangeIsRetried) {
  for (auto head : {make_head(206), make_head(206, {{"content-range", "garbage"}}),
                    make_head(206, {{"content-range", "bytes */5000"}}),
                    make_head(206, {{"content-range", "bytes 10-5/5000"}})}) {
    auto j = judge_head(head, 0, kNow);
    EXPECT_EQ(j.verdict, HeadVerdict::kRetry);
    EXPECT_EQ(j.error.code, ErrorCode::kProtocol);
    EXPECT_EQ(j.error.http_status, 206);
    EXPECT_NE(j.error.message.find("Content-Range"), std::string::npos) << j.error.message;
  }
}

TEST(JudgeHead, PartialResponseFromTheWrongOffsetIsRetried) {
  auto j = judge_head(make_head(206, {{"content-range", "bytes 0-999/5000"}}), 1000, kNow);
  EXPECT_EQ(j.verdict, HeadVerdict::kRetry);
  EXPECT_EQ(j.error.code, ErrorCode::kProtocol);
  EXPECT_EQ(j.error.http_status, 206);
  EXPECT_NE(j.error.message.find("from 0"), std::string::npos) << j.error.message;
  EXPECT_NE(j.error.message.find("asked for 1000"), std::string::npos) << j.error.message;
}

// ---- redirects ----------------------------------------------------------------

TEST(JudgeHead, RedirectsWithLocationAreFollowed) {
  for (int status : {301, 302, 303, 307, 308}) {
    auto j =
        judge_head(make_head(status, {{"location", "https://cdn.example.com/x?sig=1"}}), 0, kNow);
    EXPECT_EQ(j.verdict, HeadVerdict::kRedirect) << status;
    EXPECT_EQ(j.location, "https://cdn.example.com/x?sig=1") << status;
  }
}

TEST(JudgeHead, RedirectsWithoutLocationFail) {
  for (int status : {301, 302, 307, 308}) {
    for (auto head : {make_head(status), make_head(status, {{"location", ""}})}) {
      auto j = judge_head(head, 0, kNow);
      EXPECT_EQ(j.verdict, HeadVerdict::kFail) << status;
      EXPECT_EQ(j.error.code, ErrorCode::kProtocol);
      EXPECT_EQ(j.error.http_status, status);
      EXPECT_NE(j.error.message.find("without a Location"), std::string::npos) << j.error.message;
      EXPECT_TRUE(j.location.empty());
    }
  }
}

// ---- 416 ----------------------------------------------------------------------

TEST(JudgeHead, RangeNotSatisfiableOfAnEmptyFileFromZeroIsAnEmptyBody) {
  auto j = judge_head(make_head(416, {{"content-range", "bytes */0"}}), 0, kNow);
  EXPECT_EQ(j.verdict, HeadVerdict::kBody);
  EXPECT_EQ(j.total, 0u);
  EXPECT_EQ(j.validator.size, 0u);
}

TEST(JudgeHead, RangeNotSatisfiableOtherwiseRestarts) {
  for (auto [head, start] :
       {std::pair{make_head(416, {{"content-range", "bytes */0"}}), std::uint64_t{100}},
        std::pair{make_head(416, {{"content-range", "bytes */500"}}), std::uint64_t{0}},
        std::pair{make_head(416, {{"content-range", "bytes */500"}}), std::uint64_t{1000}},
        std::pair{make_head(416), std::uint64_t{0}},
        std::pair{make_head(416, {{"content-range", "nonsense"}}), std::uint64_t{0}}}) {
    auto j = judge_head(head, start, kNow);
    EXPECT_EQ(j.verdict, HeadVerdict::kRestart) << start;
    EXPECT_EQ(j.error.code, ErrorCode::kProtocol);
    EXPECT_EQ(j.error.http_status, 416);
  }
}

// ---- transient errors ---------------------------------------------------------

TEST(JudgeHead, TransientStatusesAreRetried) {
  for (int status : {408, 429, 500, 502, 503, 504, 599}) {
    auto j = judge_head(make_head(status), 0, kNow);
    EXPECT_EQ(j.verdict, HeadVerdict::kRetry) << status;
    EXPECT_EQ(j.error.code, ErrorCode::kUnavailable) << status;
    EXPECT_EQ(j.error.http_status, status);
    EXPECT_FALSE(j.retry_after.has_value());
    EXPECT_FALSE(j.may_reresolve);
  }
}

TEST(JudgeHead, RetryCarriesRetryAfterSeconds) {
  auto j = judge_head(make_head(429, {{"retry-after", "30"}}), 0, kNow);
  EXPECT_EQ(j.verdict, HeadVerdict::kRetry);
  EXPECT_EQ(j.retry_after, milliseconds(30'000));
  EXPECT_EQ(j.error.message, "429 Too Many Requests");
}

TEST(JudgeHead, RetryCarriesRetryAfterDate) {
  auto j = judge_head(make_head(503, {{"retry-after", "Sun, 06 Nov 1994 08:50:37 GMT"}}), 0, kNow);
  EXPECT_EQ(j.verdict, HeadVerdict::kRetry);
  EXPECT_EQ(j.retry_after, milliseconds(60'000));
}

TEST(JudgeHead, GarbageRetryAfterIsIgnored) {
  auto j = judge_head(make_head(503, {{"retry-after", "later"}}), 0, kNow);
  EXPECT_EQ(j.verdict, HeadVerdict::kRetry);
  EXPECT_FALSE(j.retry_after.has_value());
}

// ---- permanent errors ---------------------------------------------------------

TEST(JudgeHead, AuthenticationFailuresArePermissionDenied) {
  auto unauthorized = judge_head(make_head(401), 0, kNow);
  EXPECT_EQ(unauthorized.verdict, HeadVerdict::kFail);
  EXPECT_EQ(unauthorized.error.code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(unauthorized.error.message, "401 Unauthorized");
  EXPECT_FALSE(unauthorized.may_reresolve);

  auto forbidden = judge_head(make_head(403), 0, kNow);
  EXPECT_EQ(forbidden.verdict, HeadVerdict::kFail);
  EXPECT_EQ(forbidden.error.code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(forbidden.error.http_status, 403);
  EXPECT_TRUE(forbidden.may_reresolve) << "an expired signed URL answers 403";
}

TEST(JudgeHead, MissingFilesAreNotFound) {
  auto not_found = judge_head(make_head(404), 0, kNow);
  EXPECT_EQ(not_found.verdict, HeadVerdict::kFail);
  EXPECT_EQ(not_found.error.code, ErrorCode::kNotFound);
  EXPECT_EQ(not_found.error.message, "404 Not Found");
  EXPECT_FALSE(not_found.may_reresolve);

  auto gone = judge_head(make_head(410), 0, kNow);
  EXPECT_EQ(gone.verdict, HeadVerdict::kFail);
  EXPECT_EQ(gone.error.code, ErrorCode::kNotFound);
  EXPECT_TRUE(gone.may_reresolve);
}

TEST(JudgeHead, FailedIfMatchMeansTheFileChangedAndAnotherAttemptMayWork) {
  net::ResponseHead head = make_head(412);
  head.reason = "Precondition Failed";
  auto j = judge_head(head, 4096, kNow);
  EXPECT_EQ(j.verdict, HeadVerdict::kFail);
  EXPECT_EQ(j.error.code, ErrorCode::kUnavailable);
  EXPECT_EQ(j.error.http_status, 412);
  EXPECT_EQ(j.error.message,
            "412 Precondition Failed: the file changed on the server during the download");
}

TEST(JudgeHead, OtherClientErrorsAreInvalidArgument) {
  for (int status : {400, 405, 406, 411, 418, 451}) {
    auto j = judge_head(make_head(status), 0, kNow);
    EXPECT_EQ(j.verdict, HeadVerdict::kFail) << status;
    EXPECT_EQ(j.error.code, ErrorCode::kInvalidArgument) << status;
    EXPECT_EQ(j.error.http_status, status);
    EXPECT_FALSE(j.may_reresolve);
  }
}

TEST(JudgeHead, ServersOwnReasonAppearsInTheMessage) {
  net::ResponseHead head = make_head(404);
  head.reason = "No Such Model";
  EXPECT_EQ(judge_head(head, 0, kNow).error.message, "404 No Such Model");
}

TEST(JudgeHead, UnexpectedStatusesAreProtocolFailures) {
  for (int status : {0, 100, 204, 300, 304, 600}) {
    auto j = judge_head(make_head(status), 0, kNow);
    EXPECT_EQ(j.verdict, HeadVerdict::kFail) << status;
    EXPECT_EQ(j.error.code, ErrorCode::kProtocol) << status;
    EXPECT_NE(j.error.message.find("unexpected HTTP status"), std::string::npos) << j.error.message;
  }
}

}  // namespace
}  // namespace haul::transfer
