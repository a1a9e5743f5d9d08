// What local jobs and native sources on an instance share: a request's
// sources checked and turned into the job's first items, how a job's source
// is resolved (its options), and a resolved Plan's files merged into the
// job's items so that files done in an earlier attempt stay done.
// Pure functions, except items_from_plan(), which makes the links of files
// found in the local HF cache.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "core/job.hpp"
#include "core/job_request.hpp"
#include "sources/plan.hpp"
#include "sources/resolve.hpp"

namespace haul::runners {

// Where a request's file goes: its FileSpec path (relative to the request's
// dest, or absolute) as an absolute path where the job runs. Errors name the
// path (outside the roots, "..").
using PlaceFile = std::function<Result<std::string>(const std::string& spec_path)>;

// One item per source, checked. A request of several sources, or with
// FileSpecs, makes a per_source job (see job_plan.hpp): its items keep the
// FileSpecs' paths, sizes, digests and links (placed by `place`), and a file
// already present is complete from the start. Errors: kInvalidArgument
// naming the source or file.
Result<void> add_source_items(core::Job& job, const core::JobRequest& request,
                              const sources::GetEnv& getenv, const PlaceFile& place);

// Whether each item's source is resolved on its own (job_plan.hpp).
bool is_per_source(const core::Job& job);

// No name given: the URL's file name, else the source (secrets masked).
void name_after_source(core::Job& job, const sources::GetEnv& getenv);

// What makes two jobs of native sources the same work: the source of a job
// resolved at every attempt, else its items' sources.
std::string source_identity(const core::Job& job, const sources::GetEnv& getenv);

// A job's source_options as the resolver takes them.
sources::ResolveOptions resolve_options(const core::Job& job, const sources::GetEnv& getenv);

// Where a plan's files go: the job's destination, or the folder the plan
// suggests (a CivitAI LoRA: loras/) when the request named none.
std::filesystem::path plan_destination(const core::Job& job, const sources::Plan& plan);

// The plan's files as the job's items (item source = the file's key). Items
// of an earlier attempt keep their state and bytes; a file already in the
// local HF cache is completed at once (`local`: the job runs here, so its
// link can be made now). Applies the request's output name to a single file.
// Errors: making a cache link failed.
Result<std::vector<core::Item>> items_from_plan(const core::Job& job, sources::Plan& plan,
                                                const std::filesystem::path& destination,
                                                bool local);

}  // namespace haul::runners
