// Shared by the job store tests: sample jobs, items and events, a temporary
// folder per test, and calls that fail the test when the store does.
// Test-only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/scratch_dir_test_support.hpp"
#include "store/job_store.hpp"

namespace haul::store::test_support {

namespace fs = std::filesystem;
using core::Item;
using core::Job;
using core::JobError;
using core::JobState;
using std::chrono::milliseconds;

using haul::ScratchDir;

// A time point with whole milliseconds: what the store promises to keep exactly.
inline core::TimePoint at_ms(std::int64_t ms) { return core::TimePoint(milliseconds(ms)); }

inline Item make_item(std::string source, std::string path) {
  Item item;
  item.source = std::move(source);
  item.path = std::move(path);
  return item;
}

inline Job make_job(std::string id, std::int64_t seq, JobState state = JobState::kQueued) {
  Job job;
  job.id = std::move(id);
  job.seq = seq;
  job.source = "https://example.com/" + job.id;
  job.destination = "/models/" + job.id;
  job.name = job.id;
  job.state = state;
  job.created_at = at_ms(1'700'000'000'000 + seq);
  job.items.push_back(make_item(job.source, "/models/" + job.id + "/a.bin"));
  return job;
}

inline StoredEvent make_event(std::uint64_t id, std::string job_id = "job") {
  return StoredEvent{id, "state", std::move(job_id),
                     // Bounded, so an id near 2^63 (a test of the range) stays a valid time.
                     at_ms(1'700'000'000'000 + static_cast<std::int64_t>(id % 1'000'000)),
                     "{\"n\":" + std::to_string(id) + "}"};
}

// What comes back from the store: the live figures are not persisted.
inline Job without_live_figures(Job job) {
  job.speed = 0;
  job.eta_seconds.reset();
  for (Item& item : job.items) {
    item.speed = 0;
    if (item.extras.allocated()) item.extras.edit().output_lines = 0;
  }
  return job;
}

inline std::vector<std::string> ids_of(const std::vector<Job>& jobs) {
  std::vector<std::string> ids;
  ids.reserve(jobs.size());
  for (const Job& job : jobs) ids.push_back(job.id);
  return ids;
}

inline std::vector<std::uint64_t> ids_of(const std::vector<StoredEvent>& events) {
  std::vector<std::uint64_t> ids;
  ids.reserve(events.size());
  for (const StoredEvent& event : events) ids.push_back(event.id);
  return ids;
}

// The store, opened; a failure to open fails the test.
template <class Store>
std::unique_ptr<Store> opened(std::unique_ptr<Store> store) {
  auto done = store->open();
  EXPECT_TRUE(done) << done.error().message;
  return store;
}

inline void apply_ok(JobStore& store, const WriteBatch& batch) {
  auto applied = store.apply(batch);
  ASSERT_TRUE(applied) << applied.error().message;
}

inline std::vector<Job> load_ok(JobStore& store, const JobFilter& filter = {}) {
  auto jobs = store.load_jobs(filter);
  EXPECT_TRUE(jobs) << jobs.error().message;
  return jobs ? *jobs : std::vector<Job>{};
}

}  // namespace haul::store::test_support
