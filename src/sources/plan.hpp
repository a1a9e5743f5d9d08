// What a source resolves to: the files to fetch, each with where it comes
// from (URL, headers, credentials), what it must be (size, SHA-256) and where
// it goes. Values only; resolvers (hf/, civitai/, s3/) build them, the CLI and
// the scheduler hand each file to the transfer engine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace haul::sources {

// S3 credentials for libcurl's CURLOPT_AWS_SIGV4: every request of the
// transfer is signed by curl with these.
struct AwsSigning {
  std::string provider;  // "aws:amz:<region>:s3"
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // sent as x-amz-security-token when set
};

// How to fetch one file.
struct Fetch {
  std::string url;
  // "Name: value" lines; the engine sends them only to the URL's own origin.
  std::vector<std::string> headers;
  std::optional<AwsSigning> aws;
  std::string if_match;  // ETag every ranged request must match ("" = none)
};

struct PlannedFile {
  // Stable across attempts and re-resolutions: the item's identity
  // ("hf://org/repo@<commit>/path", "civitai:<vid>/<file id>", "s3://b/k").
  std::string key;
  // Where it goes, relative to the job's destination directory, '/'-separated,
  // already sanitised (no "..", no absolute path). Empty: the server names it.
  std::string relative_path;
  std::optional<std::uint64_t> size;
  std::string sha256;           // lower-case hex; "" = unknown
  std::string git_sha1;         // git blob id of a small Hub file, checked after the download
  std::string stage = "model";  // images | model | cache (see core::Item)
  Fetch fetch;
  // Already at its place (an HF cache blob with this etag exists): nothing to
  // fetch, only the link to make.
  bool present = false;
  // After the file is complete, a relative symlink at `link_path` (relative to
  // the destination) pointing to `link_target`: HF cache snapshots. "" = none.
  std::string link_path;
  std::string link_target;
};

// A small file written next to the downloaded ones when the plan is made:
// CivitAI metadata JSON as model managers write it, HF cache refs.
struct Sidecar {
  std::string relative_path;
  std::string content;
};

struct Plan {
  std::string name;  // display name: "org/repo", the CivitAI model name, "s3://b/prefix"
  std::vector<PlannedFile> files;
  std::vector<Sidecar> sidecars;
  // Folder under the models root that fits when the user named no
  // destination ("loras", "checkpoints"); "" = none suggested.
  std::string suggested_folder;
};

}  // namespace haul::sources
