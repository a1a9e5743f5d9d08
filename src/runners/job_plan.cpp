#include "runners/job_plan.hpp"

#include <memory>
#include <optional>
#include <vector>

#include "net/url.hpp"
#include "runners/source_items.hpp"
#include "sources/source_kind.hpp"

namespace haul::runners {

namespace fs = std::filesystem;

namespace {

bool is_url(const std::string& source, const sources::GetEnv& getenv) {
  return sources::source_kind(source, getenv) == sources::SourceKind::kUrl;
}

// Where an item with a set path goes, relative to the job's destination
// ("checkpoints/x.safetensors"); "" when it has none or it lies elsewhere.
std::string pinned_relative_path(const core::Job& job, const core::Item& item) {
  if (item.path.empty()) return {};
  const fs::path relative =
      fs::path(item.path).lexically_normal().lexically_relative(fs::path(job.destination));
  if (relative.empty() || *relative.begin() == ".." || relative.is_absolute()) return {};
  return relative.generic_string();
}

// The resolved file of one item, as the item wants it: its key is the
// item's source, its path the item's, the manifest's digest wins.
sources::PlannedFile as_item_file(sources::PlannedFile file, const core::Job& job,
                                  const core::Item& item) {
  file.key = item.source;
  if (const std::string pinned = pinned_relative_path(job, item); !pinned.empty())
    file.relative_path = pinned;
  if (!item.sha256.empty()) file.sha256 = item.sha256;
  if (!file.size && item.size) file.size = item.size;
  return file;
}

// One per_source attempt: the answers of its resolutions, in item order.
struct Gathering {
  core::Job job;
  std::vector<std::optional<sources::PlannedFile>> files;
  std::vector<sources::Sidecar> sidecars;
  std::size_t outstanding = 0;
  std::optional<Error> failure;
  std::function<void(Result<sources::Plan>)> done;

  void finish() {
    if (failure) return done(fail(*failure));
    sources::Plan plan;
    plan.name = job.name;
    plan.sidecars = std::move(sidecars);
    for (std::optional<sources::PlannedFile>& file : files) plan.files.push_back(std::move(*file));
    done(std::move(plan));
  }
};

void plan_per_source(ResolverPool& resolvers, const core::Job& job, const sources::GetEnv& getenv,
                     std::function<void(Result<sources::Plan>)> done) {
  auto gathering = std::make_shared<Gathering>();
  gathering->job = job;
  gathering->done = std::move(done);
  gathering->files.resize(job.items.size());
  std::vector<std::size_t> to_resolve;
  for (std::size_t i = 0; i < job.items.size(); ++i) {
    const core::Item& item = job.items[i];
    if (item.state == core::ItemState::kCompleted || is_url(item.source, getenv)) {
      sources::PlannedFile file;
      file.fetch.url = item.source;
      file.stage = item.stage;
      gathering->files[i] = as_item_file(std::move(file), job, item);
    } else {
      to_resolve.push_back(i);
    }
  }
  gathering->outstanding = to_resolve.size();
  if (to_resolve.empty()) return gathering->finish();
  const sources::ResolveOptions options = resolve_options(job, getenv);
  for (std::size_t i : to_resolve) {
    resolvers.resolve(job.items[i].source, options, [gathering, i](Result<sources::Plan> plan) {
      Gathering& g = *gathering;
      const core::Item& item = g.job.items[i];
      if (!plan) {
        if (!g.failure) g.failure = plan.error();
      } else if (plan->files.size() != 1) {
        if (!g.failure) {
          g.failure = Error{ErrorCode::kInvalidArgument,
                            "'" + net::redact_url(item.source) + "' names " +
                                std::to_string(plan->files.size()) +
                                " files; in a job of several sources (or a model's file) "
                                "each source must name exactly one file"};
        }
      } else {
        g.files[i] = as_item_file(std::move(plan->files.front()), g.job, item);
        // Metadata written beside the file (CivitAI), in its folder.
        const fs::path folder = fs::path(g.files[i]->relative_path).parent_path();
        for (sources::Sidecar& sidecar : plan->sidecars) {
          sidecar.relative_path =
              (folder / fs::path(sidecar.relative_path).filename()).generic_string();
          g.sidecars.push_back(std::move(sidecar));
        }
      }
      if (--g.outstanding == 0) g.finish();
    });
  }
}

}  // namespace

bool needs_plan(const core::Job& job, const sources::GetEnv& getenv) {
  if (!is_per_source(job)) return !is_url(job.source, getenv);
  for (const core::Item& item : job.items) {
    if (item.state != core::ItemState::kCompleted && !is_url(item.source, getenv)) return true;
  }
  return false;
}

void plan_job(ResolverPool& resolvers, const core::Job& job, const sources::GetEnv& getenv,
              std::function<void(Result<sources::Plan>)> done) {
  if (is_per_source(job)) return plan_per_source(resolvers, job, getenv, std::move(done));
  resolvers.resolve(job.source, resolve_options(job, getenv), std::move(done));
}

}  // namespace haul::runners
