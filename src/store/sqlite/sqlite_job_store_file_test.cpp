// The SQLite job store as a file: opening and creating it, its mode, the
// schema version, failures that must name the path, surviving SIGKILL, and
// two stores sharing one file.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/schema.hpp"
#include "store/sqlite/sqlite_job_store.hpp"
#include "store/sqlite/store_test_support.hpp"

namespace haul::store::sqlite {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test helpers

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

// ---- Opening --------------------------------------------------------------------

TEST_F(SqliteJobStoreTest, OpenCreatesTheDirectoryAndAPrivateWalDatabase) {
  mode_t old_umask = ::umask(022);  // the usual umask would give 0644
  auto store = open_store();
  apply_ok(*store, WriteBatch{{make_job("a", 1)}, {}, {}});
  ::umask(old_umask);

  EXPECT_TRUE(fs::is_directory(path_.parent_path()));
  EXPECT_EQ(mode_of(path_), 0600u);
  fs::path wal = path_;
  wal += "-wal";
  ASSERT_TRUE(fs::exists(wal)) << "WAL mode keeps a -wal file while a connection is open";
  EXPECT_EQ(mode_of(wal), 0600u);

  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
}

TEST_F(SqliteJobStoreTest, OpenTightensTheModeOfAnExistingFile) {
  fs::create_directories(path_.parent_path());
  std::ofstream(path_).close();
  fs::permissions(path_, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read |
                             fs::perms::group_read);
  auto store = open_store();
  EXPECT_EQ(mode_of(path_), 0600u);
}

TEST_F(SqliteJobStoreTest, RecordsTheSchemaVersionAndOpeningAgainChangesNothing) {
  auto store = open_store();
  EXPECT_EQ(raw_int(path_, "SELECT max(version) FROM schema_version"), kSchemaVersion);
  apply_ok(*store, WriteBatch{{make_job("a", 1)}, {}, {make_event(1)}});

  auto again = store->open();  // same object: already open
  ASSERT_TRUE(again) << again.error().message;
  auto second = open_store();  // another object on the same file
  auto third = open_store();
  EXPECT_EQ(raw_int(path_, "SELECT count(*) FROM schema_version"), kSchemaVersion);
  EXPECT_EQ(raw_int(path_, "SELECT count(*) FROM counters"), 3) << "seed rows not duplicated";
  EXPECT_EQ(ids_of(load_ok(*third)), (std::vector<std::string>{"a"}));
  EXPECT_EQ(*third->last_event_id(), 1u);
  EXPECT_EQ(ids_of(load_ok(*store)), (std::vector<std::string>{"a"}));
}

TEST_F(SqliteJobStoreTest, UpgradesAVersionOneDatabaseKeepingItsJobs) {
  {
    auto store = open_store();
    apply_ok(*store, WriteBatch{{make_job("old", 1)}, {}, {}});
  }
  // Turn the file back into what version 1 wrote: no source_options column,
  // no instances, no items.resource, no items.links, no manifests, no
  // items.output_tail, no claim columns (node, owner, lease) nor nodes, no
  // requested_action, no host.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "ALTER TABLE jobs DROP COLUMN source_options;"
                         "DROP TABLE instances;"
                         "ALTER TABLE items DROP COLUMN resource;"
                         "ALTER TABLE items DROP COLUMN links;"
                         "ALTER TABLE items DROP COLUMN output_tail;"
                         "ALTER TABLE items DROP COLUMN error_context;"
                         "ALTER TABLE jobs DROP COLUMN error_context;"
                         "DROP TABLE manifests;"
                         "ALTER TABLE jobs DROP COLUMN node;"
                         "ALTER TABLE jobs DROP COLUMN owner;"
                         "ALTER TABLE jobs DROP COLUMN lease_expires_at;"
                         "ALTER TABLE jobs DROP COLUMN lease_token;"
                         "DROP TABLE nodes;"
                         "ALTER TABLE jobs DROP COLUMN requested_action;"
                         "ALTER TABLE jobs DROP COLUMN host;"
                         "DELETE FROM schema_version WHERE version > 1;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);

  auto store = open_store();
  EXPECT_EQ(raw_int(path_, "SELECT max(version) FROM schema_version"), kSchemaVersion);
  auto jobs = load_ok(*store);
  ASSERT_EQ(ids_of(jobs), (std::vector<std::string>{"old"}));
  EXPECT_TRUE(jobs[0].source_options->empty());
  EXPECT_TRUE(jobs[0].items.at(0).extras->links.empty());
  EXPECT_TRUE(store->load_manifests()->empty());
  Job changed = jobs[0];
  changed.source_options = std::map<std::string, std::string>{{"file", "model.safetensors"}};
  changed.items.at(0).extras.edit().links = {"/ui2/a.bin"};
  changed.items.at(0).extras.edit().output_tail = "Connecting...\nERROR 404: Not Found.\n";
  apply_ok(*store, WriteBatch{{changed}, {}, {}});
  EXPECT_EQ(load_ok(*store)[0].source_options, changed.source_options);
  EXPECT_EQ(load_ok(*store)[0].items.at(0).extras->links, changed.items.at(0).extras->links);
  EXPECT_EQ(load_ok(*store)[0].items.at(0).extras->output_tail,
            changed.items.at(0).extras->output_tail);
}

// jobs.host (migration 9) is written by WriteBatch::hosts alone: the
// runner's upserts leave it, the last host of a batch wins.
TEST_F(SqliteJobStoreTest, StoresAJobsHostApartFromItsUpserts) {
  auto store = open_store();
  apply_ok(*store, WriteBatch{.upserts = {make_job("a", 1), make_job("b", 2)},
                              .hosts = {{"a", "x.example"}, {"a", "a.example"}}});
  EXPECT_EQ(raw_int(path_, "SELECT count(*) FROM jobs WHERE id = 'a' AND host = 'a.example'"), 1);
  EXPECT_EQ(raw_int(path_, "SELECT count(*) FROM jobs WHERE id = 'b' AND host = ''"), 1);
  apply_ok(*store, WriteBatch{.upserts = {make_job("a", 1, JobState::kRunning)}});
  EXPECT_EQ(raw_int(path_, "SELECT count(*) FROM jobs WHERE id = 'a' AND host = 'a.example'"), 1)
      << "an upsert leaves it";
}

TEST_F(SqliteJobStoreTest, RefusesADatabaseFromANewerHaul) {
  open_store().reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(raw, "INSERT INTO schema_version VALUES (99, 0)", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(raw);

  SqliteJobStore store(path_);
  auto opened = store.open();
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("99"), std::string::npos) << opened.error().message;
  EXPECT_NE(opened.error().message.find(path_.string()), std::string::npos);
}

TEST_F(SqliteJobStoreTest, OpenUnderAFileFailsNamingThePath) {
  fs::path blocker = dir_ / "not-a-dir";
  std::ofstream(blocker) << "x";
  fs::path db_path = blocker / "sub" / "haul.db";  // unwritable even for root
  SqliteJobStore store(db_path);
  auto opened = store.open();
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kIo);
  EXPECT_NE(opened.error().message.find("cannot open database " + db_path.string()),
            std::string::npos)
      << opened.error().message;

