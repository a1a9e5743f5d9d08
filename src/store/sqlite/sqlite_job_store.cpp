#include "store/sqlite/sqlite_job_store.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>

#include "store/guarded.hpp"
#include "store/sqlite/database.hpp"
#include "store/sqlite/job_rows.hpp"
#include "store/sqlite/schema.hpp"

namespace haul::store::sqlite {
namespace {

constexpr std::string_view kWrite = "write to database";
constexpr std::string_view kRead = "read database";

constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();

// Filters map to one of 8 WHERE clauses, each prepared once on first use.
// Numbered parameters keep ?1 = state, ?2 = target, ?3 = group whatever is present.
enum FilterBits : unsigned { kByState = 1, kByTarget = 2, kByGroup = 4 };
constexpr std::size_t kFilterShapes = 8;

unsigned shape_of(const JobFilter& filter) {
  return (filter.state ? kByState : 0u) | (filter.target ? kByTarget : 0u) |
         (filter.group ? kByGroup : 0u);
}

std::string where_clause(unsigned shape, std::string_view prefix) {
  std::string where = " WHERE 1";
  auto add = [&](std::string_view column, std::string_view param) {
    where.append(" AND ").append(prefix).append(column).append(" = ").append(param);
  };
  if (shape & kByState) add("state", "?1");
  if (shape & kByTarget) add("target", "?2");
  if (shape & kByGroup) add("group_name", "?3");
  return where;
}

// "a, b" -> "i.a, i.b": a column list for a query that joins tables.
std::string prefixed(std::string_view columns, std::string_view prefix) {
  std::string out(prefix);
  for (char c : columns) {
    out += c;
    if (c == ' ') out += prefix;
  }
  return out;
}

}  // namespace

struct SqliteJobStore::Impl {
  std::filesystem::path path;
  std::size_t event_capacity;
  // Declared before the statements, so it is destroyed after them.
  Database db;

  // Cached for the life of the connection: preparing costs as much as
  // running a small statement, and apply() runs several per job.
  Statement begin_write, begin_read, commit, rollback;
  Statement upsert_job, upsert_item, delete_items_from, delete_job, request_action, set_host;
  Statement insert_event, trim_events, raise_counter, set_counter, read_counter;
  Statement select_job, select_items_of_job, select_events;
  Statement upsert_manifest, delete_manifest, select_manifests;
  Statement upsert_instance, delete_instance, select_instances;
  std::array<Statement, kFilterShapes> select_jobs, select_items;

  Impl(std::filesystem::path db_path, std::size_t capacity)
      : path(std::move(db_path)), event_capacity(capacity) {}

  // Jobs of this many items or more remember what their item rows hold, and
  // an upsert writes only the rows that changed: every item event of a job
  // of 1,000 files rewrote all 1,000 rows.
  static constexpr std::size_t kRememberItemsFrom = 16;
  // Committed item fingerprints (item_fingerprint) by job id; cleared when
  // a transaction fails.
  std::unordered_map<std::string, std::vector<std::uint64_t>> written_items;

  Result<void> prepare_all();
  Result<void> write(const WriteBatch& batch);
  Result<void> delete_items_of(const std::string& id, std::size_t first);
  Result<void> raise(std::string_view counter, std::int64_t value);
  Result<void> set(std::string_view counter, std::int64_t value);
  Result<void> trim_log(std::int64_t appended);
  Result<std::int64_t> counter(std::string_view name);
  Result<void> in_read_transaction(const std::function<Result<void>()>& body);
  Result<std::vector<core::Job>> read_jobs(const JobFilter& filter);
  Result<std::optional<core::Job>> read_job_by_id(const std::string& id);

