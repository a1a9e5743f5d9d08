// What one attempt of a job fetches, learned from its sources on the
// resolver pool. Two shapes of job:
// - one source that needs resolving (hf, CivitAI, S3): its plan, any number
//   of files; the job's items follow the plan;
// - "per_source" jobs (several sources, or a model's files with set paths):
//   one item per source, each source resolved on its own and naming exactly
//   one file, which keeps the item's path. Plain URLs and items already
//   complete need no resolution.
// Shared by the local and the remote-fetch runners.
//
// Threading: control thread; `done` runs there, at most once.
#pragma once

#include <functional>

#include "base/error.hpp"
#include "core/job.hpp"
#include "runners/resolver_pool.hpp"
#include "sources/plan.hpp"
#include "sources/resolve.hpp"

namespace haul::runners {

// Whether an attempt of `job` must resolve anything first.
bool needs_plan(const core::Job& job, const sources::GetEnv& getenv);

// Resolves what `job` needs (see above) and answers with one plan whose
// files are keyed by item source for per_source jobs. Errors: the first
// failed resolution, or kInvalidArgument when a source of a per_source job
// names no file or several ("'hf://org/repo' names 12 files; ...").
void plan_job(ResolverPool& resolvers, const core::Job& job, const sources::GetEnv& getenv,
              std::function<void(Result<sources::Plan>)> done);

}  // namespace haul::runners
