// A fake Hugging Face Hub on a TestHttpServer: /resolve (HEAD and GET, LFS
// files redirected to a pre-signed CDN URL on 127.0.0.2), the revision and
// tree APIs with Link pagination, gated/private/disabled/renamed repos, the
// Hub's X-Error-Code / X-Error-Message errors and 429 rate limiting. Enough
// of the real protocol for haul's HF resolver and transfer engine to run
// against it unchanged.
//
// Routes (ep = endpoint()):
//   HEAD|GET {ep}/[datasets/|spaces/]{repo}/resolve/{rev}/{path}
//   GET      {ep}/api/{models|datasets|spaces}/{repo}[/revision/{rev}][?blobs=true]
//   GET {ep}/api/{models|datasets|spaces}/{repo}/tree/{rev}[/{dir}][?recursive=true][&cursor=..]
//   HEAD|GET http://127.0.0.2:PORT/cdn-lfs/{sha256}?...&X-Amz-Signature=..  (the CDN)
// It takes the server's catch-all prefix "/", so give FakeS3 (which does the
// same) its own server; FakeCivitai can share one.
//
// Threads: handlers run on the server's connection threads; every method may
// be called from the test thread meanwhile.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support/test_http_server.hpp"

namespace haul::testing {

struct HfFakeFile {
  std::string path{};     // "sub/dir/name.bin"
  std::string content{};  // the file's bytes
  // true: stored in Git LFS (resolve answers 302 to the CDN); false: a plain
  // git file served directly by /resolve.
  bool lfs = true;
};

struct HfFakeRepo {
  enum class Access {
    kPublic,
    kGated,     // needs the approved token (401 GatedRepo anonymous, 403 other tokens)
    kPrivate,   // needs a valid token; otherwise looks missing (401 RepoNotFound)
    kDisabled,  // 403 "Access to this resource is disabled."
  };
  std::string type = "model";  // model | dataset | space
  std::string id{};            // "org/name"
  std::string commit{};        // 40 hex; derived from type and id when empty
  // Branch/tag/PR ref ("refs/pr/1") -> commit; "main" -> commit is added
  // when missing. Every ref serves the same files.
  std::map<std::string, std::string> refs{};
  std::vector<HfFakeFile> files{};
  Access access = Access::kPublic;
  // "old-org/name": requests naming it get 307 with a relative Location that
  // names `id` instead (the Hub's answer for a renamed repo).
  std::string renamed_from{};
};

class FakeHuggingFace {
 public:
  // Registers its handler on `server`. `token` and `approved_token` are the
  // valid bearer tokens; only `approved_token` may read gated repos. Any
  // other bearer token gets 401 "Invalid credentials in Authorization header".
  explicit FakeHuggingFace(TestHttpServer& server, std::string token = "hf_testtoken",
                           std::string approved_token = "hf_testtoken");
  FakeHuggingFace(const FakeHuggingFace&) = delete;
  FakeHuggingFace& operator=(const FakeHuggingFace&) = delete;
  ~FakeHuggingFace();

  // "http://127.0.0.1:PORT" (no trailing slash), the HF_ENDPOINT to use.
  std::string endpoint() const;
  // Adds or replaces (same type and id) a repo. Throws std::invalid_argument
  // for an unknown type or an empty id.
  void add_repo(HfFakeRepo repo);
  // Entries per tree page (default 1000, as the Hub).
  void set_tree_page_size(std::size_t entries);
  // CDN responses trickle at this many bytes per second (0 = full speed), so
  // tests can stop a download half-way.
  void set_cdn_rate(std::size_t bytes_per_second);
  // The next `requests` /api and /resolve requests get 429 with
  // `RateLimit: "<bucket>";r=0;t=<s>`, `RateLimit-Policy` and `Retry-After: <s>`
  // (bucket "resolvers" for /resolve, "api" for /api).
  void rate_limit_next(int requests, int retry_after_seconds);
  // Every CDN URL handed out so far answers 403 AccessDenied "Request has
  // expired" from now on; new /resolve answers hand out fresh ones.
  void expire_cdn_urls();

  // Commit the repo's "main" resolves to ("" when there is no such repo).
  std::string commit_of(std::string_view repo_id, std::string_view type = "model") const;
  // "{ep}/[datasets/|spaces/]{repo}/resolve/{rev}/{path}" with rev and path
  // percent-encoded as huggingface_hub does (rev fully, path keeping '/').
  std::string resolve_url(std::string_view repo_id, std::string_view path,
                          std::string_view revision = "main",
                          std::string_view type = "model") const;

  // Git's object id of a blob: sha1("blob <size>\0" + content), lower-case hex.
  static std::string git_blob_sha1(std::string_view content);
  // The Git LFS pointer file git stores for `content`:
  // "version https://git-lfs.github.com/spec/v1\noid sha256:<hex>\nsize <n>\n".
  static std::string lfs_pointer(std::string_view content);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;  // shared with the server's handler
};

}  // namespace haul::testing