  // Nothing works on a store that did not open, and nothing throws.
  auto applied = store.apply(WriteBatch{{make_job("a", 1)}, {}, {}});
  ASSERT_FALSE(applied);
  EXPECT_NE(applied.error().message.find(db_path.string()), std::string::npos);
  EXPECT_FALSE(store.load_jobs({}));
  EXPECT_FALSE(store.load_job("a"));
  EXPECT_FALSE(store.max_seq());
  EXPECT_FALSE(store.events_after(0, 1));
  EXPECT_FALSE(store.last_event_id());
}

TEST_F(SqliteJobStoreTest, OpenOnADirectoryFailsNamingThePath) {
  fs::create_directories(path_);  // the database path itself is a directory
  SqliteJobStore store(path_);
  auto opened = store.open();
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kIo);
  EXPECT_NE(opened.error().message.find(path_.string()), std::string::npos)
      << opened.error().message;
}

TEST_F(SqliteJobStoreTest, OpenOnAFileThatIsNotADatabaseFails) {
  fs::create_directories(path_.parent_path());
  std::ofstream(path_) << std::string(4096, 'z');
  SqliteJobStore store(path_);
  auto opened = store.open();
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("cannot open database " + path_.string() + ": "),
            std::string::npos)
      << opened.error().message;
  EXPECT_NE(opened.error().message.find("not a database"), std::string::npos)
      << opened.error().message;
}

// ---- Durability and sharing ------------------------------------------------------

