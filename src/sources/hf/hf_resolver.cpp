// Hugging Face sources -> plans, as huggingface_hub does it: a HEAD on
// /resolve/ for one file (pinning the commit, learning size, SHA-256 and the
// CDN location), the tree API for repos, folders and globs.
#include <fstream>

#include "net/url.hpp"
#include "sources/hf/hf_cache.hpp"
#include "sources/hf/hf_patterns.hpp"
#include "sources/hf/hf_ref.hpp"
#include "sources/hf/hf_response.hpp"
#include "sources/http_client.hpp"
#include "sources/providers.hpp"

namespace haul::sources {

namespace {

using hf::HfRef;

constexpr int kMaxRenames = 5;  // relative redirects of renamed repos

struct HubSession {
  std::string endpoint;
  std::vector<std::string> auth;  // "Authorization: Bearer ..." or nothing
};

// HF_TOKEN (or the legacy HUGGING_FACE_HUB_TOKEN), else the token file
// `hf auth login` writes: $HF_TOKEN_PATH, else $HF_HOME/token.
std::optional<std::string> find_token(const GetEnv& getenv) {
  if (auto token = getenv("HF_TOKEN")) return token;
  if (auto token = getenv("HUGGING_FACE_HUB_TOKEN")) return token;
  std::string path;
  if (auto explicit_path = getenv("HF_TOKEN_PATH")) {
    path = *explicit_path;
  } else if (auto home = getenv("HF_HOME")) {
    path = *home + "/token";
  } else if (auto xdg = getenv("XDG_CACHE_HOME")) {
    path = *xdg + "/huggingface/token";
  } else if (auto user_home = getenv("HOME")) {
    path = *user_home + "/.cache/huggingface/token";
  }
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token)) return std::nullopt;
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) return std::nullopt;
  return token;
}

bool offline(const GetEnv& getenv) {
  const std::string value = getenv("HF_HUB_OFFLINE").value_or("");
  return value == "1" || value == "ON" || value == "YES" || value == "TRUE" || value == "true";
}

HttpRequest hub_request(const HubSession& hub, std::string method, std::string url) {
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.headers = hub.auth;
  // Text files are otherwise served gzip'd, with a Content-Length that is not the file's.
  request.headers.emplace_back("Accept-Encoding: identity");
  return request;
}

Error answer_error(const HubSession& hub, const HfRef& ref, const HttpResponse& response,
                   std::string_view revision, std::string_view file) {
  return hf::hf_error(response.status, response.headers, response.body,
                      hf::describe(ref, revision, file), hf::repo_page_url(hub.endpoint, ref));
}

std::string file_key(const HfRef& ref, std::string_view commit, std::string_view path) {
  std::string key = "hf://";
  if (ref.type == HfRef::RepoType::kDataset) key += "datasets/";
  if (ref.type == HfRef::RepoType::kSpace) key += "spaces/";
  return key + ref.repo_id + "@" + std::string(commit) + "/" + std::string(path);
}

// Puts `file` into the HF cache layout under the hub cache directory:
// blobs/<etag> plus the snapshots/<commit>/<path> link to it.
void place_in_cache(PlannedFile& file, const HfRef& ref, const std::filesystem::path& hub_cache,
                    std::string_view commit, const std::string& path, const std::string& etag) {
  const std::string repo = hf::repo_folder_name(ref);
  file.relative_path = repo + "/blobs/" + etag;
  file.link_path = repo + "/snapshots/" + std::string(commit) + "/" + path;
  std::string up = "../../";
  for (char c : path)
    if (c == '/') up += "../";
  file.link_target = up + "blobs/" + etag;
  file.present = hf::HfCacheRepo(hub_cache, ref).has_blob(etag);
}

