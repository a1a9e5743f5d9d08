#include "core/job.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <random>

namespace haul::core {

namespace {
constexpr std::array<std::pair<JobState, std::string_view>, 7> kStateNames = {{
    {JobState::kQueued, "queued"},
    {JobState::kRunning, "running"},
    {JobState::kRetrying, "retrying"},
    {JobState::kPaused, "paused"},
    {JobState::kCompleted, "completed"},
    {JobState::kFailed, "failed"},
    {JobState::kCancelled, "cancelled"},
}};
}  // namespace

std::string_view state_name(JobState state) {
  for (const auto& [value, name] : kStateNames) {
    if (value == state) return name;
  }
  return "unknown";
}

std::optional<JobState> parse_state(std::string_view name) {
  for (const auto& [value, text] : kStateNames) {
    if (text == name) return value;
  }
  return std::nullopt;
}

bool is_finished(JobState state) {
  return state == JobState::kCompleted || state == JobState::kFailed ||
         state == JobState::kCancelled;
}

std::string_view action_name(Action action) {
  switch (action) {
    case Action::kPause:
      return "pause";
    case Action::kResume:
      return "resume";
    case Action::kRetry:
      return "retry";
    case Action::kCancel:
      return "cancel";
  }
  return "unknown";
}

std::optional<JobState> state_after(JobState state, Action action) {
  switch (action) {
    case Action::kPause:
      if (state == JobState::kQueued || state == JobState::kRunning ||
          state == JobState::kRetrying) {
        return JobState::kPaused;
      }
      return std::nullopt;
    case Action::kResume:
      if (state == JobState::kPaused) return JobState::kQueued;
      return std::nullopt;
    case Action::kRetry:
      if (state == JobState::kFailed || state == JobState::kCancelled) return JobState::kQueued;
      if (state == JobState::kRetrying) return JobState::kQueued;  // now, not at next_attempt_at
      return std::nullopt;
    case Action::kCancel:
      if (!is_finished(state)) return JobState::kCancelled;
      return std::nullopt;
  }
  return std::nullopt;
}

std::uint64_t Job::bytes_done() const {
  std::uint64_t total = 0;
  for (const Item& item : items) total += item.bytes_done;
  return total;
}

std::optional<std::uint64_t> Job::bytes_total() const {
  std::uint64_t total = 0;
  for (const Item& item : items) {
    if (!item.size) return std::nullopt;
    total += *item.size;
  }
  return total;
}

double Job::percent() const {
  if (state == JobState::kCompleted) return 100.0;
  if (items.empty()) return 0.0;
  if (auto total = bytes_total()) {
    if (*total == 0) return 0.0;
    return 100.0 * static_cast<double>(bytes_done()) / static_cast<double>(*total);
  }
  // Unknown sizes: a finished item counts whole, a running one by the
  // percentage its command reported.
  double done = 0;
  for (const Item& item : items) {
    if (item.state == JobState::kCompleted) {
      done += 1;
    } else if (item.percent) {
      done += std::clamp(*item.percent, 0.0, 100.0) / 100.0;
    }
  }
  return 100.0 * done / static_cast<double>(items.size());
}

void settle_items(Job& job) {
  for (Item& item : job.items) {
    if (item.state == JobState::kCompleted) continue;
    switch (job.state) {
      case JobState::kPaused:
      case JobState::kCancelled:
      case JobState::kFailed:
        item.state = job.state;
        item.speed = 0;
        break;
      case JobState::kQueued:
        if (item.state == JobState::kPaused || item.state == JobState::kCancelled ||
            item.state == JobState::kRunning)
          item.state = JobState::kQueued;
        break;
      default:
        break;
    }
  }
}

std::string new_job_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t hi = rng();
  const std::uint64_t lo = rng();
  std::array<unsigned char, 16> b{};
  for (int i = 0; i < 8; ++i) {
    b[static_cast<std::size_t>(i)] = static_cast<unsigned char>(hi >> (56 - 8 * i));
    b[static_cast<std::size_t>(8 + i)] = static_cast<unsigned char>(lo >> (56 - 8 * i));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof text,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return text;
}

}  // namespace haul::core
