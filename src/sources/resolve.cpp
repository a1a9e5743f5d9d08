#include "sources/resolve.hpp"

#include <cstdlib>

#include "net/url.hpp"
#include "sources/hf/hf_cache.hpp"
#include "sources/providers.hpp"

namespace haul::sources {

GetEnv process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

std::string hf_endpoint(const GetEnv& getenv) {
  std::string endpoint = getenv("HF_ENDPOINT").value_or("https://huggingface.co");
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

SourceKind source_kind(std::string_view source, const GetEnv& getenv) {
  return classify_source(source, hf_endpoint(getenv));
}

Result<std::filesystem::path> hf_cache_root(const GetEnv& getenv) {
  return hf::hub_cache_dir(getenv);
}

Result<SourceKind> check_source(std::string_view source, const ResolveOptions& options) {
  const SourceKind kind = source_kind(source, options.getenv);
  Result<void> checked;
  switch (kind) {
    case SourceKind::kUrl:
      if (auto url = net::parse_url(source); !url) return fail(url.error());
      return kind;
    case SourceKind::kHuggingFace:
      checked = check_hf_source(source, options);
      break;
    case SourceKind::kCivitai:
      checked = check_civitai_source(source);
      break;
    case SourceKind::kS3:
      checked = check_s3_source(source);
      break;
    case SourceKind::kUnknown:
      return fail(ErrorCode::kInvalidArgument,
                  "unknown source '" + net::redact_url(source) +
                      "': expected an http(s) URL, hf://ORG/REPO[/PATH], a CivitAI URL or "
                      "AIR (urn:air:...), or s3://BUCKET/KEY");
  }
  if (!checked) return fail(checked.error());
  return kind;
}

Result<Plan> resolve_source(std::string_view source, const ResolveOptions& options) {
  auto kind = check_source(source, options);
  if (!kind) return fail(kind.error());
  switch (*kind) {
    case SourceKind::kHuggingFace:
      return resolve_hf(source, options);
    case SourceKind::kCivitai:
      return resolve_civitai(source, options);
    case SourceKind::kS3:
      return resolve_s3(source, options);
    case SourceKind::kUrl:
    case SourceKind::kUnknown:
      break;
  }
  // A plain URL: the server names the file; nothing to learn beforehand.
  Plan plan;
  plan.name = net::redact_url(source);
  PlannedFile file;
  file.key = std::string(source);
  file.fetch.url = std::string(source);
  plan.files.push_back(std::move(file));
  return plan;
}

}  // namespace haul::sources