TEST_F(SqliteJobStoreTest, ABatchSurvivesSigkillRightAfterApply) {
  Job job = make_job("durable", 77, JobState::kRunning);
  WriteBatch batch{{job}, {}, {make_event(5, "durable")}};
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    SqliteJobStore store(path_);
    if (!store.open()) ::_exit(2);
    if (!store.apply(batch)) ::_exit(3);
    ::kill(::getpid(), SIGKILL);  // no destructor, no close, no checkpoint
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);

  auto store = open_store();
  auto loaded = store->load_job("durable");
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ(**loaded, job);
  EXPECT_EQ(ids_of(*store->events_after(0, 10)), (std::vector<std::uint64_t>{5}));
  EXPECT_EQ(*store->max_seq(), 77);
}

// A job whose items all carry its generation, so a reader can tell whether
// it saw one commit or a mix of two.
Job generation(const std::string& id, int gen) {
  Job job = make_job(id, 1);
  job.attempts = gen;
  job.items.clear();
  for (int i = 0; i <= gen % 5; ++i) {
    Item item = make_item("s", "p");
    item.state = core::ItemState::kRunning;
    item.bytes_done = static_cast<std::uint64_t>(gen);
    job.items.push_back(item);
  }
  return job;
}

TEST_F(SqliteJobStoreTest, OneStoreReadsConsistentlyWhileAnotherWrites) {
  auto writer = open_store();
  auto reader = open_store();
  const std::vector<std::string> ids = {"a", "b", "c"};
  constexpr int kGenerations = 300;
  std::atomic<bool> done{false};
  std::atomic<int> write_failures{0};

  std::thread writing([&] {
    for (int gen = 0; gen < kGenerations; ++gen) {
      WriteBatch batch;
      for (const std::string& id : ids) batch.upserts.push_back(generation(id, gen));
      batch.events.push_back(make_event(static_cast<std::uint64_t>(gen) + 1));
      if (!writer->apply(batch)) ++write_failures;
    }
    done = true;
  });
  // What is wrong with one load, or "" when it shows a single commit: every
  // job at one generation, each with that generation's items, and never an
  // older generation than the load before.
  int reads = 0;
  int last_gen = -1;
  auto check_one_load = [&]() -> std::string {
    auto jobs = reader->load_jobs({});
    if (!jobs) return jobs.error().message;
    for (const Job& job : *jobs) {
      if (job.attempts != jobs->front().attempts) return "jobs from two commits";
      if (job.items.size() != static_cast<std::size_t>(job.attempts % 5 + 1)) {
        return "job " + job.id + " has items from another commit";
      }
      for (const Item& item : job.items) {
        if (item.bytes_done != static_cast<std::uint64_t>(job.attempts)) return "torn items";
      }
    }
    if (!jobs->empty()) {
      if (jobs->front().attempts < last_gen) return "went back in time";
      last_gen = jobs->front().attempts;
    }
    ++reads;
    return "";
  };
  std::string problem;
  while (problem.empty() && (!done || reads == 0)) problem = check_one_load();
  writing.join();  // before any ASSERT can return while the thread runs
  EXPECT_EQ(problem, "");
  EXPECT_EQ(write_failures, 0);
  EXPECT_GT(reads, 0);

  auto jobs = reader->load_jobs({});
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), ids.size());
  for (const Job& job : *jobs) EXPECT_EQ(job, generation(job.id, kGenerations - 1));
  EXPECT_EQ(*reader->last_event_id(), static_cast<std::uint64_t>(kGenerations));
}

TEST_F(SqliteJobStoreTest, TwoWritersOnOneFileWaitForEachOther) {
  auto first = open_store();
  auto second = open_store();
  constexpr int kPerWriter = 200;
  auto write_all = [](SqliteJobStore& store, const std::string& prefix, int* failures) {
    for (int i = 0; i < kPerWriter; ++i) {
      if (!store.apply(WriteBatch{{make_job(prefix + std::to_string(i), i + 1)}, {}, {}})) {
        ++*failures;
      }
    }
  };
  int first_failures = 0;
  int second_failures = 0;
  std::thread a([&] { write_all(*first, "x", &first_failures); });
  std::thread b([&] { write_all(*second, "y", &second_failures); });
  a.join();
  b.join();
  EXPECT_EQ(first_failures, 0);
  EXPECT_EQ(second_failures, 0);
  EXPECT_EQ(load_ok(*first).size(), 2u * kPerWriter);
  EXPECT_EQ(raw_int(path_, "SELECT count(*) FROM items"), 2 * kPerWriter);
}

}  // namespace
}  // namespace haul::store::sqlite
