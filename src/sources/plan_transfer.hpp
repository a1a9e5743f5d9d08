// Carrying out a Plan on this machine: each planned file becomes a transfer
// request for the engine; sidecars are written and cache links made.
// Used by `haul get` and by the scheduler, so both behave the same.
//
// Threading: pure except write_sidecars() and link_planned_file(), which do
// small filesystem work on the calling thread.
#pragma once

#include <filesystem>

#include "base/error.hpp"
#include "sources/plan.hpp"
#include "transfer/engine.hpp"

namespace haul::sources {

// The engine request for `file` under `destination` (a directory). Fills url,
// headers, signing, If-Match, sha256 and the output path; the caller sets
// connections, rate and retry policy. A small Hub file's git blob id goes in
// git_blob_sha1. Errors: kPermissionDenied when the
// file's relative path would leave `destination`.
Result<transfer::TransferRequest> transfer_request_for(const PlannedFile& file,
                                                       const std::filesystem::path& destination);

// Writes every sidecar of `plan` under `destination` (temp file + rename, so a
// reader never sees half a file). Errors: kIo naming the file.
Result<void> write_sidecars(const Plan& plan, const std::filesystem::path& destination);

// After `file` was downloaded into `destination` (verified by the engine:
// SHA-256, or the git blob id of a small Hub file): makes its link (HF cache
// snapshots) if it has one. Errors: kIo naming the link.
Result<void> finish_planned_file(const PlannedFile& file, const std::filesystem::path& destination);

}  // namespace haul::sources
