#include "store/postgres/postgres_job_store.hpp"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <utility>

#include "store/guarded.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/job_change.hpp"
#include "store/postgres/job_rows.hpp"
#include "store/postgres/schema.hpp"

namespace haul::store::postgres {
namespace {

constexpr std::string_view kWrite = "write to database";
constexpr std::string_view kRead = "read database";

constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();

// Writers take turns, as SQLite's BEGIN IMMEDIATE makes them: trimming the
// event log and the counters it keeps assume one writer at a time. ASCII
// "haul_wri", fixed forever like the migration lock's key.
constexpr std::int64_t kWriteLockKey = 0x6861756c5f777269;
// The session lock a node holds for its life (serve_as()): FNV-1a of its
// name, fixed forever so that every version computes the same key.
std::int64_t node_lock_key(const std::string& node) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : "haul node " + node) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return static_cast<std::int64_t>(hash);
}

// Rows per INSERT (or DELETE): a batch of thousands of rows costs a few round
// trips instead of one per row, and stays far below PostgreSQL's 65,535
// parameters per statement (15 columns x 1,000 rows).
constexpr std::size_t kRowsPerStatement = 1000;

// "$1, $2, $3": a list for IN (...).
std::string parameter_list(std::size_t count) {
  std::string text;
  for (std::size_t i = 1; i <= count; ++i) {
    if (i > 1) text += ", ";
    text += '$';
    text += std::to_string(i);
  }
  return text;
}

// "a = EXCLUDED.a, b = EXCLUDED.b" for every column of `columns` but the
// first `skip` and any named in `keep` (an update leaves them as they are).
std::string updates(std::string_view columns, std::size_t skip, std::string_view keep = "") {
  std::string text;
  std::size_t index = 0;
  std::size_t start = 0;
  while (start < columns.size()) {
    std::size_t end = columns.find(',', start);
    if (end == std::string_view::npos) end = columns.size();
    std::string_view name = columns.substr(start, end - start);
    name.remove_prefix(std::min(name.find_first_not_of(' '), name.size()));
    if (index++ >= skip && (keep.empty() || name != keep)) {
      if (!text.empty()) text += ", ";
      text.append(name).append(" = EXCLUDED.").append(name);
    }
    start = end + 1;
  }
  return text;
}

// "a, b" -> "i.a, i.b": a column list for a query that joins tables.
std::string prefixed(std::string_view columns, std::string_view prefix) {
  std::string out(prefix);
  for (const char c : columns) {
    out += c;
    if (c == ' ') out += prefix;
  }
  return out;
}

// The last entry of each id (`key`: `id`, or `job_id` for action requests
// and hosts), in the order the ids first appear: an upsert of the same row
// twice in one batch ends as the later one, and one INSERT ... ON CONFLICT
// may not touch a row twice (nor should one UPDATE ... FROM).
template <class T>
std::vector<const T*> last_of_each(const std::vector<T>& entries, std::string T::*key = &T::id) {
  std::unordered_map<std::string_view, std::size_t> index_of;
  std::vector<const T*> unique;
  for (const T& entry : entries) {
    auto [it, inserted] = index_of.try_emplace(entry.*key, unique.size());
    if (inserted) {
      unique.push_back(&entry);
    } else {
      unique[it->second] = &entry;
    }
  }
  return unique;
}

// last_of_each(), with each id's first created_at: the row a second upsert
// in SQLite leaves, whose update does not touch created_at.
template <class T>
std::vector<T> merged_upserts(const std::vector<T>& entries) {
  std::unordered_map<std::string_view, core::TimePoint> first_created;
  for (const T& entry : entries) first_created.try_emplace(entry.id, entry.created_at);
  std::vector<T> merged;
  for (const T* entry : last_of_each(entries)) {
    merged.push_back(*entry);
    merged.back().created_at = first_created[entry->id];
  }
  return merged;
}

