#include "store/sqlite/job_rows.hpp"

#include <limits>
#include <optional>

namespace haul::store::sqlite {
namespace {

std::optional<std::int64_t> optional_ms(const std::optional<core::TimePoint>& at) {
  if (!at) return std::nullopt;
  return to_ms(*at);
}

std::optional<core::TimePoint> read_optional_time(const Statement& stmt, int column) {
  if (stmt.is_null(column)) return std::nullopt;
  return from_ms(stmt.int64(column));
}

// An error is present exactly when its code column is not NULL: a JobError
// with an empty code is still an error, and NULL keeps "no error" distinct.
void bind_error(Statement& stmt, int code_index, const Boxed<core::JobError>& error) {
  if (error) {
    stmt.bind(code_index, error->code);
    stmt.bind(code_index + 1, error->message);
  } else {
    stmt.bind_null(code_index);
    stmt.bind_null(code_index + 1);
  }
}

Boxed<core::JobError> read_error(const Statement& stmt, int code_column) {
  if (stmt.is_null(code_column)) return std::nullopt;
  return core::JobError{stmt.text(code_column), stmt.optional_text(code_column + 1).value_or("")};
}

// `owner` names the row's job in the error; it is only read on failure.
Result<core::JobState> read_state(const Statement& stmt, int column, std::string_view kind,
                                  int owner_column) {
  std::string text = stmt.text(column);
  if (auto state = core::parse_state(text)) return *state;
  return fail(ErrorCode::kDataLoss, "unknown state '" + text + "' stored for " + std::string(kind) +
                                        stmt.text(owner_column));
}

// Sizes and byte counts are unsigned in the model and signed in SQLite; the
// cast keeps all 64 bits, so even values past INT64_MAX come back unchanged.
std::int64_t as_stored(std::uint64_t value) { return static_cast<std::int64_t>(value); }
std::uint64_t as_loaded(std::int64_t value) { return static_cast<std::uint64_t>(value); }

}  // namespace

void bind_job(Statement& stmt, const core::Job& job, const std::string& labels_json,
              const std::string& source_options_json, const std::string& error_context_json) {
  stmt.bind(1, job.id);
  stmt.bind(2, job.seq);
  stmt.bind(3, job.source);
  stmt.bind(4, job.target);
  stmt.bind(5, job.destination);
  stmt.bind(6, job.group);
  stmt.bind(7, job.name);
  stmt.bind(8, std::int64_t{job.priority});
  stmt.bind(9, core::state_name(job.state));
  stmt.bind(10, std::int64_t{job.attempts});
  stmt.bind(11, std::int64_t{job.max_attempts});
  stmt.bind_optional(12, optional_ms(job.next_attempt_at));
  bind_error(stmt, 13, job.error);  // 13, 14
  stmt.bind(15, to_ms(job.created_at));
  stmt.bind_optional(16, optional_ms(job.started_at));
  stmt.bind_optional(17, optional_ms(job.finished_at));
  stmt.bind(18, labels_json);
  stmt.bind(19, source_options_json);
  stmt.bind(20, error_context_json);
  stmt.bind(21, *job.node);
}

void bind_item(Statement& stmt, const std::string& job_id, std::int64_t idx, const core::Item& item,
               const std::string& links_json, const std::string& error_context_json) {
  stmt.bind(1, job_id);
  stmt.bind(2, idx);
  stmt.bind(3, item.source);
  stmt.bind(4, item.path);
  stmt.bind(5, item.sha256);
  stmt.bind(6, item.stage);
  stmt.bind(7, core::item_state_name(item.state));
  if (item.size) {
    stmt.bind(8, as_stored(*item.size));
  } else {
    stmt.bind_null(8);
  }
  stmt.bind(9, as_stored(item.bytes_done));
  bind_error(stmt, 10, item.error);  // 10, 11
  stmt.bind(12, item.extras->resource);
  stmt.bind(13, links_json);
  stmt.bind(14, item.extras->output_tail);
  stmt.bind(15, error_context_json);
}

std::uint64_t item_fingerprint(const core::Item& item, const std::string& links_json,
                               const std::string& error_context_json) {
  std::uint64_t hash = 14695981039346656037ull;
  auto mix = [&hash](std::string_view text) {
    for (const char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ull;
    }
    hash ^= 0xff;  // a separator no UTF-8 text contains: "ab","c" != "a","bc"
    hash *= 1099511628211ull;
  };
  auto mix_number = [&mix](std::uint64_t value) {
    mix(std::string_view(reinterpret_cast<const char*>(&value), sizeof value));
  };
  mix(item.source);
  mix(item.path);
  mix(item.sha256);
  mix(item.stage);
  mix(core::item_state_name(item.state));
  mix(item.size ? std::string_view("s") : std::string_view("-"));
  mix_number(item.size.value_or(0));
  mix_number(item.bytes_done);
  mix(item.error ? item.error->code : std::string("-"));
  mix(item.error ? item.error->message : std::string());
  mix(item.extras->resource);
  mix(links_json);
  mix(item.extras->output_tail);
  mix(error_context_json);
  return hash;
}

Result<void> bind_event(Statement& stmt, const StoredEvent& event) {
  // Ids order the log, so unlike sizes they must stay positive in SQLite.
  if (event.id > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return fail(ErrorCode::kInvalidArgument,
                "event id " + std::to_string(event.id) + " does not fit the event log");
  }
  stmt.bind(1, static_cast<std::int64_t>(event.id));
  stmt.bind(2, event.type);
  stmt.bind(3, event.job_id);
  stmt.bind(4, to_ms(event.at));
  stmt.bind(5, event.payload);
  return {};
}

Result<core::Job> read_job(const Statement& stmt) {
  core::Job job;
  job.id = stmt.text(0);
  job.seq = stmt.int64(1);
  job.source = stmt.text(2);
  job.target = stmt.text(3);
  job.destination = stmt.text(4);
  job.group = stmt.text(5);
  job.name = stmt.text(6);
  job.priority = static_cast<int>(stmt.int64(7));
  auto state = read_state(stmt, 8, "job ", 0);
  if (!state) return fail(state.error());
  job.state = *state;
  job.attempts = static_cast<int>(stmt.int64(9));
  job.max_attempts = static_cast<int>(stmt.int64(10));
  job.next_attempt_at = read_optional_time(stmt, 11);
  job.error = read_error(stmt, 12);  // 12, 13
  job.created_at = from_ms(stmt.int64(14));
  job.started_at = read_optional_time(stmt, 15);
  job.finished_at = read_optional_time(stmt, 16);

  auto labels = read_string_map(stmt.text(17), "labels", job.id);
  if (!labels) return fail(labels.error());
  job.labels = std::move(*labels);
  auto options = read_string_map(stmt.text(18), "source options", job.id);
  if (!options) return fail(options.error());
  job.source_options = std::move(*options);
  add_error_context(job.error, stmt.text(19));
  job.node = stmt.text(20);  // "" stays unallocated
  auto action = read_requested_action(stmt.text(kJobColumnCount), job.id);
  if (!action) return fail(action.error());
  job.pending_action = *action;
  return job;
}

Result<core::Item> read_item(const Statement& stmt) {
  core::Item item;
  item.source = stmt.text(2);
  item.path = stmt.text(3);
  item.sha256 = stmt.text(4);
  item.stage = stmt.text(5);
  const std::string state = stmt.text(6);
  auto item_state = stored_item_state(state);
  if (!item_state)
    return fail(ErrorCode::kDataLoss,
                "unknown state '" + state + "' stored for an item of job " + stmt.text(0));
  item.state = *item_state;
  if (!stmt.is_null(7)) item.size = as_loaded(stmt.int64(7));
  item.bytes_done = as_loaded(stmt.int64(8));
  item.error = read_error(stmt, 9);  // 9, 10
  // Most items have none of the extras: only a non-empty one allocates them.
  if (std::string resource = stmt.text(11); !resource.empty())
    item.extras.edit().resource = std::move(resource);
  auto links = read_strings(stmt.text(12), stmt.text(0));
  if (!links) return fail(links.error());
  if (!links->empty()) item.extras.edit().links = std::move(*links);
  if (std::string tail = stmt.text(13); !tail.empty())
    item.extras.edit().output_tail = std::move(tail);
  add_error_context(item.error, stmt.text(14));
  return item;
}

StoredEvent read_event(const Statement& stmt) {
  StoredEvent event;
  event.id = static_cast<std::uint64_t>(stmt.int64(0));
  event.type = stmt.text(1);
  event.job_id = stmt.text(2);
  event.at = from_ms(stmt.int64(3));
  event.payload = stmt.text(4);
  return event;
}

}  // namespace haul::store::sqlite