  Result<void> check_open() const {
    if (db.is_open()) return {};
    return fail(ErrorCode::kInternal, "database " + path.string() + " is not open");
  }
  // Ends a failed transaction; the original error is the one worth reporting.
  void roll_back() {
    written_items.clear();                         // they may name rows the transaction wrote
    if (sqlite3_get_autocommit(db.get())) return;  // SQLite already rolled back
    Use use(rollback);
    (void)db.run(rollback, kWrite);
  }
};

Result<void> SqliteJobStore::Impl::prepare_all() {
  struct Entry {
    Statement* stmt;
    std::string sql;
  };
  const std::string job_columns(kJobColumns);
  const std::string load_columns = job_load_columns();
  const std::string item_columns(kItemColumns);
  const std::string event_columns(kEventColumns);
  const Entry entries[] = {
      {&begin_write, "BEGIN IMMEDIATE"},
      {&begin_read, "BEGIN DEFERRED"},
      {&commit, "COMMIT"},
      {&rollback, "ROLLBACK"},
      // A real upsert rather than INSERT OR REPLACE: REPLACE deletes the old
      // row first, which cascades to its items and churns every index; the
      // items are replaced explicitly right after anyway.
      {&upsert_job,
       "INSERT INTO jobs (" + job_columns +
           ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
           "?18, ?19, ?20, ?21) ON CONFLICT (id) DO UPDATE SET seq = ?2, source = ?3, target = ?4, "
           "destination = ?5, group_name = ?6, name = ?7, priority = ?8, state = ?9, "
           "attempts = ?10, max_attempts = ?11, next_attempt_at = ?12, error_code = ?13, "
           "error_message = ?14, created_at = ?15, started_at = ?16, finished_at = ?17, "
           "labels = ?18, source_options = ?19, error_context = ?20, node = ?21"},
      // Items are rewritten in place by (job_id, idx) and only the surplus
      // deleted: a progress update keeps the item count, and updating a row
      // costs far less than deleting it and inserting it again.
      {&upsert_item,
       "INSERT INTO items (" + item_columns +
           ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON "
           "CONFLICT (job_id, idx) DO UPDATE SET source = ?3, path = ?4, sha256 = ?5, stage = ?6, "
           "state = ?7, size = ?8, bytes_done = ?9, error_code = ?10, error_message = ?11, "
           "resource = ?12, links = ?13, output_tail = ?14, error_context = ?15"},
      {&delete_items_from, "DELETE FROM items WHERE job_id = ?1 AND idx >= ?2"},
      {&delete_job, "DELETE FROM jobs WHERE id = ?1"},
      // Only this column: the job's runner owns the rest of the row.
      {&request_action, "UPDATE jobs SET requested_action = ?2 WHERE id = ?1"},
      // Likewise: the host is the scheduler's to say, never an upsert's.
      {&set_host, "UPDATE jobs SET host = ?2 WHERE id = ?1"},
      {&insert_event, "INSERT INTO events (" + event_columns + ") VALUES (?1, ?2, ?3, ?4, ?5)"},
      {&trim_events, "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?1)"},
      {&raise_counter, "UPDATE counters SET value = max(value, ?2) WHERE name = ?1"},
      {&set_counter, "UPDATE counters SET value = ?2 WHERE name = ?1"},
      {&read_counter, "SELECT value FROM counters WHERE name = ?1"},
      {&select_job, "SELECT " + load_columns + " FROM jobs WHERE id = ?1"},
      {&select_items_of_job,
       "SELECT " + item_columns + " FROM items WHERE job_id = ?1 ORDER BY idx"},
      {&select_events,
       "SELECT " + event_columns + " FROM events WHERE id > ?1 ORDER BY id LIMIT ?2"},
      {&upsert_instance,
       "INSERT INTO instances (id, ssh_command, ui_home, max_parallel, created_at, last_used_at) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET ssh_command = ?2, "
       "ui_home = ?3, max_parallel = ?4, last_used_at = ?6"},
      {&delete_instance, "DELETE FROM instances WHERE id = ?1"},
      {&select_instances,
       "SELECT id, ssh_command, ui_home, max_parallel, created_at, last_used_at FROM instances "
       "ORDER BY id"},
      {&upsert_manifest,
       "INSERT INTO manifests (id, name, origin, content, created_at, updated_at) VALUES (?1, ?2, "
       "?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET name = ?2, origin = ?3, content = ?4, "
       "updated_at = ?6"},
      {&delete_manifest, "DELETE FROM manifests WHERE id = ?1"},
      {&select_manifests,
       "SELECT id, name, origin, content, created_at, updated_at FROM manifests ORDER BY id"},
  };
  for (const Entry& entry : entries) {
    auto prepared = db.prepare(entry.sql, "open database");
    if (!prepared) return fail(prepared.error());
    *entry.stmt = std::move(*prepared);
  }
  return {};
}

Result<void> SqliteJobStore::Impl::raise(std::string_view name, std::int64_t value) {
  Use use(raise_counter);
  raise_counter.bind(1, name);
  raise_counter.bind(2, value);
  return db.run(raise_counter, kWrite);
}

Result<void> SqliteJobStore::Impl::set(std::string_view name, std::int64_t value) {
  Use use(set_counter);
  set_counter.bind(1, name);
  set_counter.bind(2, value);
  return db.run(set_counter, kWrite);
}

// Keeps the newest event_capacity events by id. The row count lives in
// counters (updated in the same transaction), so this costs the rows it
// removes; OFFSET or count(*) would walk the whole log on every commit.
Result<void> SqliteJobStore::Impl::trim_log(std::int64_t appended) {
  auto stored = counter("event_count");
  if (!stored) return fail(stored.error());
  std::int64_t rows = *stored + appended;
  auto capacity = static_cast<std::int64_t>(
      std::min<std::size_t>(event_capacity, static_cast<std::size_t>(kMaxInt64)));
  if (rows > capacity) {
    Use use(trim_events);
    trim_events.bind(1, rows - capacity);
    if (auto done = db.run(trim_events, kWrite); !done) return done;
    rows -= sqlite3_changes(db.get());
  }
  return set("event_count", rows);
}

Result<std::int64_t> SqliteJobStore::Impl::counter(std::string_view name) {
  Use use(read_counter);
  read_counter.bind(1, name);
  auto row = db.step(read_counter, kRead);
  if (!row) return fail(row.error());
  return *row ? read_counter.int64(0) : 0;
}

// Deletes the items of job `id` from index `first` on.
Result<void> SqliteJobStore::Impl::delete_items_of(const std::string& id, std::size_t first) {
  Use use(delete_items_from);
  delete_items_from.bind(1, id);
  delete_items_from.bind(2, static_cast<std::int64_t>(first));
  return db.run(delete_items_from, kWrite);
}

// The body of apply(), inside its transaction. Any error leaves the caller
// to roll back, so the order of the steps is free to follow the batch.
Result<void> SqliteJobStore::Impl::write(const WriteBatch& batch) {
  std::int64_t highest_seq = 0;
  std::string labels_json;
  std::string options_json;
  std::string links_json;
  std::string context_json;
  for (const core::Job& job : batch.upserts) {
    highest_seq = std::max(highest_seq, job.seq);
    labels_json = labels_to_json(*job.labels);
    options_json = labels_to_json(*job.source_options);
    {
      Use use(upsert_job);
      context_json = error_context_json(job.error);
      bind_job(upsert_job, job, labels_json, options_json, context_json);
      if (auto done = db.run(upsert_job, kWrite); !done) return done;
    }
    std::vector<std::uint64_t>* written = nullptr;
    if (job.items.size() >= kRememberItemsFrom) {
      written = &written_items[job.id];
      written->resize(job.items.size(), 0);
    } else {
      written_items.erase(job.id);
    }
    for (std::size_t idx = 0; idx < job.items.size(); ++idx) {
      links_json = strings_to_json(job.items[idx].extras->links);
      context_json = error_context_json(job.items[idx].error);
      if (written != nullptr) {
        const std::uint64_t print = item_fingerprint(job.items[idx], links_json, context_json);
        if ((*written)[idx] == print) continue;
        (*written)[idx] = print;
      }
      Use use(upsert_item);
      bind_item(upsert_item, job.id, static_cast<std::int64_t>(idx), job.items[idx], links_json,
                context_json);
      if (auto done = db.run(upsert_item, kWrite); !done) return done;
    }
    if (auto done = delete_items_of(job.id, job.items.size()); !done) return done;
  }
  for (const std::string& id : batch.deletes) {
    // Items first and explicitly: the cascade alone would depend on the
    // foreign_keys pragma of whichever connection deletes.
    if (auto done = delete_items_of(id, 0); !done) return done;
    written_items.erase(id);
    Use use(delete_job);
    delete_job.bind(1, id);
    if (auto done = db.run(delete_job, kWrite); !done) return done;
  }
  // After the deletes: a request for a job deleted in the same batch finds
  // no row, as one for a job never stored.
  for (const ActionRequest& request : batch.action_requests) {
    Use use(request_action);
    request_action.bind(1, request.job_id);
    request_action.bind(2, stored_action_name(request.action));
    if (auto done = db.run(request_action, kWrite); !done) return done;
  }
  // Likewise after the upserts and deletes; in batch order, so the last
  // host of a job wins.
  for (const JobHost& host : batch.hosts) {
    Use use(set_host);
    set_host.bind(1, host.job_id);
    set_host.bind(2, host.host);
    if (auto done = db.run(set_host, kWrite); !done) return done;
  }
  for (const core::Instance& instance : batch.instance_upserts) {
    Use use(upsert_instance);
    upsert_instance.bind(1, instance.id);
    upsert_instance.bind(2, instance.ssh_command);
    upsert_instance.bind(3, instance.ui_home);
    upsert_instance.bind(4, std::int64_t{instance.max_parallel});
    upsert_instance.bind(5, to_ms(instance.created_at));
    if (instance.last_used_at) {
      upsert_instance.bind(6, to_ms(*instance.last_used_at));
    } else {
      upsert_instance.bind_null(6);
    }
    if (auto done = db.run(upsert_instance, kWrite); !done) return done;
  }
  for (const std::string& id : batch.instance_deletes) {
    Use use(delete_instance);
    delete_instance.bind(1, id);
    if (auto done = db.run(delete_instance, kWrite); !done) return done;
  }
  for (const StoredManifest& manifest : batch.manifest_upserts) {
    Use use(upsert_manifest);
    upsert_manifest.bind(1, manifest.id);
    upsert_manifest.bind(2, manifest.name);
    upsert_manifest.bind(3, manifest.origin);
    upsert_manifest.bind(4, manifest.content);
    upsert_manifest.bind(5, to_ms(manifest.created_at));
    upsert_manifest.bind(6, to_ms(manifest.updated_at));
    if (auto done = db.run(upsert_manifest, kWrite); !done) return done;
  }
  for (const std::string& id : batch.manifest_deletes) {
    Use use(delete_manifest);
    delete_manifest.bind(1, id);
    if (auto done = db.run(delete_manifest, kWrite); !done) return done;
  }
  std::int64_t highest_event = 0;
  for (const StoredEvent& event : batch.events) {
    Use use(insert_event);
    if (auto bound = bind_event(insert_event, event); !bound) return bound;
    if (auto done = db.run(insert_event, kWrite); !done) return done;
    highest_event = std::max(highest_event, static_cast<std::int64_t>(event.id));
  }
  if (!batch.events.empty()) {
    if (auto done = trim_log(static_cast<std::int64_t>(batch.events.size())); !done) return done;
  }
  if (highest_seq > 0) {
    if (auto done = raise("max_seq", highest_seq); !done) return done;
  }
  if (highest_event > 0) {
    if (auto done = raise("last_event_id", highest_event); !done) return done;
  }
  return {};
}

Result<void> SqliteJobStore::Impl::in_read_transaction(const std::function<Result<void>()>& body) {
  {
    Use use(begin_read);
    if (auto begun = db.run(begin_read, kRead); !begun) return begun;
  }
  auto result = guarded("cannot read database " + path.string(), body);
  if (!result) {
    roll_back();
    return result;
  }
  Use use(commit);
  if (auto done = db.run(commit, kRead); !done) {
    roll_back();
    return done;
  }
  return {};
}

Result<std::vector<core::Job>> SqliteJobStore::Impl::read_jobs(const JobFilter& filter) {
  unsigned shape = shape_of(filter);
  Statement& jobs_stmt = select_jobs[shape];
  Statement& items_stmt = select_items[shape];
  if (!jobs_stmt.valid()) {
    auto jobs_sql = "SELECT " + job_load_columns() + " FROM jobs" + where_clause(shape, "") +
                    " ORDER BY seq, id";
    // Without a filter every item belongs to a listed job: no join needed.
    std::string items_sql = "SELECT " + prefixed(kItemColumns, "i.") + " FROM items i";
    if (shape != 0) items_sql += " JOIN jobs j ON j.id = i.job_id" + where_clause(shape, "j.");
    items_sql += " ORDER BY i.job_id, i.idx";
    auto prepared_jobs = db.prepare(jobs_sql, kRead);
    if (!prepared_jobs) return fail(prepared_jobs.error());
    auto prepared_items = db.prepare(items_sql, kRead);
    if (!prepared_items) return fail(prepared_items.error());
    jobs_stmt = std::move(*prepared_jobs);
    items_stmt = std::move(*prepared_items);
  }
  auto bind_filter = [&](Statement& stmt) {
    if (filter.state) stmt.bind(1, core::state_name(*filter.state));
    if (filter.target) stmt.bind(2, *filter.target);
    if (filter.group) stmt.bind(3, *filter.group);
  };

  std::vector<core::Job> jobs;
  auto read = in_read_transaction([&]() -> Result<void> {
    std::unordered_map<std::string, std::size_t> index_of;
    {
      Use use(jobs_stmt);
      bind_filter(jobs_stmt);
      while (true) {
        auto row = db.step(jobs_stmt, kRead);
        if (!row) return fail(row.error());
        if (!*row) break;
        auto job = read_job(jobs_stmt);
        if (!job) return fail(job.error());
        index_of.emplace(job->id, jobs.size());
        jobs.push_back(std::move(*job));
      }
    }
    Use use(items_stmt);
    bind_filter(items_stmt);
    while (true) {
      auto row = db.step(items_stmt, kRead);
      if (!row) return fail(row.error());
      if (!*row) break;
      auto owner = index_of.find(items_stmt.text(0));
      if (owner == index_of.end()) continue;  // an orphan written with foreign keys off
      auto item = read_item(items_stmt);
      if (!item) return fail(item.error());
      jobs[owner->second].items.push_back(std::move(*item));
    }
    return {};
  });
  if (!read) return fail(read.error());
  return jobs;
}

Result<std::optional<core::Job>> SqliteJobStore::Impl::read_job_by_id(const std::string& id) {
  std::optional<core::Job> found;
  auto read = in_read_transaction([&]() -> Result<void> {
    {
      Use use(select_job);
      select_job.bind(1, id);
      auto row = db.step(select_job, kRead);
      if (!row) return fail(row.error());
      if (!*row) return {};
      auto job = read_job(select_job);
      if (!job) return fail(job.error());
      found = std::move(*job);
    }
    Use use(select_items_of_job);
    select_items_of_job.bind(1, id);
    while (true) {
      auto row = db.step(select_items_of_job, kRead);
      if (!row) return fail(row.error());
      if (!*row) break;
      auto item = read_item(select_items_of_job);
      if (!item) return fail(item.error());
      found->items.push_back(std::move(*item));
    }
    return {};
  });
  if (!read) return fail(read.error());
  return found;
}

// ---- SqliteJobStore -----------------------------------------------------------

SqliteJobStore::SqliteJobStore(std::filesystem::path db_path, std::size_t event_capacity)
    : impl_(std::make_unique<Impl>(std::move(db_path), event_capacity)) {}

SqliteJobStore::~SqliteJobStore() = default;

Result<void> SqliteJobStore::open() {
  return guarded("cannot open database " + impl_->path.string(), [&]() -> Result<void> {
    if (impl_->db.is_open()) return {};
    auto db = Database::open(impl_->path);
    if (!db) return fail(db.error());
    if (auto configured = configure(*db); !configured) return configured;
    if (auto migrated = migrate(*db); !migrated) return fail(migrated.error());
    // Only a fully set-up connection becomes the store's: a failed open()
    // leaves the store closed, and open() may simply be called again.
    auto fresh = std::make_unique<Impl>(impl_->path, impl_->event_capacity);
    fresh->db = std::move(*db);
    if (auto prepared = fresh->prepare_all(); !prepared) return prepared;
    impl_ = std::move(fresh);
    return {};
  });
}

Result<void> SqliteJobStore::apply(const WriteBatch& batch) {
  if (auto open = impl_->check_open(); !open) return open;
  if (batch.empty()) return {};
  Impl& impl = *impl_;
  {
    Use use(impl.begin_write);
    if (auto begun = impl.db.run(impl.begin_write, kWrite); !begun) return begun;
  }
  auto written =
      guarded("cannot write to database " + impl.path.string(), [&] { return impl.write(batch); });
  if (!written) {
    impl.roll_back();
    return written;
  }
  Use use(impl.commit);
  if (auto committed = impl.db.run(impl.commit, kWrite); !committed) {
    impl.roll_back();
    return committed;
  }
  return {};
}

Result<std::vector<core::Job>> SqliteJobStore::load_jobs(const JobFilter& filter) {
  if (auto open = impl_->check_open(); !open) return fail(open.error());
  return guarded("cannot read database " + impl_->path.string(),
                 [&] { return impl_->read_jobs(filter); });
}

Result<std::optional<core::Job>> SqliteJobStore::load_job(const std::string& id) {
  if (auto open = impl_->check_open(); !open) return fail(open.error());
  return guarded("cannot read database " + impl_->path.string(),
                 [&] { return impl_->read_job_by_id(id); });
}

Result<std::int64_t> SqliteJobStore::max_seq() {
  if (auto open = impl_->check_open(); !open) return fail(open.error());
  return impl_->counter("max_seq");
}

Result<std::vector<StoredEvent>> SqliteJobStore::events_after(std::uint64_t after,
                                                              std::size_t limit) {
  if (auto open = impl_->check_open(); !open) return fail(open.error());
  std::vector<StoredEvent> events;
  if (limit == 0 || after >= static_cast<std::uint64_t>(kMaxInt64)) return events;
  return guarded("cannot read database " + impl_->path.string(),
                 [&]() -> Result<std::vector<StoredEvent>> {
                   Impl& impl = *impl_;
                   Use use(impl.select_events);
                   impl.select_events.bind(1, static_cast<std::int64_t>(after));
                   impl.select_events.bind(2, static_cast<std::int64_t>(std::min<std::size_t>(
                                                  limit, static_cast<std::size_t>(kMaxInt64))));
                   while (true) {
                     auto row = impl.db.step(impl.select_events, kRead);
                     if (!row) return fail(row.error());
                     if (!*row) break;
                     events.push_back(read_event(impl.select_events));
                   }
                   return events;
                 });
}

Result<std::vector<core::Instance>> SqliteJobStore::load_instances() {
  if (auto open = impl_->check_open(); !open) return fail(open.error());
  return guarded("cannot read database " + impl_->path.string(),
                 [&]() -> Result<std::vector<core::Instance>> {
                   Impl& impl = *impl_;
                   std::vector<core::Instance> instances;
                   Use use(impl.select_instances);
                   while (true) {
                     auto row = impl.db.step(impl.select_instances, kRead);
                     if (!row) return fail(row.error());
                     if (!*row) break;
                     core::Instance instance;
                     instance.id = impl.select_instances.text(0);
                     instance.ssh_command = impl.select_instances.text(1);
                     instance.ui_home = impl.select_instances.text(2);
                     instance.max_parallel = static_cast<int>(impl.select_instances.int64(3));
                     instance.created_at = from_ms(impl.select_instances.int64(4));
                     if (!impl.select_instances.is_null(5))
                       instance.last_used_at = from_ms(impl.select_instances.int64(5));
                     instances.push_back(std::move(instance));
                   }
                   return instances;
                 });
}

Result<std::vector<StoredManifest>> SqliteJobStore::load_manifests() {
  if (auto open = impl_->check_open(); !open) return fail(open.error());
  return guarded(
      "cannot read database " + impl_->path.string(), [&]() -> Result<std::vector<StoredManifest>> {
        Statement& select = impl_->select_manifests;
        std::vector<StoredManifest> manifests;
        Use use(select);
        while (true) {
          auto row = impl_->db.step(select, kRead);
          if (!row) return fail(row.error());
          if (!*row) break;
          manifests.push_back(StoredManifest{select.text(0), select.text(1), select.text(2),
                                             select.text(3), from_ms(select.int64(4)),
                                             from_ms(select.int64(5))});
        }
        return manifests;
      });
}

Result<std::uint64_t> SqliteJobStore::last_event_id() {
  if (auto open = impl_->check_open(); !open) return fail(open.error());
  auto value = impl_->counter("last_event_id");
  if (!value) return fail(value.error());
  return static_cast<std::uint64_t>(*value);
}

}  // namespace haul::store::sqlite