// Runs `statement_for(rows)` over `entries` in chunks of kRowsPerStatement,
// each chunk's parameters added by `add(params, entry)`.
template <class T, class Sql, class Add>
Result<void> in_chunks(Connection& db, const std::vector<T>& entries, Sql&& statement_for,
                       Add&& add) {
  for (std::size_t first = 0; first < entries.size(); first += kRowsPerStatement) {
    const std::size_t count = std::min(kRowsPerStatement, entries.size() - first);
    Params params;
    for (std::size_t i = first; i < first + count; ++i) {
      if (auto added = add(params, entries[i]); !added) return added;
    }
    if (auto done = db.exec(statement_for(count), params, kWrite); !done) return fail(done.error());
  }
  return {};
}

Result<void> delete_ids(Connection& db, std::string_view table,
                        const std::vector<std::string>& ids) {
  return in_chunks(
      db, ids,
      [&](std::size_t count) {
        return "DELETE FROM " + std::string(table) + " WHERE id IN (" + parameter_list(count) + ")";
      },
      [](Params& params, const std::string& id) -> Result<void> {
        params.add(id);
        return {};
      });
}

}  // namespace

PostgresJobStore::PostgresJobStore(std::string url, std::size_t event_capacity)
    : url_(std::move(url)), redacted_url_(redact_password(url_)), event_capacity_(event_capacity) {}

PostgresJobStore::~PostgresJobStore() = default;

Result<void> PostgresJobStore::check_open() const {
  if (db_) return {};
  return fail(ErrorCode::kInternal, "database " + redacted_url_ + " is not open");
}

Result<void> PostgresJobStore::open() {
  return guarded("cannot open database " + redacted_url_, [&]() -> Result<void> {
    if (db_) return {};
    auto connected = Connection::connect(url_);
    if (!connected) return fail(connected.error());
    auto db = std::make_unique<Connection>(std::move(*connected));
    if (auto migrated = migrate(*db); !migrated) return fail(migrated.error());
    if (serving_) {
      if (auto held = db->hold_session_lock(node_lock_key(node_name_),
                                            "another haul node named '" + node_name_ +
                                                "' is serving the queue in " + redacted_url_ +
                                                ": give each node its own --node");
          !held) {
        return fail(held.error());
      }
    }
    // Only a fully set-up connection becomes the store's, so open() may
    // simply be called again after a failure.
    db_ = std::move(db);
    return {};
  });
}

// ---- Writing ------------------------------------------------------------------

Result<void> PostgresJobStore::write_jobs(const WriteBatch& batch) {
  Connection& db = *db_;
  const std::vector<const core::Job*> jobs = last_of_each(batch.upserts);
  const std::string job_upsert = "INSERT INTO jobs (" + std::string(kJobColumns) + ") VALUES ";
  const std::string job_conflict = " ON CONFLICT (id) DO UPDATE SET " + updates(kJobColumns, 1);
  if (auto done = in_chunks(
          db, jobs,
          [&](std::size_t count) {
            return job_upsert + parameter_rows(count, kJobColumnCount) + job_conflict;
          },
          [](Params& params, const core::Job* job) -> Result<void> {
            add_job(params, *job);
            return {};
          });
      !done) {
    return done;
  }

  // Items are rewritten in place by (job_id, idx) and only the surplus
  // deleted: a progress update keeps the item count, and updating a row
  // costs less than deleting it and inserting it again.
  struct ItemRef {
    const core::Job* job;
    std::size_t idx;
  };
  std::vector<ItemRef> items;
  for (const core::Job* job : jobs) {
    for (std::size_t idx = 0; idx < job->items.size(); ++idx) items.push_back({job, idx});
  }
  const std::string item_upsert = "INSERT INTO items (" + std::string(kItemColumns) + ") VALUES ";
  const std::string item_conflict =
      " ON CONFLICT (job_id, idx) DO UPDATE SET " + updates(kItemColumns, 2);
  if (auto done = in_chunks(
          db, items,
          [&](std::size_t count) {
            return item_upsert + parameter_rows(count, kItemColumnCount) + item_conflict;
          },
          [](Params& params, const ItemRef& ref) -> Result<void> {
            add_item(params, ref.job->id, static_cast<std::int64_t>(ref.idx),
                     ref.job->items[ref.idx]);
            return {};
          });
      !done) {
    return done;
  }
  if (auto done = in_chunks(
          db, jobs,
          [](std::size_t count) {
            // Typed: VALUES outside an INSERT gives its parameters no type.
            std::string values;
            for (std::size_t i = 0; i < count; ++i) {
              values += i == 0 ? "(" : ", (";
              values += "$" + std::to_string(2 * i + 1) + "::text, $" + std::to_string(2 * i + 2) +
                        "::bigint)";
            }
            return "DELETE FROM items i USING (VALUES " + values +
                   ") AS k (job_id, n) WHERE i.job_id = k.job_id AND i.idx >= k.n";
          },
          [](Params& params, const core::Job* job) -> Result<void> {
            params.add(job->id);
            params.add(static_cast<std::int64_t>(job->items.size()));
            return {};
          });
      !done) {
    return done;
  }
  // The items go with their job (ON DELETE CASCADE, always enforced here).
  return delete_ids(db, "jobs", batch.deletes);
}

