// Entry point of the sources module: turns any source a user may paste (URL,
// hf://, huggingface.co link, CivitAI URL or AIR, s3://) into a Plan.
//
// Threading: resolve_source() blocks on the network (API calls, HEAD probes);
// call it off the daemon's control thread. check_source() is pure.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "sources/plan.hpp"
#include "sources/source_kind.hpp"

namespace haul::sources {

// Looks up an environment variable; tests pass their own.
using GetEnv = std::function<std::optional<std::string>(std::string_view)>;
// The process environment.
GetEnv process_env();

struct ResolveOptions {
  GetEnv getenv = process_env();
  std::vector<std::string> include;  // hf: allow patterns (fnmatch, `*` crosses '/')
  std::vector<std::string> exclude;  // hf: ignore patterns
  std::string file_name;             // civitai: this file of the version instead of the primary
  bool with_preview = false;         // civitai: metadata JSON + preview image beside the model
  bool hf_cache = false;             // hf: plan into the HF cache layout (see hf_cache_root())
};

// HF_ENDPOINT without a trailing '/', default https://huggingface.co.
std::string hf_endpoint(const GetEnv& getenv);

// classify_source() with HF_ENDPOINT taken from `getenv`.
SourceKind source_kind(std::string_view source, const GetEnv& getenv);

// Errors: kInvalidArgument when the text is none of the known forms (naming
// the form expected); otherwise what the provider's parser says. No I/O: the
// API uses it to answer 422 before queueing.
Result<SourceKind> check_source(std::string_view source, const ResolveOptions& options);

// Resolves `source` into the files to fetch. Errors carry the provider's
// reason (gated repo, early access, NoSuchKey, ...) and an http_status; a
// kUnavailable error may succeed later (retry_after says when).
Result<Plan> resolve_source(std::string_view source, const ResolveOptions& options);

// Where hf_cache plans put files: HF_HUB_CACHE, else $HF_HOME/hub, else
// ${XDG_CACHE_HOME:-~/.cache}/huggingface/hub. Errors: kInvalidArgument when
// none of those (nor HOME) is set.
Result<std::filesystem::path> hf_cache_root(const GetEnv& getenv);

}  // namespace haul::sources
