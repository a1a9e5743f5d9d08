// How the SQL job stores (store/sqlite, store/postgres) turn the parts of a
// Job that have no column type of their own into column values and back:
// times as integer milliseconds, labels and links as JSON text, where an
// error happened as a JSON object; and the tables' column lists. One
// definition, so a row written by one store reads the same in the other.
// Pure: no database in sight.
//
// Threading: plain functions of their arguments; any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/boxed.hpp"
#include "base/error.hpp"
#include "core/job.hpp"

namespace haul::store {

// The columns of `jobs`, `items` and `events` in the order both stores bind
// and read them (job_rows.cpp of each): one list, as the schemas share
// their versions (store/schema_version.hpp). A job upsert writes exactly
// kJobColumns: the claim columns (owner, lease), requested_action and host
// belong to other writers (QueueClaims, ActionRequest, JobHost) and are left
// out on purpose.
inline constexpr std::string_view kJobColumns =
    "id, seq, source, target, destination, group_name, name, priority, state, attempts, "
    "max_attempts, next_attempt_at, error_code, error_message, created_at, started_at, "
    "finished_at, labels, source_options, error_context, node";
inline constexpr int kJobColumnCount = 21;
// What loading a job selects: kJobColumns, then requested_action (the
// loaded job's pending_action), at index kJobColumnCount.
std::string job_load_columns();
inline constexpr std::string_view kItemColumns =
    "job_id, idx, source, path, sha256, stage, state, size, bytes_done, error_code, error_message, "
    "resource, links, output_tail, error_context";
inline constexpr int kItemColumnCount = 15;
inline constexpr std::string_view kEventColumns = "id, type, job_id, at, payload";
inline constexpr int kEventColumnCount = 5;

// Time points are stored as integer milliseconds since the epoch (floor), so
// a ms-precision time point survives the round trip exactly.
std::int64_t to_ms(core::TimePoint at);
core::TimePoint from_ms(std::int64_t ms);

// Labels (or source options) as a JSON object of strings. Throws nothing but
// bad_alloc; text that is not UTF-8 is replaced, so a map always renders.
std::string labels_to_json(const std::map<std::string, std::string>& labels);
// Strings (an item's links) as a JSON array, likewise.
std::string strings_to_json(const std::vector<std::string>& strings);
// Where an error happened, as stored: {"file", "stage", "attempt"}, or ""
// without an error or without any of the three.
std::string error_context_json(const Boxed<core::JobError>& error);

// The JSON object of strings in `text` (labels_to_json's output). `what`
// ("labels") and `job_id` only name the row in the error.
// Errors: kDataLoss when it is not a JSON object of strings.
Result<std::map<std::string, std::string>> read_string_map(const std::string& text,
                                                           std::string_view what,
                                                           const std::string& job_id);
// The JSON array of strings in `text` (an item's links of job `job_id`).
// Errors: kDataLoss when it is not a JSON array of strings.
Result<std::vector<std::string>> read_strings(const std::string& text, const std::string& job_id);
// Adds the stored context (error_context_json's output) to `error`. Does
// nothing without an error; a damaged context is ignored: it is only for people.
void add_error_context(Boxed<core::JobError>& error, const std::string& text);

// An ActionRequest as stored in jobs.requested_action: action_name(), or ""
// for none.
std::string_view stored_action_name(const std::optional<core::Action>& action);
// The requested action stored as `text` ("" is none). Errors: kDataLoss for
// a name this version does not know; `job_id` names the row.
Result<std::optional<core::Action>> read_requested_action(std::string_view text,
                                                          const std::string& job_id);

// The item state stored as `text`; "retrying", written by older versions,
// is an item waiting to run again (queued). nullopt for an unknown name.
std::optional<core::ItemState> stored_item_state(std::string_view text);

}  // namespace haul::store