// After the deletes, as in SQLite: a request for a job deleted in the same
// batch finds no row, as one for a job never stored, and is dropped.
Result<void> PostgresJobStore::write_action_requests(const WriteBatch& batch) {
  return in_chunks(
      *db_, last_of_each(batch.action_requests, &ActionRequest::job_id),
      [](std::size_t count) {
        // Only requested_action: the job's runner owns the rest of the row.
        return "UPDATE jobs j SET requested_action = v.action FROM (VALUES " +
               parameter_rows(count, 2, "::text") + ") AS v (id, action) WHERE j.id = v.id";
      },
      [](Params& params, const ActionRequest* request) -> Result<void> {
        params.add(request->job_id);
        params.add(stored_action_name(request->action));
        return {};
      });
}

// After the job's writes, in their transaction (WriteBatch::releases).
Result<void> PostgresJobStore::write_releases(const WriteBatch& batch) {
  return in_chunks(
      *db_, batch.releases,
      [](std::size_t count) {
        return "UPDATE jobs j SET owner = NULL, lease_expires_at = NULL, requested_action = '' "
               "FROM (VALUES " +
               parameter_rows(count, 3) +
               ") AS v (id, node, token) WHERE j.id = v.id::text AND j.owner = v.node::text AND "
               "j.lease_token = v.token::bigint";
      },
      [](Params& params, const Fence& release) -> Result<void> {
        params.add(release.job_id);
        params.add(release.node);
        params.add(release.token);
        return {};
      });
}

// Likewise after the deletes: a host for a job deleted in the same batch,
// or never stored, finds no row and is dropped.
Result<void> PostgresJobStore::write_hosts(const WriteBatch& batch) {
  return in_chunks(
      *db_, last_of_each(batch.hosts, &JobHost::job_id),
      [](std::size_t count) {
        // Only host: job upserts never name it, so they never undo it.
        return "UPDATE jobs j SET host = v.host FROM (VALUES " +
               parameter_rows(count, 2, "::text") + ") AS v (id, host) WHERE j.id = v.id";
      },
      [](Params& params, const JobHost* host) -> Result<void> {
        params.add(host->job_id);
        params.add(host->host);
        return {};
      });
}

Result<void> PostgresJobStore::write_instances_and_manifests(const WriteBatch& batch) {
  Connection& db = *db_;
  // An update keeps the row's created_at: it says when it was first registered.
  const std::vector<core::Instance> instances = merged_upserts(batch.instance_upserts);
  if (auto done = in_chunks(
          db, instances,
          [](std::size_t count) {
            return "INSERT INTO instances (" + std::string(kInstanceColumns) + ") VALUES " +
                   parameter_rows(count, kInstanceColumnCount) +
                   " ON CONFLICT (id) DO UPDATE SET " + updates(kInstanceColumns, 1, "created_at");
          },
          [](Params& params, const core::Instance& instance) -> Result<void> {
            add_instance(params, instance);
            return {};
          });
      !done) {
    return done;
  }
  if (auto done = delete_ids(db, "instances", batch.instance_deletes); !done) return done;
  const std::vector<StoredManifest> manifests = merged_upserts(batch.manifest_upserts);
  if (auto done = in_chunks(
          db, manifests,
          [](std::size_t count) {
            return "INSERT INTO manifests (" + std::string(kManifestColumns) + ") VALUES " +
                   parameter_rows(count, kManifestColumnCount) +
                   " ON CONFLICT (id) DO UPDATE SET " + updates(kManifestColumns, 1, "created_at");
          },
          [](Params& params, const StoredManifest& manifest) -> Result<void> {
            add_manifest(params, manifest);
            return {};
          });
      !done) {
    return done;
  }
  return delete_ids(db, "manifests", batch.manifest_deletes);
}

