#include "net/http_head.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <limits>

namespace haul::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

// Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110.
const system_clock::time_point kRfcExample = system_clock::from_time_t(784111777);

ResponseHead build(std::initializer_list<std::string_view> lines) {
  ResponseHeadBuilder builder;
  for (std::string_view line : lines) builder.add_line(line);
  return builder.head();
}

// ---- ResponseHeadBuilder ----------------------------------------------------

TEST(ResponseHeadBuilder, ParsesAStatusLineWithReason) {
  ResponseHead head = build({"HTTP/1.1 206 Partial Content\r\n"});
  EXPECT_EQ(head.status, 206);
  EXPECT_EQ(head.reason, "Partial Content");
  EXPECT_EQ(head.status_text(), "206 Partial Content");
}

TEST(ResponseHeadBuilder, KeepsTheServersOwnReasonPhrase) {
  ResponseHead head = build({"HTTP/1.0 200 Fine Thanks\r\n"});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.reason, "Fine Thanks");
  EXPECT_EQ(head.status_text(), "200 Fine Thanks");
}

TEST(ResponseHeadBuilder, FallsBackToTheStandardPhraseWithoutAReason) {
  ResponseHead head = build({"HTTP/1.1 404\r\n"});
  EXPECT_EQ(head.status, 404);
  EXPECT_EQ(head.reason, "");
  EXPECT_EQ(head.status_text(), "404 Not Found");
}

TEST(ResponseHeadBuilder, ParsesHttp2StatusLines) {
  ResponseHead head = build({"HTTP/2 200\r\n", "content-length: 5\r\n"});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.reason, "");
  EXPECT_EQ(head.status_text(), "200 OK");
  EXPECT_EQ(head.get("content-length"), "5");

  ResponseHead h3 = build({"HTTP/3 503\r\n"});
  EXPECT_EQ(h3.status, 503);
  EXPECT_EQ(h3.status_text(), "503 Service Unavailable");
}

TEST(ResponseHeadBuilder, UnknownStatusWithoutReasonIsJustTheNumber) {
  EXPECT_EQ(build({"HTTP/1.1 599\r\n"}).status_text(), "599");
}

TEST(ResponseHeadBuilder, StatusLineWithoutACodeLeavesStatusZero) {
  EXPECT_EQ(build({"HTTP/1.1\r\n"}).status, 0);
  EXPECT_EQ(build({"HTTP/1.1 abc\r\n"}).status, 0);
  EXPECT_EQ(build({"HTTP/1.1 20 OK\r\n"}).status, 0);
}

TEST(ResponseHeadBuilder, LowerCasesNamesAndTrimsValues) {
  ResponseHead head =
      build({"HTTP/1.1 200 OK\r\n", "Content-Length:   1234  \r\n", "ETag:\t\"abc\"\r\n",
             "X-MiXeD-CaSe : Value With Spaces\r\n", "X-Empty:\r\n"});
  ASSERT_EQ(head.headers.size(), 4u);
  EXPECT_EQ(head.headers[0], (std::pair<std::string, std::string>{"content-length", "1234"}));
  EXPECT_EQ(head.headers[1], (std::pair<std::string, std::string>{"etag", "\"abc\""}));
  EXPECT_EQ(head.headers[2],
            (std::pair<std::string, std::string>{"x-mixed-case", "Value With Spaces"}));
  EXPECT_EQ(head.headers[3], (std::pair<std::string, std::string>{"x-empty", ""}));
  EXPECT_EQ(head.get("content-length"), "1234");
  EXPECT_FALSE(head.get("Content-Length").has_value()) << "get() takes the lower-case name";
  EXPECT_FALSE(head.get("missing").has_value());
}

TEST(ResponseHeadBuilder, SplitsOnTheFirstColonOnly) {
  ResponseHead head =
      build({"HTTP/1.1 302 Found\r\n", "Location: https://example.com:8443/a?b=c:d\r\n"});
  EXPECT_EQ(head.get("location"), "https://example.com:8443/a?b=c:d");
}

TEST(ResponseHeadBuilder, IgnoresLinesThatAreNotHeaders) {
  ResponseHead head =
      build({"HTTP/1.1 200 OK\r\n", "no colon here\r\n", ": no name\r\n", "Good: yes\r\n"});
  ASSERT_EQ(head.headers.size(), 1u);
  EXPECT_EQ(head.get("good"), "yes");
}

