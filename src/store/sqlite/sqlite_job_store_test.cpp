// What only the SQLite job store does with its rows: items replaced and
// deleted with their job, event ids past the signed range refused, a batch
// failing midway rolled back, everything kept across a reopen. The contract
// every store keeps is src/store/job_store_contract_test.cpp; opening, files,
// crashes and sharing a file are in sqlite_job_store_file_test.cpp.
#include "store/sqlite/sqlite_job_store.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "store/sqlite/store_test_support.hpp"

namespace haul::store::sqlite {
namespace {

using namespace test_support;  // NOLINT(google-build-using-namespace): test helpers

// ---- Jobs and items -------------------------------------------------------------

TEST_F(SqliteJobStoreTest, RejectsAnEventIdPastSignedRange) {
  auto store = open_store();
  auto applied =
      store->apply(WriteBatch{{make_job("a", 1)}, {}, {make_event(std::uint64_t{1} << 63)}});
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(load_ok(*store).empty()) << "the whole batch is rolled back";
}

TEST_F(SqliteJobStoreTest, ItemRowsFollowTheirJob) {
  auto store = open_store();
  Job job = make_job("a", 1);
  job.items = {make_item("s1", "p1"), make_item("s2", "p2"), make_item("s3", "p3")};
  apply_ok(*store, WriteBatch{{job}, {}, {}});
  EXPECT_EQ(raw_int(path_, "SELECT count(*) FROM items"), 3);
  job.items = {make_item("s9", "p9")};
  apply_ok(*store, WriteBatch{{job, make_job("b", 2)}, {}, {}});
  EXPECT_EQ(raw_int(path_, "SELECT count(*) FROM items"), 2);
  EXPECT_EQ(raw_int(path_, "SELECT count(*) FROM jobs"), 2);
  apply_ok(*store, WriteBatch{{}, {"a"}, {}});
  EXPECT_EQ(raw_int(path_, "SELECT count(*) FROM items WHERE job_id = 'a'"), 0);
  apply_ok(*store, WriteBatch{{make_job("c", 3)}, {"c"}, {}});
  EXPECT_EQ(raw_int(path_, "SELECT count(*) FROM items"), 1);
}

// A queue holds plain jobs by the hundred thousand: what they do not use
// (labels, source options, an item's command details) takes no memory once
// loaded (issue 14: 1 KiB a queued job).
TEST_F(SqliteJobStoreTest, APlainJobLoadsWithoutItsRarelyUsedParts) {
  auto store = open_store();
  Job plain = make_job("plain", 1);
  plain.items = {make_item("s1", "p1")};
  Job rich = make_job("rich", 2);
  rich.labels = std::map<std::string, std::string>{{"model", "m"}};
  rich.items = {make_item("s2", "p2")};
  rich.items[0].extras.edit().resource = "loras/x.md";
  apply_ok(*store, WriteBatch{{plain, rich}, {}, {}});
  const std::vector<Job> loaded = load_ok(*store);
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_FALSE(loaded[0].labels.allocated());
  EXPECT_FALSE(loaded[0].source_options.allocated());
  EXPECT_FALSE(loaded[0].items.at(0).extras.allocated());
  EXPECT_TRUE(loaded[1].labels.allocated());
  EXPECT_EQ(loaded[1].items.at(0).extras->resource, "loras/x.md");
}

// A job of many items writes only the item rows that changed; what is read
// back is the job all the same, also after a failed transaction.
TEST_F(SqliteJobStoreTest, ManyItemsWriteOnlyWhatChangedAndReadBackWhole) {
  auto store = open_store();
  Job job = make_job("many", 1);
  for (int i = 0; i < 20; ++i)
    job.items.push_back(make_item("s" + std::to_string(i), "p" + std::to_string(i)));
  apply_ok(*store, WriteBatch{{job}, {}, {make_event(1)}});
  job.items[7].bytes_done = 12345;
  job.items[7].state = core::ItemState::kFailed;
  job.items[7].error = core::JobError{"not_found", "404 Not Found"};
  job.items[19].extras.edit().links = {"/a/link"};
  apply_ok(*store, WriteBatch{{job}, {}, {}});
  EXPECT_EQ(load_ok(*store), (std::vector<Job>{job}));

  job.items[3].path = "changed";
  WriteBatch bad{{job}, {}, {make_event(2), make_event(1)}};  // event 1 again: refused
  ASSERT_FALSE(store->apply(bad));
  apply_ok(*store, WriteBatch{{job}, {}, {}});
  EXPECT_EQ(load_ok(*store), (std::vector<Job>{job})) << "the failed batch wrote nothing";
  job.items.resize(17);
  apply_ok(*store, WriteBatch{{job}, {}, {}});
  EXPECT_EQ(load_ok(*store), (std::vector<Job>{job}));
}

// ---- Transactions and durability --------------------------------------------

TEST_F(SqliteJobStoreTest, ABatchThatFailsMidwayAppliesNothing) {
  auto store = open_store();
  Job a = make_job("a", 1);
  Job b = make_job("b", 2);
  apply_ok(*store, WriteBatch{{a, b}, {}, {make_event(1)}});

  Job changed = a;
  changed.state = JobState::kFailed;
  changed.items.clear();
  WriteBatch bad{{changed, make_job("new", 50)}, {"b"}, {make_event(2), make_event(1)}};
  auto applied = store->apply(bad);
  ASSERT_FALSE(applied);
  EXPECT_NE(applied.error().message.find(path_.string()), std::string::npos)
      << applied.error().message;

  EXPECT_EQ(load_ok(*store), (std::vector<Job>{a, b}));
  EXPECT_EQ(ids_of(*store->events_after(0, 10)), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(*store->max_seq(), 2);
  EXPECT_EQ(*store->last_event_id(), 1u);

  // The store is usable afterwards: the failed transaction is gone.
  apply_ok(*store, WriteBatch{{changed}, {}, {make_event(2)}});
  EXPECT_EQ(load_ok(*store)[0], changed);
}

TEST_F(SqliteJobStoreTest, ReopeningTheFileKeepsEverything) {
  Job a = make_job("a", 1, JobState::kPaused);
  a.labels = std::map<std::string, std::string>{{"k", "v"}};
  Job b = make_job("b", 2, JobState::kCompleted);
  b.finished_at = at_ms(1'700'000'500'000);
  {
    auto store = open_store(/*capacity=*/3);
    apply_ok(*store, WriteBatch{{a, b}, {}, {make_event(1), make_event(2)}});
  }
  auto store = open_store(/*capacity=*/3);
  EXPECT_EQ(load_ok(*store), (std::vector<Job>{a, b}));
  EXPECT_EQ(*store->max_seq(), 2);
  EXPECT_EQ(*store->last_event_id(), 2u);
  // The trimming state survived too: two more events push out exactly one.
  apply_ok(*store, WriteBatch{{}, {}, {make_event(3), make_event(4)}});
  EXPECT_EQ(ids_of(*store->events_after(0, 10)), (std::vector<std::uint64_t>{2, 3, 4}));
}

}  // namespace
}  // namespace haul::store::sqlite
