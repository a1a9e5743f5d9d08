#include "support/fake_hf.hpp"

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "support/fake_common.hpp"

namespace haul::testing {
namespace {

using fake::Request;
using fake::Response;
using nlohmann::json;

constexpr std::size_t kDefaultTreePageSize = 1000;  // the Hub's page without expand
constexpr std::string_view kCdnPrefix = "/cdn-lfs/";
constexpr std::int64_t kRepoTime = 1714564800;  // 2024-05-01T12:00:00Z, any fixed time

struct StoredFile {
  std::string path;
  std::string content;
  bool lfs = false;
  std::string blob_id;  // git object id: of the pointer for LFS files (what git stores)
  std::string sha256;
  std::string pointer;  // LFS pointer text; "" for plain files
  std::string md5;      // the CDN's (S3's) ETag
};

struct StoredRepo {
  HfFakeRepo spec;  // spec.files moved into `files`
  std::vector<StoredFile> files;

  const StoredFile* find(std::string_view path) const {
    const auto it = std::find_if(files.begin(), files.end(),
                                 [&](const StoredFile& file) { return file.path == path; });
    return it == files.end() ? nullptr : &*it;
  }
};

// A request path split into the repo id and what surrounds it.
struct Target {
  enum class Kind { kResolve, kInfo, kRevision, kTree };
  Kind kind = Kind::kResolve;
  std::string type;
  std::string repo_id;
  std::string raw_head;           // raw path before the id, e.g. "/api/models/"
  std::string raw_tail;           // raw path after the id, e.g. "/resolve/main/a.bin"
  std::vector<std::string> rest;  // raw segments after resolve/revision/tree
};

std::string join(const std::vector<std::string>& parts, std::size_t from, std::size_t to) {
  std::string text;
  for (std::size_t i = from; i < to && i < parts.size(); ++i) {
    if (i > from) {
      text.push_back('/');
    }
    text.append(parts[i]);
  }
  return text;
}

std::string url_prefix(std::string_view type) {
  return type == "dataset" ? "datasets/" : type == "space" ? "spaces/" : "";
}

std::optional<std::string> type_of_collection(std::string_view collection) {
  if (collection == "models") {
    return "model";
  }
  if (collection == "datasets") {
    return "dataset";
  }
  if (collection == "spaces") {
    return "space";
  }
  return std::nullopt;
}

std::optional<Target> parse_target(std::string_view path) {
  const auto segments = fake::split_path(path);
  Target target;
  std::size_t id_start = 0;
  std::size_t id_end = 0;
  if (segments.size() >= 3 && segments[0] == "api") {
    const auto type = type_of_collection(segments[1]);
    if (!type) {
      return std::nullopt;
    }
    target.type = *type;
    id_start = 2;
    id_end = segments.size();
    target.kind = Target::Kind::kInfo;
    for (std::size_t i = 3; i < segments.size(); ++i) {
      if (segments[i] == "revision" || segments[i] == "tree") {
        target.kind = segments[i] == "tree" ? Target::Kind::kTree : Target::Kind::kRevision;
        id_end = i;
        break;
      }
    }
  } else {
    target.type = "model";
    if (!segments.empty() && (segments[0] == "datasets" || segments[0] == "spaces")) {
      target.type = segments[0] == "datasets" ? "dataset" : "space";
      id_start = 1;
    }
    const auto resolve = std::find(segments.begin() + static_cast<std::ptrdiff_t>(id_start) +
                                       (segments.size() > id_start ? 1 : 0),
                                   segments.end(), "resolve");
    if (resolve == segments.end()) {
      return std::nullopt;
    }
    id_end = static_cast<std::size_t>(resolve - segments.begin());
  }
  target.repo_id = join(segments, id_start, id_end);
  target.raw_head = "/" + join(segments, 0, id_start) + (id_start > 0 ? "/" : "");
  target.raw_tail = id_end < segments.size() ? "/" + join(segments, id_end, segments.size()) : "";
  if (id_end < segments.size()) {
    target.rest.assign(segments.begin() + static_cast<std::ptrdiff_t>(id_end) + 1, segments.end());
  }
  return target;
}

bool is_commit_hex(std::string_view text) {
  return text.size() == 40 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The Hub's error: X-Error-Code (when given), X-Error-Message, {"error": ...}.
Response hub_error(int status, std::string_view code, const std::string& message) {
  auto response = fake::json_response(status, json{{"error", message}}.dump());
  if (!code.empty()) {
    response.headers.emplace_back("X-Error-Code", std::string(code));
  }
  response.headers.emplace_back("X-Error-Message", message);
  return response;
}

std::string basename(std::string_view path) {
  return std::string(path.substr(path.rfind('/') + 1));
}

std::string content_disposition(std::string_view path) {
  const auto name = basename(path);
  return "inline; filename*=UTF-8''" + fake::percent_encode(name, false) + "; filename=\"" + name +
         "\";";
}

}  // namespace

class FakeHuggingFace::Impl {
 public:
  Impl(int port, std::string token, std::string approved_token)
      : endpoint_("http://127.0.0.1:" + std::to_string(port)),
        cdn_base_("http://127.0.0.2:" + std::to_string(port)),
        token_(std::move(token)),
        approved_token_(std::move(approved_token)) {}

