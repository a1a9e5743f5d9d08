// Shared by the SQLite job store's tests: a fresh temporary directory per
// test and a raw look at the file that bypasses the store under test (the
// sample jobs and events are store/job_store_test_support.hpp's). Test-only.
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

#include "store/job_store_test_support.hpp"
#include "store/sqlite/sqlite_job_store.hpp"

namespace haul::store::sqlite::test_support {

using namespace store::test_support;  // NOLINT(google-build-using-namespace): shared helpers

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
    return opened(std::make_unique<SqliteJobStore>(path_, capacity));
  }

  fs::path dir_;
  fs::path path_;
};

}  // namespace haul::store::sqlite::test_support
