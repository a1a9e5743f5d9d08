// How a Job, its Items and a StoredEvent map onto rows of the SQLite job
// store: the column lists, binding values to statements and reading rows
// back (the JSON and time encodings are store/row_codec.hpp's, shared with
// the PostgreSQL store). Internal to store/sqlite; pure apart from the
// statements it is given.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "core/job.hpp"
#include "store/job_store.hpp"
#include "store/row_codec.hpp"
#include "store/sqlite/database.hpp"

namespace haul::store::sqlite {

// Binds every persisted field of `job` (live figures are not stored). Text
// is bound without copying: `job`, `labels_json` (labels_to_json(job.labels))
// and `source_options_json` (likewise, of job.source_options), owned by the
// caller, must outlive the statement's next reset.
// The texts are bound without a copy: they must live until the statement
// has run.
void bind_job(Statement& stmt, const core::Job& job, const std::string& labels_json,
              const std::string& source_options_json, const std::string& error_context_json);

// Same contract as bind_job for one item at position `idx` of job `job_id`;
// `links_json` is strings_to_json(item.links).
void bind_item(Statement& stmt, const std::string& job_id, std::int64_t idx, const core::Item& item,
               const std::string& links_json, const std::string& error_context_json);
// What bind_item binds (but the job and position), as one number: a row whose
// fingerprint did not change need not be written again. FNV-1a, 64 bits.
std::uint64_t item_fingerprint(const core::Item& item, const std::string& links_json,
                               const std::string& error_context_json);
// Errors: kInvalidArgument when the id does not fit SQLite's signed 64 bits.
Result<void> bind_event(Statement& stmt, const StoredEvent& event);

// The job in the current row (columns in job_load_columns() order), without
// items; live figures are 0 / nullopt, pending_action is the stored request.
// Errors: kDataLoss for an unknown state or requested action, or labels that
// are not a JSON object of strings (a damaged or foreign row).
Result<core::Job> read_job(const Statement& stmt);
// The item in the current row (kItemColumns order); its job id is column 0.
Result<core::Item> read_item(const Statement& stmt);
StoredEvent read_event(const Statement& stmt);

}  // namespace haul::store::sqlite