TEST(ResponseHeadBuilder, IgnoresANameThatTrimsToNothing) {
  ResponseHead head = build({"HTTP/1.1 200 OK\r\n", "\r: x\r\n", "\n\r:y\r\n", "Good: yes\r\n"});
  EXPECT_EQ(head.headers.size(), 1u);
  EXPECT_FALSE(head.get("").has_value());
}

TEST(ResponseHeadBuilder, GetReturnsTheLastOfRepeatedHeaders) {
  ResponseHead head =
      build({"HTTP/1.1 200 OK\r\n", "Set-Thing: first\r\n", "set-thing: second\r\n"});
  EXPECT_EQ(head.headers.size(), 2u);
  EXPECT_EQ(head.get("set-thing"), "second");
}

TEST(ResponseHeadBuilder, IsCompleteOnlyAfterTheBlankLine) {
  ResponseHeadBuilder builder;
  EXPECT_FALSE(builder.complete());
  builder.add_line("HTTP/1.1 200 OK\r\n");
  EXPECT_FALSE(builder.complete());
  builder.add_line("Content-Length: 3\r\n");
  EXPECT_FALSE(builder.complete());
  builder.add_line("\r\n");
  EXPECT_TRUE(builder.complete());
  EXPECT_EQ(builder.head().status, 200);
  EXPECT_EQ(builder.head().get("content-length"), "3");
}

TEST(ResponseHeadBuilder, ABlankLineWithoutAStatusLineDoesNotComplete) {
  ResponseHeadBuilder builder;
  builder.add_line("\r\n");
  EXPECT_FALSE(builder.complete());
}

TEST(ResponseHeadBuilder, ASecondStatusLineStartsANewHead) {
  ResponseHeadBuilder builder;
  builder.add_line("HTTP/1.1 100 Continue\r\n");
  builder.add_line("X-Interim: yes\r\n");
  builder.add_line("\r\n");
  EXPECT_TRUE(builder.complete());
  EXPECT_EQ(builder.head().status, 100);

  builder.add_line("HTTP/1.1 206 Partial Content\r\n");
  EXPECT_FALSE(builder.complete());
  EXPECT_EQ(builder.head().status, 206);
  EXPECT_TRUE(builder.head().headers.empty());
  EXPECT_FALSE(builder.head().get("x-interim").has_value());
  builder.add_line("Content-Range: bytes 0-9/10\r\n");
  builder.add_line("\r\n");
  EXPECT_TRUE(builder.complete());
  EXPECT_EQ(builder.head().get("content-range"), "bytes 0-9/10");
}

TEST(ResponseHeadBuilder, ResetForgetsEverything) {
  ResponseHeadBuilder builder;
  builder.add_line("HTTP/1.1 200 OK\r\n");
  builder.add_line("A: b\r\n");
  builder.add_line("\r\n");
  builder.reset();
  EXPECT_FALSE(builder.complete());
  EXPECT_EQ(builder.head().status, 0);
  EXPECT_TRUE(builder.head().headers.empty());
}

TEST(ReasonPhrase, KnowsTheCodesHaulMeets) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(206), "Partial Content");
  EXPECT_EQ(reason_phrase(308), "Permanent Redirect");
  EXPECT_EQ(reason_phrase(403), "Forbidden");
  EXPECT_EQ(reason_phrase(416), "Range Not Satisfiable");
  EXPECT_EQ(reason_phrase(429), "Too Many Requests");
  EXPECT_EQ(reason_phrase(503), "Service Unavailable");
  EXPECT_EQ(reason_phrase(0), "");
  EXPECT_EQ(reason_phrase(299), "");
  EXPECT_EQ(reason_phrase(-1), "");
}

// ---- parse_content_range ----------------------------------------------------

TEST(ParseContentRange, ParsesAFullRange) {
  auto range = parse_content_range("bytes 0-499/1234");
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->first, 0u);
  EXPECT_EQ(range->last, 499u);
  EXPECT_EQ(range->complete_length, 1234u);
}

TEST(ParseContentRange, ParsesAnUnknownCompleteLength) {
  auto range = parse_content_range("bytes 500-999/*");
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->first, 500u);
  EXPECT_EQ(range->last, 999u);
  EXPECT_FALSE(range->complete_length.has_value());
}

