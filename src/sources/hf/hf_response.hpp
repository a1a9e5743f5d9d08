// What the Hugging Face Hub's answers mean, as huggingface_hub reads them:
// the HEAD of /resolve/ (file metadata), error statuses with X-Error-Code /
// X-Error-Message (hf_raise_for_status), tree listing pages with their
// Link: rel="next" pagination, the /revision/ answer, and the git blob SHA-1
// that verifies files stored in git rather than LFS. Pure: bytes in, values out.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace haul::sources::hf {

// Response headers as received: names in any case, values trimmed.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Value of the last header called `name` (ASCII case-insensitive).
std::optional<std::string_view> find_header(const HeaderList& headers, std::string_view name);

// huggingface_hub's _normalize_etag, byte for byte: leading 'W' and '/'
// characters removed (Python's lstrip("W/")), then '"' from both ends. The
// result names blobs in the HF cache, so it must be what huggingface_hub computes.
std::string normalize_etag(std::string_view etag);

struct HfFileMetadata {
  std::string commit;  // X-Repo-Commit
  std::string etag;    // X-Linked-Etag, else ETag; normalised
  std::optional<std::uint64_t> size;
  std::string location;  // Location as given (absolute CDN URL or relative rename); "" = none
  bool is_lfs = false;   // X-Linked-Etag was present: etag is the content's SHA-256
  std::string xet_hash;  // X-Xet-Hash, "" when absent
};

// Reads the answer to HEAD {endpoint}/{repo}/resolve/{rev}/{file} (redirects
// not followed), as get_hf_file_metadata and _get_metadata_or_catch_error do.
// The answer counts as a redirect when `redirected` is true or `status` is
// 3xx; then Content-Length (the redirect body's) is not the file size and only
// X-Linked-Size gives it. `what` names the request in errors ("config.json in
// org/name@main"). Errors: for status >= 400, hf_error(status, headers, "",
// what); kProtocol when X-Repo-Commit is missing (the answer did not come from
// the Hub: proxy, firewall, wrong HF_ENDPOINT) or no ETag is present. A missing
// or unreadable size is not an error: `size` stays empty.
Result<HfFileMetadata> parse_file_metadata(int status, const HeaderList& headers, bool redirected,
                                           std::string_view what = {});

// The Error for a failed Hub request (status >= 400), following
// hf_raise_for_status: X-Error-Code RevisionNotFound, EntryNotFound, GatedRepo
// (401: no token; 403: token without approval), X-Error-Message "Access to this
// resource is disabled.", RepoNotFound or a bare 401 (missing, private and gated
// look the same) unless the message is "Invalid credentials in Authorization
// header" (a bad token), then 400, 403, 429, 416 and the rest. Codes: kNotFound
// for missing repositories, revisions and files; kPermissionDenied for gated,
// private, disabled and token problems; kUnavailable for 408, 429 and 5xx
// (retry_after from RateLimit "t=" when the window is used up, else
// Retry-After seconds); kProtocol for 416; kInvalidArgument for other 4xx.
// http_status is always set. The message is one line naming `what`, with the
// Hub's own text (X-Error-Message, JSON "error"/"errors", or a non-HTML body)
// appended when it adds something. `repo_url` (repo_page_url) is where a gated
// repository's conditions are accepted; "" words it without a link.
Error hf_error(int status, const HeaderList& headers, std::string_view body, std::string_view what,
               std::string_view repo_url = {});

// The Hub's rate-limit headers: RateLimit: "resolvers";r=0;t=87 and
// RateLimit-Policy: "fixed window";"resolvers";q=3000;w=300.
struct HfRateLimit {
  std::string resource;  // "resolvers", "api", ...
  std::uint64_t remaining = 0;
  std::uint64_t reset_seconds = 0;
  std::optional<std::uint64_t> limit;           // q
  std::optional<std::uint64_t> window_seconds;  // w
};
std::optional<HfRateLimit> parse_rate_limit(const HeaderList& headers);

// One entry of GET /api/{type}s/{repo}/tree/{rev}?recursive=true.
struct HfTreeEntry {
  std::string path;
  std::string type;  // "file" or "directory"
  std::uint64_t size = 0;
  std::string oid;         // git object id (blob SHA-1 for files)
  std::string lfs_sha256;  // lfs.oid, "" when the file is not in LFS
  std::optional<std::uint64_t> lfs_size;
  std::string xet_hash;  // xetHash, "" when absent
};

// Errors: kProtocol when the body is not a JSON array of objects with string
// "path" and "type" (numbers and strings of the wrong type count as malformed).
Result<std::vector<HfTreeEntry>> parse_tree_page(std::string_view json_body);

// The URL of the Link header's rel="next" entry, as given (it may be
// relative); none when there is no next page.
std::optional<std::string> next_page_url(std::string_view link_header);

// The "sha" of GET /api/{type}s/{repo}/revision/{rev}: the commit the revision
// points to, 40 (or 64) lower-case hex digits. Errors: kProtocol.
Result<std::string> parse_revision_sha(std::string_view json_body);

}  // namespace haul::sources::hf