Result<void> PostgresJobStore::write_events_and_marks(const WriteBatch& batch) {
  Connection& db = *db_;
  // Several nodes on one queue number their events from their own clocks,
  // so two may meet on an id: the event stored first keeps it and the later
  // one is dropped (ON CONFLICT DO NOTHING) rather than failing the batch,
  // and with it every job write merged into it. SQLite, with one writer,
  // still refuses an id already taken.
  std::int64_t inserted = 0;
  for (std::size_t first = 0; first < batch.events.size(); first += kRowsPerStatement) {
    const std::size_t count = std::min(kRowsPerStatement, batch.events.size() - first);
    Params params;
    for (std::size_t i = first; i < first + count; ++i) {
      if (auto added = add_event(params, batch.events[i]); !added) return added;
    }
    auto done =
        db.exec("INSERT INTO events (" + std::string(kEventColumns) + ") VALUES " +
                    parameter_rows(count, kEventColumnCount) + " ON CONFLICT (id) DO NOTHING",
                params, kWrite);
    if (!done) return fail(done.error());
    inserted += done->affected();
  }
  if (inserted > 0) {
    // Keeps the newest event_capacity events by id, in one round trip. The
    // row count lives in counters (updated here too, by the rows really
    // inserted), so this costs the rows it removes; OFFSET or count(*)
    // would walk the whole log on every commit.
    Params trim;
    trim.add(inserted);
    trim.add(static_cast<std::int64_t>(
        std::min<std::size_t>(event_capacity_, static_cast<std::size_t>(kMaxInt64))));
    if (auto done = db.exec(
            "WITH total AS (SELECT value + $1::bigint AS n FROM counters "
            "WHERE name = 'event_count'), "
            "gone AS (DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id "
            "LIMIT greatest((SELECT n FROM total) - $2::bigint, 0)) RETURNING 1) "
            "UPDATE counters SET value = (SELECT n FROM total) - (SELECT count(*) FROM gone) "
            "WHERE name = 'event_count'",
            trim, kWrite);
        !done) {
      return fail(done.error());
    }
  }
  std::int64_t highest_seq = 0;
  for (const core::Job& job : batch.upserts) highest_seq = std::max(highest_seq, job.seq);
  std::int64_t highest_event = 0;
  for (const StoredEvent& event : batch.events)
    highest_event = std::max(highest_event, static_cast<std::int64_t>(event.id));
  if (highest_seq == 0 && highest_event == 0) return {};
  Params marks;
  marks.add(highest_seq);
  marks.add(highest_event);
  auto raised = db.exec(
      "UPDATE counters SET value = greatest(value, CASE name WHEN 'max_seq' THEN $1::bigint "
      "ELSE $2::bigint END) WHERE name IN ('max_seq', 'last_event_id')",
      marks, kWrite);
  if (!raised) return fail(raised.error());
  return {};
}

// The body of apply(), inside its transaction; any error leaves the caller
// to roll back. The steps follow SQLite's order, which decides what wins when
// a batch both upserts and deletes one id: the delete.
Result<void> PostgresJobStore::write(const WriteBatch& batch) {
  if (auto held = check_fences(batch.fences); !held) return held;
  if (auto done = write_jobs(batch); !done) return done;
  if (auto done = write_action_requests(batch); !done) return done;
  if (auto done = write_hosts(batch); !done) return done;
  if (auto done = write_releases(batch); !done) return done;
  if (auto done = write_instances_and_manifests(batch); !done) return done;
  // Queued now, sent by the server at COMMIT (in commit order, after the
  // rows are visible to the listeners that reload them) or dropped by a
  // rollback. NOTIFY serializes committing transactions that notify;
  // writers here take turns under kWriteLockKey anyway.
  if (auto done = notify_changes(*db_, batch, node_name_); !done) return done;
  return write_events_and_marks(batch);
}