// HEAD on /resolve/: follows renames (relative Location), stops at the CDN.
// `entry_missing` is set when the Hub answered EntryNotFound: the path may
// name a folder.
Result<Plan> resolve_one_file(const HubSession& hub, const HfRef& ref,
                              const std::optional<std::filesystem::path>& hub_cache,
                              bool& entry_missing) {
  std::string url = hf::resolve_url(hub.endpoint, ref, ref.revision, ref.path);
  HttpResponse response;
  bool redirected = false;
  for (int hop = 0;; ++hop) {
    auto answer = http_fetch(hub_request(hub, "HEAD", url));
    if (!answer) return fail(answer.error());
    response = std::move(*answer);
    const auto location = response.header("location");
    const bool redirect = response.status >= 300 && response.status < 400 && location;
    if (redirect && location->find("://") == std::string::npos && hop < kMaxRenames) {
      auto base = net::parse_url(url);
      auto next = base ? net::resolve_location(*base, *location) : base;
      if (!next) return fail(next.error());
      url = next->text;  // a renamed repo: ask again at its new name
      continue;
    }
    redirected = redirect;
    break;
  }
  if (response.status >= 400) {
    entry_missing = response.header("x-error-code") == "EntryNotFound";
    return fail(answer_error(hub, ref, response, ref.revision, ref.path));
  }
  auto metadata = hf::parse_file_metadata(response.status, response.headers, redirected,
                                          hf::describe(ref, ref.revision, ref.path));
  if (!metadata) return fail(metadata.error());

  Plan plan;
  plan.name = ref.repo_id + "/" + ref.path;
  PlannedFile file;
  file.key = file_key(ref, metadata->commit, ref.path);
  file.size = metadata->size;
  if (metadata->is_lfs)
    file.sha256 = metadata->etag;
  else
    file.git_sha1 = metadata->etag;
  if (redirected && metadata->location.find("://") != std::string::npos) {
    file.fetch.url = metadata->location;  // pre-signed: no token goes to the CDN
  } else {
    file.fetch.url = hf::resolve_url(hub.endpoint, ref, metadata->commit, ref.path);
    file.fetch.headers = hub.auth;
  }
  if (hub_cache) {
    place_in_cache(file, ref, *hub_cache, metadata->commit, ref.path, metadata->etag);
    const std::string repo = hf::repo_folder_name(ref);
    if (ref.revision != metadata->commit)
      plan.sidecars.push_back({repo + "/refs/" + ref.revision, metadata->commit});
  } else {
    // One named file lands in the destination under its own name, as with
    // wget or ComfyUI-Manager: models/vae/x.safetensors, not models/vae/split_files/vae/...
    file.relative_path = ref.path.substr(ref.path.rfind('/') + 1);
  }
  plan.files.push_back(std::move(file));
  return plan;
}

// Every file of the repo at `commit` through the tree API, page by page.
Result<std::vector<hf::HfTreeEntry>> list_tree(const HubSession& hub, const HfRef& ref,
                                               const std::string& commit, std::string_view dir) {
  std::vector<hf::HfTreeEntry> files;
  std::optional<std::string> url = hf::api_tree_url(hub.endpoint, ref, commit, dir);
  while (url) {
    auto response = http_fetch(hub_request(hub, "GET", *url));
    if (!response) return fail(response.error());
    if (response->status != 200) return fail(answer_error(hub, ref, *response, commit, dir));
    auto page = hf::parse_tree_page(response->body);
    if (!page) return fail(page.error());
    for (hf::HfTreeEntry& entry : *page)
      if (entry.type == "file") files.push_back(std::move(entry));
    url.reset();
    if (auto link = response->header("link")) url = hf::next_page_url(*link);
  }
  return files;
}

