#include "support/response_writer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace haul::testing::detail {
namespace {

constexpr std::size_t kFullSpeedWrite = std::size_t{64} * 1024;
constexpr std::size_t kTrickleWritesPerSecond = 10;
// Longest a reset waits for earlier bytes to reach the client first.
constexpr auto kResetDrainLimit = std::chrono::seconds(2);

HeaderList full_headers(const ResponsePlan& plan) {
  HeaderList headers;
  if (!has_header(plan.headers, "date")) {
    headers.emplace_back("Date", http_date(std::chrono::system_clock::now()));
  }
  headers.insert(headers.end(), plan.headers.begin(), plan.headers.end());
  if (plan.chunked) {
    headers.emplace_back("Transfer-Encoding", "chunked");
  } else {
    headers.emplace_back("Content-Length", std::to_string(plan.length));
  }
  if (plan.close) {
    headers.emplace_back("Connection", "close");
  }
  return headers;
}

// Sends one payload piece, framed as a chunk when the response is chunked.
bool send_piece(Channel& channel, std::string_view piece, bool chunked) {
  if (!chunked) {
    return channel.send_all(piece);
  }
  char size_line[24];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece.size());
  std::string framed(size_line);
  framed.append(piece).append("\r\n");
  return channel.send_all(framed);
}

// Sends the first `limit` payload bytes, paced when plan.rate is set.
bool send_payload(Channel& channel, const ResponsePlan& plan, std::size_t limit,
                  const BodyCounter& count_body) {
  using Clock = std::chrono::steady_clock;
  const std::size_t piece_size =
      plan.rate == 0 ? kFullSpeedWrite
                     : std::max<std::size_t>(1, plan.rate / kTrickleWritesPerSecond);
  const auto start = Clock::now();
  std::size_t sent = 0;
  while (sent < limit) {
    const auto size = std::min(piece_size, limit - sent);
    const auto counted = static_cast<std::int64_t>(size);
    count_body(counted);
    if (!send_piece(channel, {plan.body->data() + plan.offset + sent, size}, plan.chunked)) {
      count_body(-counted);
      return false;
    }
    sent += size;
    if (plan.rate != 0) {
      const std::chrono::duration<double> due(static_cast<double>(sent) /
                                              static_cast<double>(plan.rate));
      const auto wake = start + std::chrono::duration_cast<Clock::duration>(due);
      if (!channel.pause(wake - Clock::now())) {
        return false;
      }
    }
  }
  return true;
}

// Ends the response after its payload; true when the connection stays usable.
bool finish(Channel& channel, const ResponsePlan& plan) {
  switch (plan.fault) {
    case BodyFault::kReset:
      channel.wait_acknowledged(kResetDrainLimit);
      channel.reset();
      return false;
    case BodyFault::kTruncate:
      channel.close();
      return false;
    case BodyFault::kStall:
      channel.wait_until_gone();
      return false;
    case BodyFault::kNone:
      break;
  }
  if (plan.chunked && !channel.send_all("0\r\n\r\n")) {
    return false;
  }
  return !plan.close;
}

}  // namespace

ResponsePlan ResponsePlan::with_body(int status, std::string body, std::string content_type) {
  ResponsePlan plan;
  plan.status = status;
  if (!content_type.empty()) {
    plan.headers.emplace_back("Content-Type", std::move(content_type));
  }
  plan.length = body.size();
  plan.body = std::make_shared<const std::string>(std::move(body));
  return plan;
}

bool write_response(Channel& channel, const ResponsePlan& plan, const BodyCounter& count_body) {
  if (!channel.send_all(format_response_head(plan.status, full_headers(plan)))) {
    return false;
  }
  if (!plan.send_body) {
    return !plan.close;
  }
  const auto limit =
      plan.fault == BodyFault::kNone ? plan.length : std::min(plan.fault_after, plan.length);
  return send_payload(channel, plan, limit, count_body) && finish(channel, plan);
}

}  // namespace haul::testing::detail