  Response handle(const Request& request);

  const std::string endpoint_;
  const std::string cdn_base_;
  const std::string token_;
  const std::string approved_token_;

  mutable std::mutex mutex_;
  std::vector<StoredRepo> repos_;
  std::size_t tree_page_size_ = kDefaultTreePageSize;
  int rate_limited_left_ = 0;
  int retry_after_seconds_ = 0;
  std::size_t cdn_rate_ = 0;
  struct CdnUrl {
    std::string sha256;
    bool expired = false;
  };
  std::unordered_map<std::string, CdnUrl> cdn_urls_;  // by X-Amz-Signature

  const StoredRepo* find_repo(std::string_view type, std::string_view id) const {
    for (const auto& repo : repos_) {
      if (repo.spec.type == type && repo.spec.id == id) {
        return &repo;
      }
    }
    return nullptr;
  }

 private:
  struct Revision {
    std::string commit;
    std::size_t segments = 0;  // how many of Target::rest named it
  };

  Response route(const Request& request);
  Response rate_limited(const Target& target);
  Response access_denied(const StoredRepo& repo, bool authenticated, bool approved) const;
  Response resolve(const Request& request, const StoredRepo& repo, const Target& target);
  Response info(const Request& request, const StoredRepo& repo, const Target& target) const;
  Response tree(const Request& request, const StoredRepo& repo, const Target& target) const;
  Response cdn(const Request& request);
  std::optional<Revision> revision(const StoredRepo& repo,
                                   const std::vector<std::string>& rest) const;
};

Response FakeHuggingFace::Impl::handle(const Request& request) {
  std::lock_guard lock(mutex_);
  auto response = route(request);
  response.headers.emplace_back("X-Request-Id",
                                "Root=1-" + fake::random_hex(4) + "-" + fake::random_hex(12));
  return response;
}

Response FakeHuggingFace::Impl::route(const Request& request) {
  if (request.path.starts_with(kCdnPrefix)) {
    return cdn(request);
  }
  const auto target = parse_target(request.path);
  if (!target) {
    return {404, {{"Content-Type", "text/plain"}}, "Not Found"};
  }
  if (rate_limited_left_ > 0) {
    --rate_limited_left_;
    return rate_limited(*target);
  }
  if (request.method != "GET" && request.method != "HEAD") {
    return {405, {{"Allow", "GET, HEAD"}}, "Method Not Allowed"};
  }
  const bool has_authorization = request.headers.contains("authorization");
  const auto token = fake::bearer_token(request);
  if (has_authorization && (!token || (*token != token_ && *token != approved_token_))) {
    return hub_error(401, "", "Invalid credentials in Authorization header");
  }
  const bool authenticated = token.has_value();
  for (const auto& renamed : repos_) {
    if (!renamed.spec.renamed_from.empty() && renamed.spec.renamed_from == target->repo_id &&
        renamed.spec.type == target->type) {
      auto location = target->raw_head + renamed.spec.id + target->raw_tail;
      if (!request.query.empty()) {
        location += "?" + request.query;
      }
      return {307,
              {{"Location", location}, {"Content-Type", "text/plain; charset=utf-8"}},
              "Temporary Redirect. Redirecting to " + location};
    }
  }
  const auto* repo = find_repo(target->type, target->repo_id);
  if (repo == nullptr) {
    return hub_error(authenticated ? 404 : 401, "RepoNotFound", "Repository not found");
  }
  if (auto denied = access_denied(*repo, authenticated, token && *token == approved_token_);
      denied.status != 200) {
    return denied;
  }
  switch (target->kind) {
    case Target::Kind::kResolve:
      return resolve(request, *repo, *target);
    case Target::Kind::kInfo:
    case Target::Kind::kRevision:
      return info(request, *repo, *target);
    case Target::Kind::kTree:
      return tree(request, *repo, *target);
  }
  return {500, {}, "unreachable"};
}

Response FakeHuggingFace::Impl::rate_limited(const Target& target) {
  const bool resolver = target.kind == Target::Kind::kResolve;
  const std::string bucket = resolver ? "resolvers" : "api";
  const auto seconds = std::to_string(retry_after_seconds_);
  auto response = fake::json_response(
      429, json{{"error", "Too Many Requests: you have reached your '" + bucket +
                              "' rate limit. Retry after " + seconds + " seconds."}}
               .dump());
  response.headers.emplace_back("RateLimit", "\"" + bucket + "\";r=0;t=" + seconds);
  response.headers.emplace_back("RateLimit-Policy", R"("fixed window";")" + bucket + R"(";q=)" +
                                                        (resolver ? "3000" : "500") + ";w=300");
  response.headers.emplace_back("Retry-After", seconds);
  return response;
}

Response FakeHuggingFace::Impl::access_denied(const StoredRepo& repo, bool authenticated,
                                              bool approved) const {
  using Access = HfFakeRepo::Access;
  switch (repo.spec.access) {
    case Access::kPublic:
      return {};
    case Access::kPrivate:
      return authenticated ? Response{} : hub_error(401, "RepoNotFound", "Repository not found");
    case Access::kDisabled:
      return hub_error(403, "", "Access to this resource is disabled.");
    case Access::kGated:
      break;
  }
  if (approved) {
    return {};
  }
  const auto what = repo.spec.type + " " + repo.spec.id;
  if (!authenticated) {
    return hub_error(401, "GatedRepo",
                     "Access to " + what +
                         " is restricted. You must have access to it and be authenticated to "
                         "access it. Please log in.");
  }
  return hub_error(403, "GatedRepo",
                   "Access to " + what + " is restricted and you are not in the authorized list. " +
                       "Visit " + endpoint_ + "/" + url_prefix(repo.spec.type) + repo.spec.id +
                       " to ask for access.");
}

std::optional<FakeHuggingFace::Impl::Revision> FakeHuggingFace::Impl::revision(
    const StoredRepo& repo, const std::vector<std::string>& rest) const {
  if (rest.empty()) {
    return std::nullopt;
  }
  const auto first = fake::percent_decode(rest[0]).value_or("");
  const auto& refs = repo.spec.refs;
  if (const auto ref = refs.find(first); ref != refs.end()) {
    return Revision{ref->second, 1};
  }
  if (is_commit_hex(first) && (first == repo.spec.commit ||
                               std::any_of(refs.begin(), refs.end(),
                                           [&](const auto& ref) { return ref.second == first; }))) {
    return Revision{first, 1};
  }
  // A ref containing '/' sent without encoding it ("refs/pr/1").
  for (const auto& [name, commit] : refs) {
    const auto parts = static_cast<std::size_t>(std::count(name.begin(), name.end(), '/')) + 1;
    if (parts > 1 && rest.size() >= parts &&
        fake::percent_decode(join(rest, 0, parts)).value_or("") == name) {
      return Revision{commit, parts};
    }
  }
  return std::nullopt;
}

Response FakeHuggingFace::Impl::resolve(const Request& request, const StoredRepo& repo,
                                        const Target& target) {
  const auto rev = revision(repo, target.rest);
  if (!rev) {
    const auto name =
        target.rest.empty() ? std::string() : fake::percent_decode(target.rest[0]).value_or("");
    return hub_error(404, "RevisionNotFound", "Invalid rev id: " + name);
  }
  const auto path =
      fake::percent_decode(join(target.rest, rev->segments, target.rest.size())).value_or("");
  const auto* file = repo.find(path);
  if (file == nullptr) {
    auto missing = hub_error(404, "EntryNotFound", "Entry not found");
    missing.headers.emplace_back("X-Repo-Commit", rev->commit);
    return missing;
  }
  if (!file->lfs) {
    fake::Entity entity;
    entity.body = file->content;
    entity.etag = "\"" + file->blob_id + "\"";
    entity.content_type = "text/plain; charset=utf-8";
    entity.headers = {{"X-Repo-Commit", rev->commit},
                      {"Content-Disposition", content_disposition(file->path)}};
    return fake::serve_entity(request, entity);
  }
  const auto signature = fake::random_hex(32);
  cdn_urls_[signature] = CdnUrl{file->sha256, false};
  const auto location =
      cdn_base_ + std::string(kCdnPrefix) + file->sha256 + "?response-content-disposition=" +
      fake::percent_encode(content_disposition(file->path), false) +
      "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature=" + signature +
      "&X-Amz-SignedHeaders=host";
  return {302,
          {{"Location", location},
           {"X-Repo-Commit", rev->commit},
           {"X-Linked-Etag", "\"" + file->sha256 + "\""},
           {"X-Linked-Size", std::to_string(file->content.size())},
           {"ETag", "\"" + file->blob_id + "\""},
           {"Content-Type", "text/plain; charset=utf-8"}},
          file->pointer};
}

Response FakeHuggingFace::Impl::info(const Request& request, const StoredRepo& repo,
                                     const Target& target) const {
  std::string commit = repo.spec.refs.at("main");
  if (target.kind == Target::Kind::kRevision) {
    const auto rev = revision(repo, target.rest);
    if (!rev) {
      const auto name =
          target.rest.empty() ? std::string() : fake::percent_decode(target.rest[0]).value_or("");
      return hub_error(404, "RevisionNotFound", "Invalid rev id: " + name);
    }
    commit = rev->commit;
  }
  const bool blobs = fake::query_param(request.query, "blobs").value_or("") == "true";
  json siblings = json::array();
  std::uint64_t storage = 0;
  for (const auto& file : repo.files) {
    json sibling{{"rfilename", file.path}};
    if (blobs) {
      sibling["blobId"] = file.blob_id;
      sibling["size"] = file.content.size();
      if (file.lfs) {
        sibling["lfs"] = {{"sha256", file.sha256},
                          {"size", file.content.size()},
                          {"pointerSize", file.pointer.size()}};
      }
    }
    storage += file.content.size();
    siblings.push_back(std::move(sibling));
  }
  const auto& id = repo.spec.id;
  json body{{"_id", fake::sha1_hex(repo.spec.type + "/" + id).substr(0, 24)},
            {"id", id},
            {"author", id.substr(0, id.find('/'))},
            {"sha", commit},
            {"lastModified", fake::iso8601(kRepoTime)},
            {"createdAt", fake::iso8601(kRepoTime)},
            {"private", repo.spec.access == HfFakeRepo::Access::kPrivate},
            {"disabled", false},
            {"tags", json::array()},
            {"siblings", std::move(siblings)},
            {"usedStorage", storage}};
  body["gated"] = repo.spec.access == HfFakeRepo::Access::kGated ? json("manual") : json(false);
  if (repo.spec.type == "model") {
    body["modelId"] = id;
  }
  return fake::json_response(200, body.dump());
}

Response FakeHuggingFace::Impl::tree(const Request& request, const StoredRepo& repo,
                                     const Target& target) const {
  const auto rev = revision(repo, target.rest);
  if (!rev) {
    const auto name =
        target.rest.empty() ? std::string() : fake::percent_decode(target.rest[0]).value_or("");
    return hub_error(404, "RevisionNotFound", "Invalid rev id: " + name);
  }
  auto dir =
      fake::percent_decode(join(target.rest, rev->segments, target.rest.size())).value_or("");
  while (dir.ends_with('/')) {
    dir.pop_back();
  }
  const auto recursive_param = fake::query_param(request.query, "recursive").value_or("");
  const bool recursive =
      recursive_param == "true" || recursive_param == "1" || recursive_param == "True";
  // Sorted by path, so a folder comes right before its contents.
  std::map<std::string, json> entries;
  const auto add_directory = [&](const std::string& path) {
    entries.emplace(path, json{{"type", "directory"},
                               {"oid", fake::sha1_hex("tree:" + rev->commit + ":" + path)},
                               {"size", 0},
                               {"path", path}});
  };
  for (const auto& file : repo.files) {
    if (!dir.empty() && !file.path.starts_with(dir + "/")) {
      continue;
    }
    const auto base = dir.empty() ? std::size_t{0} : dir.size() + 1;
    auto slash = file.path.find('/', base);
    if (!recursive && slash != std::string::npos) {
      add_directory(file.path.substr(0, slash));
      continue;
    }
    for (; slash != std::string::npos; slash = file.path.find('/', slash + 1)) {
      add_directory(file.path.substr(0, slash));
    }
    json entry{{"type", "file"},
               {"oid", file.blob_id},
               {"size", file.content.size()},
               {"path", file.path}};
    if (file.lfs) {
      entry["lfs"] = {{"oid", file.sha256},
                      {"size", file.content.size()},
                      {"pointerSize", file.pointer.size()}};
    }
    entries.emplace(file.path, std::move(entry));
  }
  if (!dir.empty() && entries.empty()) {
    const auto name = fake::percent_decode(target.rest[0]).value_or("");
    return hub_error(404, "EntryNotFound", dir + " does not exist on \"" + name + "\"");
  }
  std::size_t offset = 0;
  if (const auto cursor = fake::query_param(request.query, "cursor")) {
    const auto decoded = fake::base64_decode(*cursor);
    const auto parsed = decoded ? json::parse(*decoded, nullptr, false) : json();
    if (!parsed.is_object() || !parsed.contains("offset") ||
        !parsed["offset"].is_number_unsigned()) {
      return hub_error(400, "", "Invalid cursor");
    }
    offset = parsed["offset"].get<std::size_t>();
  }
  json page = json::array();
  std::size_t index = 0;
  for (auto& [path, entry] : entries) {
    if (index >= offset && index < offset + tree_page_size_) {
      page.push_back(entry);
    }
    ++index;
  }
  auto response = fake::json_response(200, page.dump());
  if (offset + tree_page_size_ < entries.size()) {
    const auto cursor = fake::base64_encode(
        json{{"offset", offset + tree_page_size_}, {"commit", rev->commit}}.dump());
    auto query = fake::query_without(request.query, "cursor");
    query +=
        (query.empty() ? "" : "&") + std::string("cursor=") + fake::percent_encode(cursor, false);
    response.headers.emplace_back("Link",
                                  "<" + endpoint_ + request.path + "?" + query + ">; rel=\"next\"");
  }
  return response;
}

Response FakeHuggingFace::Impl::cdn(const Request& request) {
  if (auto refused = fake::refuse_presigned_request(request)) return *refused;
  const auto sha256 = request.path.substr(kCdnPrefix.size());
  const auto signature = fake::query_param(request.query, "X-Amz-Signature").value_or("");
  const auto issued = cdn_urls_.find(signature);
  if (issued == cdn_urls_.end() || issued->second.sha256 != sha256) {
    return fake::s3_error(request, 403, "SignatureDoesNotMatch",
                          "The request signature we calculated does not match the signature you "
                          "provided. Check your key and signing method.");
  }
  if (issued->second.expired) {
    return fake::s3_error(request, 403, "AccessDenied", "Request has expired",
                          {{"X-Amz-Expires", "3600"}});
  }
  const StoredFile* blob = nullptr;
  for (const auto& repo : repos_) {
    for (const auto& file : repo.files) {
      if (file.lfs && file.sha256 == sha256) {
        blob = &file;
      }
    }
  }
  if (blob == nullptr) {
    return fake::s3_error(request, 404, "NoSuchKey", "The specified key does not exist.",
                          {{"Key", sha256}});
  }
  fake::Entity entity;
  entity.body = blob->content;
  entity.etag = "\"" + blob->md5 + "\"";
  entity.last_modified = fake::imf_date(kRepoTime);
  if (auto disposition = fake::query_param(request.query, "response-content-disposition")) {
    entity.headers.emplace_back("Content-Disposition", std::move(*disposition));
  }
  auto response = fake::serve_entity(request, entity);
  response.rate = cdn_rate_;
  if (response.status == 412) {
    return fake::s3_error(request, 412, "PreconditionFailed",
                          "At least one of the pre-conditions you specified did not hold",
                          {{"Condition", "If-Match"}});
  }
  return response;
}

// ---- public API -----------------------------------------------------------

FakeHuggingFace::FakeHuggingFace(TestHttpServer& server, std::string token,
                                 std::string approved_token)
    : impl_(std::make_shared<Impl>(server.port(), std::move(token), std::move(approved_token))) {
  server.add_prefix_handler(
      "/", [impl = impl_](const Request& request) { return impl->handle(request); });
}

FakeHuggingFace::~FakeHuggingFace() = default;

std::string FakeHuggingFace::endpoint() const { return impl_->endpoint_; }

void FakeHuggingFace::add_repo(HfFakeRepo repo) {
  if (repo.type != "model" && repo.type != "dataset" && repo.type != "space") {
    throw std::invalid_argument("HfFakeRepo.type must be model, dataset or space, not '" +
                                repo.type + "'");
  }
  if (repo.id.empty()) {
    throw std::invalid_argument("HfFakeRepo.id is empty");
  }
  if (repo.commit.empty()) {
    repo.commit = fake::sha1_hex("commit:" + repo.type + "/" + repo.id);
  }
  repo.refs.try_emplace("main", repo.commit);
  StoredRepo stored;
  for (auto& file : repo.files) {
    StoredFile entry;
    entry.path = file.path;
    entry.lfs = file.lfs;
    entry.sha256 = fake::sha256_hex(file.content);
    entry.md5 = fake::md5_hex(file.content);
    entry.pointer = file.lfs ? lfs_pointer(file.content) : "";
    entry.blob_id = git_blob_sha1(file.lfs ? entry.pointer : file.content);
    entry.content = std::move(file.content);
    stored.files.push_back(std::move(entry));
  }
  repo.files.clear();
  stored.spec = std::move(repo);
  std::lock_guard lock(impl_->mutex_);
  auto& repos = impl_->repos_;
  std::erase_if(repos, [&](const StoredRepo& old) {
    return old.spec.type == stored.spec.type && old.spec.id == stored.spec.id;
  });
  repos.push_back(std::move(stored));
}

void FakeHuggingFace::set_tree_page_size(std::size_t entries) {
  std::lock_guard lock(impl_->mutex_);
  impl_->tree_page_size_ = std::max<std::size_t>(entries, 1);
}

void FakeHuggingFace::set_cdn_rate(std::size_t bytes_per_second) {
  std::lock_guard lock(impl_->mutex_);
  impl_->cdn_rate_ = bytes_per_second;
}

void FakeHuggingFace::rate_limit_next(int requests, int retry_after_seconds) {
  std::lock_guard lock(impl_->mutex_);
  impl_->rate_limited_left_ = requests;
  impl_->retry_after_seconds_ = retry_after_seconds;
}

void FakeHuggingFace::expire_cdn_urls() {
  std::lock_guard lock(impl_->mutex_);
  for (auto& [signature, url] : impl_->cdn_urls_) {
    url.expired = true;
  }
}

std::string FakeHuggingFace::commit_of(std::string_view repo_id, std::string_view type) const {
  std::lock_guard lock(impl_->mutex_);
  const auto* repo = impl_->find_repo(type, repo_id);
  return repo == nullptr ? std::string() : repo->spec.refs.at("main");
}

std::string FakeHuggingFace::resolve_url(std::string_view repo_id, std::string_view path,
                                         std::string_view revision, std::string_view type) const {
  return impl_->endpoint_ + "/" + url_prefix(type) + std::string(repo_id) + "/resolve/" +
         fake::percent_encode(revision, false) + "/" + fake::percent_encode(path, true);
}

std::string FakeHuggingFace::git_blob_sha1(std::string_view content) {
  std::string object = "blob " + std::to_string(content.size());
  object.push_back('\0');
  object.append(content);
  return fake::sha1_hex(object);
}

std::string FakeHuggingFace::lfs_pointer(std::string_view content) {
  return "version https://git-lfs.github.com/spec/v1\noid sha256:" + fake::sha256_hex(content) +
         "\nsize " + std::to_string(content.size()) + "\n";
}

}  // namespace haul::testing
