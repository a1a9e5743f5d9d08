// Where a job's error happened, told from what the job knows: which file,
// which stage (resolve, connect, transfer, verify, finalize, or "command N
// of M" on an instance) and which attempt; and the one text form of it that
// the log uses (and the JSON log format reads back).
//
// Threading: pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/job.hpp"

namespace haul::core {

// The error of item `index` (failed with `code`, an error_code_name()):
// file = the item's file name (or its resource card, or its source), stage
// from the kind of job and how far the item got, attempt = job.attempts.
JobError item_error(const Job& job, std::size_t index, std::string code, std::string message);

// The error of the job's attempt: the first failed item's context when one
// failed, else "resolve" (nothing planned yet: a native source not resolved)
// or "connect" (an instance's commands that never started).
JobError job_error(const Job& job, std::string code, std::string message);

// "MESSAGE [stage=transfer file=model.safetensors attempt=2 code=unavailable]"
// (keys without a value left out; spaces in values kept, ']' never appears in
// one: it is replaced by ')').
std::string describe(const JobError& error);

// describe()'s trailer read back: its key=value fields, and the message
// before it; nullopt when `text` does not end with one.
struct DescribedFields {
  std::string message;
  std::map<std::string, std::string> fields;
};
std::optional<DescribedFields> read_described(std::string_view text);

}  // namespace haul::core