Result<void> PostgresJobStore::apply(const WriteBatch& batch) {
  if (auto open = check_open(); !open) return open;
  if (batch.empty() && batch.fences.empty()) return {};
  Connection& db = *db_;
  if (auto begun = db.exec_script(
          "BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(kWriteLockKey) + ")", kWrite);
      !begun) {
    db.roll_back();
    return fail(begun.error());
  }
  auto written = guarded("cannot write to database " + redacted_url_, [&] { return write(batch); });
  if (!written) {
    db.roll_back();
    return written;
  }
  if (auto committed = db.exec_script("COMMIT", kWrite); !committed) {
    db.roll_back();
    return fail(committed.error());
  }
  return {};
}

// ---- Reading ------------------------------------------------------------------

template <class F>
Result<void> PostgresJobStore::in_snapshot(F&& body) {
  Connection& db = *db_;
  if (auto begun = db.exec_script("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", kRead);
      !begun) {
    db.roll_back();
    return fail(begun.error());
  }
  auto result = guarded("cannot read database " + redacted_url_, body);
  if (!result) {
    db.roll_back();
    return result;
  }
  if (auto done = db.exec_script("COMMIT", kRead); !done) {
    db.roll_back();
    return fail(done.error());
  }
  return {};
}

Result<std::vector<core::Job>> PostgresJobStore::read_jobs(const JobFilter& filter) {
  // Parameters are numbered in the order the filter's parts are present.
  Params params;
  std::string where;
  auto add = [&](std::string_view column, std::string_view value) {
    params.add(value);
    where += where.empty() ? " WHERE " : " AND ";
    where.append("j.").append(column).append(" = $").append(std::to_string(params.size()));
  };
  if (filter.state) add("state", core::state_name(*filter.state));
  if (filter.target) add("target", *filter.target);
  if (filter.group) add("group_name", *filter.group);
  // COLLATE "C": ties in seq go by the bytes of the id, as in SQLite,
  // whatever the database's collation.
  const std::string jobs_sql = "SELECT " + job_load_columns() + " FROM jobs j" + where +
                               " ORDER BY j.seq, j.id COLLATE \"C\"";
  std::string items_sql = "SELECT " + prefixed(kItemColumns, "i.") + " FROM items i";
  if (!where.empty()) items_sql += " JOIN jobs j ON j.id = i.job_id" + where;
  items_sql += " ORDER BY i.job_id, i.idx";

  std::vector<core::Job> jobs;
  auto read = in_snapshot([&]() -> Result<void> {
    auto job_rows = db_->exec(jobs_sql, params, kRead);
    if (!job_rows) return fail(job_rows.error());
    std::unordered_map<std::string, std::size_t> index_of;
    jobs.reserve(static_cast<std::size_t>(job_rows->size()));
    for (int row = 0; row < job_rows->size(); ++row) {
      auto job = read_job(Row(*job_rows, row));
      if (!job) return fail(job.error());
      index_of.emplace(job->id, jobs.size());
      jobs.push_back(std::move(*job));
    }
    auto item_rows = db_->exec(items_sql, params, kRead);
    if (!item_rows) return fail(item_rows.error());
    for (int row = 0; row < item_rows->size(); ++row) {
      auto owner = index_of.find(item_rows->text(row, 0));
      if (owner == index_of.end()) continue;
      auto item = read_item(Row(*item_rows, row));
      if (!item) return fail(item.error());
      jobs[owner->second].items.push_back(std::move(*item));
    }
    return {};
  });
  if (!read) return fail(read.error());
  return jobs;
}

Result<std::optional<core::Job>> PostgresJobStore::read_job_by_id(const std::string& id) {
  std::optional<core::Job> found;
  Params params;
  params.add(id);
  auto read = in_snapshot([&]() -> Result<void> {
    auto job_rows =
        db_->exec("SELECT " + job_load_columns() + " FROM jobs WHERE id = $1", params, kRead);
    if (!job_rows) return fail(job_rows.error());
    if (job_rows->size() == 0) return {};
    auto job = read_job(Row(*job_rows, 0));
    if (!job) return fail(job.error());
    found = std::move(*job);
    auto item_rows = db_->exec(
        "SELECT " + std::string(kItemColumns) + " FROM items WHERE job_id = $1 ORDER BY idx",
        params, kRead);
    if (!item_rows) return fail(item_rows.error());
    for (int row = 0; row < item_rows->size(); ++row) {
      auto item = read_item(Row(*item_rows, row));
      if (!item) return fail(item.error());
      found->items.push_back(std::move(*item));
    }
    return {};
  });
  if (!read) return fail(read.error());
  return found;
}