Result<Plan> resolve_many_files(const HubSession& hub, const HfRef& ref,
                                const ResolveOptions& options,
                                const std::optional<std::filesystem::path>& hub_cache) {
  auto revision =
      http_fetch(hub_request(hub, "GET", hf::api_revision_url(hub.endpoint, ref, ref.revision)));
  if (!revision) return fail(revision.error());
  if (revision->status != 200) return fail(answer_error(hub, ref, *revision, ref.revision, ""));
  auto commit = hf::parse_revision_sha(revision->body);
  if (!commit) return fail(commit.error());

  // A folder or glob narrows the listing like an extra allow pattern.
  std::vector<std::string> allow = options.include;
  std::string dir;
  if (hf::is_glob(ref.path)) {
    allow.push_back(ref.path);
  } else if (!ref.path.empty()) {
    dir = ref.path;
    allow.push_back(ref.path.back() == '/' ? ref.path : ref.path + "/");
  }
  auto entries = list_tree(hub, ref, *commit, dir);
  if (!entries) return fail(entries.error());

  Plan plan;
  plan.name = ref.repo_id + (ref.path.empty() ? "" : "/" + ref.path);
  for (const hf::HfTreeEntry& entry : *entries) {
    if (!hf::keep_path(entry.path, allow, options.exclude)) continue;
    if (auto safe = hf::check_repo_path(entry.path); !safe) return fail(safe.error());
    PlannedFile file;
    file.key = file_key(ref, *commit, entry.path);
    file.size = entry.lfs_size.value_or(entry.size);
    file.sha256 = entry.lfs_sha256;
    if (entry.lfs_sha256.empty()) file.git_sha1 = entry.oid;
    // The resolve URL at the pinned commit, with the token; the engine
    // follows the redirect to the CDN without it.
    file.fetch.url = hf::resolve_url(hub.endpoint, ref, *commit, entry.path);
    file.fetch.headers = hub.auth;
    if (hub_cache) {
      place_in_cache(file, ref, *hub_cache, *commit, entry.path,
                     entry.lfs_sha256.empty() ? entry.oid : entry.lfs_sha256);
    } else {
      file.relative_path = entry.path;
    }
    plan.files.push_back(std::move(file));
  }
  if (plan.files.empty()) {
    return fail(ErrorCode::kNotFound, "no file of " + hf::describe(ref, ref.revision, "") +
                                          " matches " +
                                          (ref.path.empty() ? "the patterns given" : ref.path));
  }
  if (hub_cache && ref.revision != *commit)
    plan.sidecars.push_back({hf::repo_folder_name(ref) + "/refs/" + ref.revision, *commit});
  return plan;
}

// HF_HUB_OFFLINE: no request at all. A file already in the HF cache is
// "resolved" to itself; anything else is an error naming what is missing.
Result<Plan> resolve_offline(const HfRef& ref, const ResolveOptions& options) {
  const std::string what = hf::describe(ref, ref.revision, ref.path);
  if (!options.hf_cache || ref.path.empty() || hf::is_glob(ref.path))
    return fail(ErrorCode::kFailedPrecondition, "HF_HUB_OFFLINE is set: cannot ask the Hub about " +
                                                    what +
                                                    " (only single files in the HF cache "
                                                    "can be used offline, with --hf-cache)");
  auto dir = hf::hub_cache_dir(options.getenv);
  if (!dir) return fail(dir.error());
  const hf::HfCacheRepo cache(*dir, ref);
  const auto commit = cache.read_ref(ref.revision).value_or(ref.revision);
  auto snapshot = cache.snapshot_path(commit, ref.path);
  std::error_code ec;
  if (!snapshot || !std::filesystem::exists(*snapshot, ec))
    return fail(ErrorCode::kNotFound,
                "HF_HUB_OFFLINE is set and " + what + " is not in the HF cache " + dir->string());
  Plan plan;
  plan.name = ref.repo_id + "/" + ref.path;
  PlannedFile file;
  file.key = file_key(ref, commit, ref.path);
  file.relative_path = std::filesystem::relative(*snapshot, *dir, ec).string();
  file.size = std::filesystem::file_size(*snapshot, ec);
  file.present = true;
  plan.files.push_back(std::move(file));
  return plan;
}

}  // namespace

Result<void> check_hf_source(std::string_view source, const ResolveOptions& options) {
  auto ref = hf::parse_hf_source(source, hf_endpoint(options.getenv));
  if (!ref) return fail(ref.error());
  return {};
}

Result<Plan> resolve_hf(std::string_view source, const ResolveOptions& options) {
  HubSession hub;
  hub.endpoint = hf_endpoint(options.getenv);
  auto ref = hf::parse_hf_source(source, hub.endpoint);
  if (!ref) return fail(ref.error());
  if (offline(options.getenv)) return resolve_offline(*ref, options);
  if (auto token = find_token(options.getenv))
    hub.auth.push_back("Authorization: Bearer " + *token);
  std::optional<std::filesystem::path> hub_cache;
  if (options.hf_cache) {
    auto dir = hf::hub_cache_dir(options.getenv);
    if (!dir) return fail(dir.error());
    hub_cache = *dir;
  }
  const bool one_file = !ref->path.empty() && ref->path.back() != '/' && !hf::is_glob(ref->path) &&
                        options.include.empty();
  if (one_file) {
    bool entry_missing = false;
    auto plan = resolve_one_file(hub, *ref, hub_cache, entry_missing);
    // "org/repo/subfolder" names a folder, not a file: list it instead.
    if (plan || !entry_missing) return plan;
  }
  return resolve_many_files(hub, *ref, options, hub_cache);
}

}  // namespace haul::sources
