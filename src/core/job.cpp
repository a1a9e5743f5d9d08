#include "core/job.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>

namespace haul::core {

// A queued job is a node of the scheduler's map: 352 bytes keep that node in
// mimalloc's 384-byte class (bench/RESULTS.md, 100,000 queued jobs). A field
// more needs room made elsewhere, or the memory target moves.
static_assert(sizeof(Job) <= 352, "Job outgrew its allocation class");

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

std::optional<std::int32_t> Job::eta_at_speed() const {
  const auto total = bytes_total();
  if (!total || speed <= 0 || *total < bytes_done()) return std::nullopt;
  const double seconds = std::ceil(static_cast<double>(*total - bytes_done()) / speed);
  return static_cast<std::int32_t>(
      std::min(seconds, double{std::numeric_limits<std::int32_t>::max()}));
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
    if (item.state == ItemState::kCompleted) {
      done += 1;
    } else if (item.extras->percent) {
      done += std::clamp(*item.extras->percent, 0.0, 100.0) / 100.0;
    }
  }
  return 100.0 * done / static_cast<double>(items.size());
}

std::string item_sources(const Job& job) {
  std::string sources;
  for (const Item& item : job.items) sources += item.source + '\n';
  return sources;
}

void settle_items(Job& job) {
  for (Item& item : job.items) {
    const ItemState next = item_state_in(item.state, job.state);
    if (next != ItemState::kRunning) item.speed = 0;
    item.state = next;
  }
}

std::string new_job_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t hi = rng();
  const std::uint64_t lo = rng();
  std::array<unsigned char, 16> b{};
  for (int i = 0; i < 8; ++i) {
    const auto index = static_cast<std::size_t>(i);
    b[index] = static_cast<unsigned char>(hi >> (56 - 8 * i));
    b[index + 8] = static_cast<unsigned char>(lo >> (56 - 8 * i));
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