TEST(ParseContentRange, ParsesTheUnsatisfiedForm) {
  auto range = parse_content_range("bytes */1234");
  ASSERT_TRUE(range.has_value());
  EXPECT_FALSE(range->first.has_value());
  EXPECT_FALSE(range->last.has_value());
  EXPECT_EQ(range->complete_length, 1234u);

  auto empty = parse_content_range("bytes */0");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->complete_length, 0u);
}

TEST(ParseContentRange, ToleratesCaseAndSurroundingWhitespace) {
  auto range = parse_content_range("  BYTES 1-1/2 \r\n");
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->first, 1u);
  EXPECT_EQ(range->last, 1u);
  EXPECT_EQ(range->complete_length, 2u);
}

TEST(ParseContentRange, AcceptsTheLastByteOfAHugeFile) {
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  auto range = parse_content_range("bytes 0-18446744073709551614/18446744073709551615");
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->last, max - 1);
  EXPECT_EQ(range->complete_length, max);
}

TEST(ParseContentRange, RejectsInconsistentRanges) {
  EXPECT_FALSE(parse_content_range("bytes 500-499/1234").has_value()) << "last < first";
  EXPECT_FALSE(parse_content_range("bytes 0-1234/1234").has_value()) << "last == length";
  EXPECT_FALSE(parse_content_range("bytes 0-2000/1234").has_value()) << "last > length";
  EXPECT_FALSE(parse_content_range("bytes 0-0/0").has_value()) << "empty file has no byte 0";
  EXPECT_FALSE(parse_content_range("bytes */*").has_value()) << "says nothing";
}

TEST(ParseContentRange, RejectsGarbage) {
  for (const char* bad :
       {"", "bytes", "bytes ", "bytes 0-499", "bytes=0-499/1234", "items 0-1/2", "bytes a-b/c",
        "bytes -5/10", "bytes 5-/10", "bytes 5/10", "bytes 0-1/x", "bytes 0-1/-2",
        "bytes 0-99999999999999999999/*", "bytes 0x0-0x10/100", "0-499/1234"}) {
    EXPECT_FALSE(parse_content_range(bad).has_value()) << bad;
  }
}

// ---- parse_decimal ----------------------------------------------------------

TEST(ParseDecimal, ParsesPlainNumbersWithSurroundingSpace) {
  EXPECT_EQ(parse_decimal("0"), 0u);
  EXPECT_EQ(parse_decimal("42"), 42u);
  EXPECT_EQ(parse_decimal("  42\t"), 42u);
  EXPECT_EQ(parse_decimal("007"), 7u);
  EXPECT_EQ(parse_decimal("5368709120"), 5368709120u);
}

TEST(ParseDecimal, AcceptsTheLargestUint64AndRejectsOverflow) {
  EXPECT_EQ(parse_decimal("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(parse_decimal("18446744073709551616").has_value());
  EXPECT_FALSE(parse_decimal("18446744073709551620").has_value());
  EXPECT_FALSE(parse_decimal("99999999999999999999").has_value());
  EXPECT_FALSE(parse_decimal("184467440737095516150").has_value());
  EXPECT_FALSE(parse_decimal("100000000000000000000000000000").has_value());
}

TEST(ParseDecimal, RejectsAnythingButDigits) {
  for (const char* bad : {"", " ", "-1", "+1", "1.0", "12a", "0x10", "1 2", "1e3", "\xd9\xa3"}) {
    EXPECT_FALSE(parse_decimal(bad).has_value()) << bad;
  }
}

// ---- parse_http_date --------------------------------------------------------

// Regression (found by fuzzing under UBSan): year 1 overflowed system_clock's
// nanosecond count.
TEST(ParseHttpDate, RejectsYearsSystemClockCannotHold) {
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 0001 08:49:37 GMT").has_value());
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 9999 08:49:37 GMT").has_value());
  EXPECT_FALSE(parse_http_date("Sun Nov  6 08:49:37 0001").has_value());
  EXPECT_FALSE(parse_retry_after("Sun, 06 Nov 0001 08:49:37 GMT", std::chrono::system_clock::now())
                   .has_value());
  EXPECT_TRUE(parse_http_date("Sun, 06 Nov 2150 08:49:37 GMT").has_value());
}

TEST(ParseHttpDate, ParsesImfFixdate) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT\r\n"), kRfcExample);
  EXPECT_EQ(parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"),
            system_clock::from_time_t(1445412480));
}

TEST(ParseHttpDate, ParsesRfc850Dates) {
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), kRfcExample);
  // Two-digit years: 70..99 are 19xx, 00..69 are 20xx.
  EXPECT_EQ(parse_http_date("Tuesday, 01-Jan-69 00:00:00 GMT"),
            system_clock::from_time_t(3124224000));
  EXPECT_EQ(parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT"), system_clock::from_time_t(0))
      << "1970-01-01T00:00:00 is epoch 0";
}

