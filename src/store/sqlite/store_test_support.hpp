// Shared by the SQLite job store's tests: a fresh temporary directory per
// test, sample jobs and events, and a raw look at the file that bypasses the
// store under test. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_job_store.hpp"

namespace haul::store::sqlite::test_support {

namespace fs = std::filesystem;
using core::Item;
using core::Job;
using core::JobError;
using core::JobState;
using std::chrono::milliseconds;

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
  for (Item& item : job.items) item.speed = 0;
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

// Reads one integer straight from the file, bypassing the store under test.
inline std::int64_t raw_int(const fs::path& path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::int64_t value = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

class SqliteJobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "haul-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ / "state" / "haul.db";  // "state" does not exist yet: open() creates it
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<SqliteJobStore> open_store(std::size_t capacity = 10000) {
    auto store = std::make_unique<SqliteJobStore>(path_, capacity);
    auto opened = store->open();
    EXPECT_TRUE(opened) << opened.error().message;
    return store;
  }

  static void apply_ok(SqliteJobStore& store, const WriteBatch& batch) {
    auto applied = store.apply(batch);
    ASSERT_TRUE(applied) << applied.error().message;
  }

  static std::vector<Job> load_ok(SqliteJobStore& store, const JobFilter& filter = {}) {
    auto jobs = store.load_jobs(filter);
    EXPECT_TRUE(jobs) << jobs.error().message;
    return jobs ? *jobs : std::vector<Job>{};
  }

  fs::path dir_;
  fs::path path_;
};

}  // namespace haul::store::sqlite::test_support
