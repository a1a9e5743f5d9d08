#include "store/postgres/job_rows.hpp"

#include <limits>
#include <optional>
#include <string>

#include "store/row_codec.hpp"

namespace haul::store::postgres {

std::string parameter_rows(std::size_t rows, int columns, std::string_view cast) {
  std::string text;
  int param = 1;
  for (std::size_t row = 0; row < rows; ++row) {
    text += row == 0 ? "(" : ", (";
    for (int column = 0; column < columns; ++column) {
      if (column > 0) text += ", ";
      text += '$';
      text += std::to_string(param++);
      text += cast;
    }
    text += ')';
  }
  return text;
}
namespace {

std::optional<std::int64_t> optional_ms(const std::optional<core::TimePoint>& at) {
  if (!at) return std::nullopt;
  return to_ms(*at);
}

std::optional<core::TimePoint> read_optional_time(const Row& row, int column) {
  if (row.is_null(column)) return std::nullopt;
  return from_ms(row.int64(column));
}

// An error is present exactly when its code column is not NULL: a JobError
// with an empty code is still an error, and NULL keeps "no error" distinct.
void add_error(Params& params, const Boxed<core::JobError>& error) {
  if (error) {
    params.add(error->code);
    params.add(error->message);
  } else {
    params.add_null();
    params.add_null();
  }
}

Boxed<core::JobError> read_error(const Row& row, int code_column) {
  if (row.is_null(code_column)) return std::nullopt;
  return core::JobError{row.text(code_column), row.optional_text(code_column + 1).value_or("")};
}

// Sizes and byte counts are unsigned in the model and BIGINT (signed) in the
// table; the cast keeps all 64 bits, so values past INT64_MAX come back unchanged.
std::int64_t as_stored(std::uint64_t value) { return static_cast<std::int64_t>(value); }
std::uint64_t as_loaded(std::int64_t value) { return static_cast<std::uint64_t>(value); }

}  // namespace

void add_job(Params& params, const core::Job& job) {
  params.add(job.id);
  params.add(job.seq);
  params.add(job.source);
  params.add(job.target);
  params.add(job.destination);
  params.add(job.group);
  params.add(job.name);
  params.add(std::int64_t{job.priority});
  params.add(core::state_name(job.state));
  params.add(std::int64_t{job.attempts});
  params.add(std::int64_t{job.max_attempts});
  params.add_optional(optional_ms(job.next_attempt_at));
  add_error(params, job.error);
  params.add(to_ms(job.created_at));
  params.add_optional(optional_ms(job.started_at));
  params.add_optional(optional_ms(job.finished_at));
  params.add(labels_to_json(*job.labels));
  params.add(labels_to_json(*job.source_options));
  params.add(error_context_json(job.error));
  params.add(*job.node);
}

void add_item(Params& params, const std::string& job_id, std::int64_t idx, const core::Item& item) {
  params.add(job_id);
  params.add(idx);
  params.add(item.source);
  params.add(item.path);
  params.add(item.sha256);
  params.add(item.stage);
  params.add(core::item_state_name(item.state));
  if (item.size) {
    params.add(as_stored(*item.size));
  } else {
    params.add_null();
  }
  params.add(as_stored(item.bytes_done));
  add_error(params, item.error);
  params.add(item.extras->resource);
  params.add(strings_to_json(item.extras->links));
  params.add(item.extras->output_tail);
  params.add(error_context_json(item.error));
}

Result<void> add_event(Params& params, const StoredEvent& event) {
  // Ids order the log, so unlike sizes they must stay positive in a BIGINT.
  if (event.id > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return fail(ErrorCode::kInvalidArgument,
                "event id " + std::to_string(event.id) + " does not fit the event log");
  }
  params.add(static_cast<std::int64_t>(event.id));
  params.add(event.type);
  params.add(event.job_id);
  params.add(to_ms(event.at));
  params.add(event.payload);
  return {};
}

void add_instance(Params& params, const core::Instance& instance) {
  params.add(instance.id);
  params.add(instance.ssh_command);
  params.add(instance.ui_home);
  params.add(std::int64_t{instance.max_parallel});
  params.add(to_ms(instance.created_at));
  params.add_optional(optional_ms(instance.last_used_at));
}

void add_manifest(Params& params, const StoredManifest& manifest) {
  params.add(manifest.id);
  params.add(manifest.name);
  params.add(manifest.origin);
  params.add(manifest.content);
  params.add(to_ms(manifest.created_at));
  params.add(to_ms(manifest.updated_at));
}

Result<core::Job> read_job(const Row& row) {
  core::Job job;
  job.id = row.text(0);
  job.seq = row.int64(1);
  job.source = row.text(2);
  job.target = row.text(3);
  job.destination = row.text(4);
  job.group = row.text(5);
  job.name = row.text(6);
  job.priority = static_cast<int>(row.int64(7));
  const std::string state = row.text(8);
  auto parsed = core::parse_state(state);
  if (!parsed)
    return fail(ErrorCode::kDataLoss, "unknown state '" + state + "' stored for job " + job.id);
  job.state = *parsed;
  job.attempts = static_cast<int>(row.int64(9));
  job.max_attempts = static_cast<int>(row.int64(10));
  job.next_attempt_at = read_optional_time(row, 11);
  job.error = read_error(row, 12);  // 12, 13
  job.created_at = from_ms(row.int64(14));
  job.started_at = read_optional_time(row, 15);
  job.finished_at = read_optional_time(row, 16);
  auto labels = read_string_map(row.text(17), "labels", job.id);
  if (!labels) return fail(labels.error());
  job.labels = std::move(*labels);
  auto options = read_string_map(row.text(18), "source options", job.id);
  if (!options) return fail(options.error());
  job.source_options = std::move(*options);
  add_error_context(job.error, row.text(19));
  job.node = row.text(20);  // "" stays unallocated
  auto action = read_requested_action(row.text(kJobColumnCount), job.id);
  if (!action) return fail(action.error());
  job.pending_action = *action;
  return job;
}

Result<core::Item> read_item(const Row& row) {
  core::Item item;
  item.source = row.text(2);
  item.path = row.text(3);
  item.sha256 = row.text(4);
  item.stage = row.text(5);
  const std::string state = row.text(6);
  auto item_state = stored_item_state(state);
  if (!item_state)
    return fail(ErrorCode::kDataLoss,
                "unknown state '" + state + "' stored for an item of job " + row.text(0));
  item.state = *item_state;
  if (!row.is_null(7)) item.size = as_loaded(row.int64(7));
  item.bytes_done = as_loaded(row.int64(8));
  item.error = read_error(row, 9);  // 9, 10
  // Most items have none of the extras: only a non-empty one allocates them.
  if (std::string resource = row.text(11); !resource.empty())
    item.extras.edit().resource = std::move(resource);
  auto links = read_strings(row.text(12), row.text(0));
  if (!links) return fail(links.error());
  if (!links->empty()) item.extras.edit().links = std::move(*links);
  if (std::string tail = row.text(13); !tail.empty())
    item.extras.edit().output_tail = std::move(tail);
  add_error_context(item.error, row.text(14));
  return item;
}

StoredEvent read_event(const Row& row) {
  return StoredEvent{static_cast<std::uint64_t>(row.int64(0)), row.text(1), row.text(2),
                     from_ms(row.int64(3)), row.text(4)};
}

core::Instance read_instance(const Row& row) {
  core::Instance instance;
  instance.id = row.text(0);
  instance.ssh_command = row.text(1);
  instance.ui_home = row.text(2);
  instance.max_parallel = static_cast<int>(row.int64(3));
  instance.created_at = from_ms(row.int64(4));
  instance.last_used_at = read_optional_time(row, 5);
  return instance;
}

StoredManifest read_manifest(const Row& row) {
  return StoredManifest{row.text(0), row.text(1),           row.text(2),
                        row.text(3), from_ms(row.int64(4)), from_ms(row.int64(5))};
}

}  // namespace haul::store::postgres