Result<std::vector<core::Job>> PostgresJobStore::load_jobs(const JobFilter& filter) {
  if (auto open = check_open(); !open) return fail(open.error());
  return guarded("cannot read database " + redacted_url_, [&] { return read_jobs(filter); });
}

Result<std::optional<core::Job>> PostgresJobStore::load_job(const std::string& id) {
  if (auto open = check_open(); !open) return fail(open.error());
  return guarded("cannot read database " + redacted_url_, [&] { return read_job_by_id(id); });
}

Result<std::int64_t> PostgresJobStore::counter(std::string_view name) {
  if (auto open = check_open(); !open) return fail(open.error());
  return guarded("cannot read database " + redacted_url_, [&]() -> Result<std::int64_t> {
    Params params;
    params.add(name);
    auto rows = db_->exec("SELECT value FROM counters WHERE name = $1", params, kRead);
    if (!rows) return fail(rows.error());
    return rows->size() > 0 ? rows->int64(0, 0) : 0;
  });
}

Result<std::int64_t> PostgresJobStore::max_seq() { return counter("max_seq"); }

Result<std::uint64_t> PostgresJobStore::last_event_id() {
  auto value = counter("last_event_id");
  if (!value) return fail(value.error());
  return static_cast<std::uint64_t>(*value);
}

Result<std::vector<StoredEvent>> PostgresJobStore::events_after(std::uint64_t after,
                                                                std::size_t limit) {
  if (auto open = check_open(); !open) return fail(open.error());
  std::vector<StoredEvent> events;
  if (limit == 0 || after >= static_cast<std::uint64_t>(kMaxInt64)) return events;
  return guarded("cannot read database " + redacted_url_,
                 [&]() -> Result<std::vector<StoredEvent>> {
                   Params params;
                   params.add(static_cast<std::int64_t>(after));
                   params.add(static_cast<std::int64_t>(
                       std::min<std::size_t>(limit, static_cast<std::size_t>(kMaxInt64))));
                   auto rows = db_->exec("SELECT " + std::string(kEventColumns) +
                                             " FROM events WHERE id > $1 ORDER BY id LIMIT $2",
                                         params, kRead);
                   if (!rows) return fail(rows.error());
                   events.reserve(static_cast<std::size_t>(rows->size()));
                   for (int row = 0; row < rows->size(); ++row)
                     events.push_back(read_event(Row(*rows, row)));
                   return events;
                 });
}

Result<std::vector<core::Instance>> PostgresJobStore::load_instances() {
  if (auto open = check_open(); !open) return fail(open.error());
  return guarded(
      "cannot read database " + redacted_url_, [&]() -> Result<std::vector<core::Instance>> {
        auto rows = db_->exec(
            "SELECT " + std::string(kInstanceColumns) + " FROM instances ORDER BY id COLLATE \"C\"",
            Params{}, kRead);
        if (!rows) return fail(rows.error());
        std::vector<core::Instance> instances;
        instances.reserve(static_cast<std::size_t>(rows->size()));
        for (int row = 0; row < rows->size(); ++row)
          instances.push_back(read_instance(Row(*rows, row)));
        return instances;
      });
}

Result<std::vector<StoredManifest>> PostgresJobStore::load_manifests() {
  if (auto open = check_open(); !open) return fail(open.error());
  return guarded(
      "cannot read database " + redacted_url_, [&]() -> Result<std::vector<StoredManifest>> {
        auto rows = db_->exec(
            "SELECT " + std::string(kManifestColumns) + " FROM manifests ORDER BY id COLLATE \"C\"",
            Params{}, kRead);
        if (!rows) return fail(rows.error());
        std::vector<StoredManifest> manifests;
        manifests.reserve(static_cast<std::size_t>(rows->size()));
        for (int row = 0; row < rows->size(); ++row)
          manifests.push_back(read_manifest(Row(*rows, row)));
        return manifests;
      });
}

}  // namespace haul::store::postgres
