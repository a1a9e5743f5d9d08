// How a Job, its Items and a StoredEvent map onto rows of the PostgreSQL job
// store: the column lists, the parameters a row is written with and reading
// rows back. The same columns and encodings as the SQLite store (the JSON and
// time ones are store/row_codec.hpp's). Internal to store/postgres.
//
// Threading: plain functions of their arguments; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "core/job.hpp"
#include "store/job_store.hpp"
#include "store/postgres/connection.hpp"
#include "store/row_codec.hpp"

namespace haul::store::postgres {

// The VALUES rows of a statement's parameters: `rows` tuples of `columns`
// parameters each, numbered on from $1, every one followed by `cast`:
// (2, 2) -> "($1, $2), ($3, $4)"; (2, 1, "::text") -> "($1::text), ($2::text)".
std::string parameter_rows(std::size_t rows, int columns, std::string_view cast = {});

// The columns of `instances` and `manifests`, likewise.
inline constexpr std::string_view kInstanceColumns =
    "id, ssh_command, ui_home, max_parallel, created_at, last_used_at";
inline constexpr int kInstanceColumnCount = 6;
inline constexpr std::string_view kManifestColumns =
    "id, name, origin, content, created_at, updated_at";
inline constexpr int kManifestColumnCount = 6;

// Appends one row's values (kJobColumnCount of them) for every persisted
// field of `job`; live figures are not stored, nor are its items.
void add_job(Params& params, const core::Job& job);
// Appends item `idx` of job `job_id` (kItemColumnCount values).
void add_item(Params& params, const std::string& job_id, std::int64_t idx, const core::Item& item);
// Errors: kInvalidArgument when the id does not fit a signed 64-bit BIGINT.
Result<void> add_event(Params& params, const StoredEvent& event);
void add_instance(Params& params, const core::Instance& instance);
void add_manifest(Params& params, const StoredManifest& manifest);

// The job in `row` (columns in job_load_columns() order), without items;
// live figures are 0 / nullopt, pending_action is the stored request.
// Errors: kDataLoss for an unknown state or requested action, or labels that
// are not a JSON object of strings (a damaged or foreign row).
Result<core::Job> read_job(const Row& row);
// The item in `row` (kItemColumns order); its job id is column 0.
Result<core::Item> read_item(const Row& row);
StoredEvent read_event(const Row& row);
core::Instance read_instance(const Row& row);
StoredManifest read_manifest(const Row& row);

}  // namespace haul::store::postgres