TEST(ParseHttpDate, ParsesAsctimeDates) {
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), kRfcExample);
  EXPECT_EQ(parse_http_date("Wed Oct 21 07:28:00 2015"), system_clock::from_time_t(1445412480));
}

TEST(ParseHttpDate, MonthNamesAreCaseInsensitive) {
  EXPECT_EQ(parse_http_date("Sun, 06 NOV 1994 08:49:37 GMT"), kRfcExample);
}

TEST(ParseHttpDate, RejectsInvalidDates) {
  for (const char* bad : {
           "",
           "garbage",
           "Sun,",
           "Sun, 06 Nov 1994 08:49:37",      // no zone
           "Sun, 06 Nov 1994 08:49:37 PST",  // wrong zone
           "Sun, 06 Nov 1994 08:49:37 GMT+1",
           "Sun, 06 Xyz 1994 08:49:37 GMT",  // no such month
           "Sun, 00 Nov 1994 08:49:37 GMT",  // day 0
           "Sun, 32 Nov 1994 08:49:37 GMT",  // day 32
           "Sun, 06 Nov 1994 24:00:00 GMT",  // hour 24
           "Sun, 06 Nov 1994 08:60:00 GMT",  // minute 60
           "Sun, 06 Nov 1994 08:49:61 GMT",  // second 61
           "Sun, 06 Nov 1994 8:49:37 GMT",   // one-digit hour
           "Sun, 06 Nov 1994 08-49-37 GMT",
           "Sun, 06-Nov 1994 08:49:37 GMT",  // mixed separators
           "Sun, 06 Nov 9 08:49:37 GMT",     // one-digit year
           "Sun, Nov 06 1994 08:49:37 GMT",
           "Sun Nov  6 08:49:37 94",        // asctime needs four-digit years
           "Sun Nov  6 08:49:37 1994 GMT",  // trailing text
           "Sun Nov  6 08:49 1994",
           "Sun Foo  6 08:49:37 1994",
           "1994-11-06T08:49:37Z",
       }) {
    EXPECT_FALSE(parse_http_date(bad).has_value()) << bad;
  }
}

// ---- parse_retry_after ------------------------------------------------------

TEST(ParseRetryAfter, ParsesDelaySeconds) {
  const auto now = kRfcExample;
  EXPECT_EQ(parse_retry_after("120", now), milliseconds(120'000));
  EXPECT_EQ(parse_retry_after(" 5 ", now), milliseconds(5'000));
  EXPECT_EQ(parse_retry_after("0", now), milliseconds(0));
}

TEST(ParseRetryAfter, CapsHugeDelaysAtAWeek) {
  const milliseconds week = std::chrono::duration_cast<milliseconds>(std::chrono::hours(24 * 7));
  EXPECT_EQ(parse_retry_after("604800", kRfcExample), week);
  EXPECT_EQ(parse_retry_after("604801", kRfcExample), week);
  EXPECT_EQ(parse_retry_after("18446744073709551615", kRfcExample), week);
}

TEST(ParseRetryAfter, ParsesAFutureDateRelativeToNow) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kRfcExample - seconds(30)),
            milliseconds(30'000));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kRfcExample - milliseconds(1500)),
            milliseconds(1500));
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", kRfcExample - seconds(2)),
            milliseconds(2'000));
}

TEST(ParseRetryAfter, ClampsPastDatesToZero) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kRfcExample), milliseconds(0));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kRfcExample + seconds(3600)),
            milliseconds(0));
}

TEST(ParseRetryAfter, CapsFarFutureDatesAtAWeek) {
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", kRfcExample),
            std::chrono::duration_cast<milliseconds>(std::chrono::hours(24 * 7)));
}

TEST(ParseRetryAfter, RejectsGarbage) {
  for (const char* bad : {"", "soon", "-5", "1.5", "5s", "Sun, 06 Nov 1994"}) {
    EXPECT_FALSE(parse_retry_after(bad, kRfcExample).has_value()) << bad;
  }
}

}  // namespace
}  // namespace haul::net
