#include "runners/source_items.hpp"

#include <algorithm>

#include "base/text.hpp"
#include "net/file_name.hpp"
#include "net/sha256.hpp"
#include "net/url.hpp"
#include "sources/plan_transfer.hpp"

namespace haul::runners {

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string option_of(const core::Job& job, const std::string& name) {
  auto it = job.source_options->find(name);
  return it == job.source_options->end() ? std::string() : it->second;
}

}  // namespace

Result<void> add_source_items(core::Job& job, const core::JobRequest& request,
                              const sources::GetEnv& getenv, const PlaceFile& place) {
  if (!request.files.empty() && request.files.size() != request.sources.size())
    return fail(ErrorCode::kInvalidArgument, "files must give one entry per source");
  bool resolved = false;  // some source needs resolving
  for (std::size_t i = 0; i < request.sources.size(); ++i) {
    const std::string& source = request.sources[i];
    auto kind = sources::check_source(source, resolve_options(job, getenv));
    if (!kind) return fail(kind.error());
    resolved = resolved || *kind != sources::SourceKind::kUrl;
    core::Item item;
    item.source = source;  // an hf/CivitAI/S3 item stands for the source until resolved
    if (request.sha256) item.sha256 = *request.sha256;
    if (!request.files.empty()) {
      const core::FileSpec& spec = request.files[i];
      if (!spec.path.empty()) {
        auto path = place(spec.path);
        if (!path) return fail(path.error());
        item.path = *path;
      }
      item.size = spec.size;
      if (spec.sha256) {
        if (!net::is_sha256_hex(*spec.sha256)) {
          return fail(ErrorCode::kInvalidArgument, spec.path +
                                                       ": sha256 must be 64 hex digits, got '" +
                                                       spec.sha256->substr(0, 80) + "'");
        }
        item.sha256 = to_lower(*spec.sha256);
      }
      for (const std::string& link : spec.links) {
        auto path = place(link);
        if (!path) return fail(path.error());
        item.extras.edit().links.push_back(*path);
      }
      if (spec.present) {
        if (item.path.empty())
          return fail(ErrorCode::kInvalidArgument, "a file present must say its path");
        item.state = core::next_item_state(item.state, core::ItemEvent::kSucceeded).value();
        item.bytes_done = item.size.value_or(0);
      }
    }
    job.items.push_back(std::move(item));
  }
  // Several sources (or files placed by the request): each names one file.
  if ((resolved && request.sources.size() > 1) || !request.files.empty())
    job.source_options.edit()["per_source"] = "1";
  return {};
}

bool is_per_source(const core::Job& job) { return option_of(job, "per_source") == "1"; }

void name_after_source(core::Job& job, const sources::GetEnv& getenv) {
  if (job.name.empty() && sources::source_kind(job.source, getenv) == sources::SourceKind::kUrl)
    job.name = net::file_name_from_url(job.source);
  if (job.name.empty()) job.name = net::redact_url(job.source);
}

std::string source_identity(const core::Job& job, const sources::GetEnv& getenv) {
  if (is_per_source(job)) {
    // The same files to the same places.
    std::string identity;
    for (const core::Item& item : job.items) identity += item.source + '\t' + item.path + '\n';
    return identity;
  }
  if (sources::source_kind(job.source, getenv) != sources::SourceKind::kUrl) return job.source;
  return core::item_sources(job);
}

sources::ResolveOptions resolve_options(const core::Job& job, const sources::GetEnv& getenv) {
  sources::ResolveOptions options;
  options.getenv = getenv;
  options.include = split_lines(option_of(job, "include"));
  options.exclude = split_lines(option_of(job, "exclude"));
  options.file_name = option_of(job, "file");
  options.with_preview = option_of(job, "with_preview") == "1";
  options.hf_cache = option_of(job, "hf_cache") == "1";
  return options;
}

std::filesystem::path plan_destination(const core::Job& job, const sources::Plan& plan) {
  std::filesystem::path destination = job.destination;
  if (option_of(job, "auto_folder") == "1" && !plan.suggested_folder.empty())
    destination /= plan.suggested_folder;
  return destination;
}

Result<std::vector<core::Item>> items_from_plan(const core::Job& job, sources::Plan& plan,
                                                const std::filesystem::path& destination,
                                                bool local) {
  // A single file saved under the name the request gave (S3 model configs'
  // localPath).
  if (const std::string name = option_of(job, "output_name");
      !name.empty() && plan.files.size() == 1)
    plan.files.front().relative_path = name;
  std::vector<core::Item> items;
  for (sources::PlannedFile& file : plan.files) {
    auto earlier = std::find_if(job.items.begin(), job.items.end(),
                                [&](const core::Item& item) { return item.source == file.key; });
    core::Item item = earlier != job.items.end() ? *earlier : core::Item{};
    item.source = file.key;
    item.stage = file.stage;
    if (!file.sha256.empty()) item.sha256 = file.sha256;
    if (file.size) item.size = file.size;
    if (local && file.present && item.state != core::ItemState::kCompleted) {
      // In the local HF cache already: only its link is missing.
      item.state =
          core::next_item_state(core::ItemState::kQueued, core::ItemEvent::kSucceeded).value();
      item.path = (destination / file.relative_path).string();
      item.bytes_done = file.size.value_or(0);
      if (auto linked = sources::finish_planned_file(file, destination); !linked)
        return fail(linked.error());
    }
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace haul::runners
