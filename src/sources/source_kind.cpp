#include "sources/source_kind.hpp"

#include <string>

#include "base/text.hpp"

namespace haul::sources {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// "https://user@Host:8080/x" -> "host:8080" (lower-case, no userinfo).
std::string authority_of(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  return to_lower(rest);
}

// "https://user@Host:8080/x" -> "host" (lower-case, no port, no userinfo).
std::string host_of(std::string_view url) {
  const std::string authority = authority_of(url);
  if (!authority.empty() && authority.front() == '[')
    return authority.substr(0, authority.find(']') + 1);
  return authority.substr(0, authority.find(':'));
}

bool host_is(const std::string& host, std::string_view domain) {
  return host == domain || (host.size() > domain.size() && host.ends_with(domain) &&
                            host[host.size() - domain.size() - 1] == '.');
}

}  // namespace

SourceKind classify_source(std::string_view source, std::string_view hf_endpoint) {
  const std::string text = to_lower(source);
  if (starts_with(text, "hf://")) return SourceKind::kHuggingFace;
  if (starts_with(text, "s3://")) return SourceKind::kS3;
  if (starts_with(text, "urn:air:") || starts_with(text, "air:")) return SourceKind::kCivitai;
  if (!starts_with(text, "http://") && !starts_with(text, "https://")) return SourceKind::kUnknown;
  const std::string host = host_of(text);
  if (host.empty()) return SourceKind::kUnknown;
  if (host_is(host, "huggingface.co") || host_is(host, "hf.co")) return SourceKind::kHuggingFace;
  if (!hf_endpoint.empty() && authority_of(text) == authority_of(hf_endpoint))
    return SourceKind::kHuggingFace;
  if (host_is(host, "civitai.com")) return SourceKind::kCivitai;
  return SourceKind::kUrl;
}

std::string_view source_kind_name(SourceKind kind) {
  switch (kind) {
    case SourceKind::kUrl:
      return "url";
    case SourceKind::kHuggingFace:
      return "hf";
    case SourceKind::kCivitai:
      return "civitai";
    case SourceKind::kS3:
      return "s3";
    case SourceKind::kUnknown:
      break;
  }
  return "unknown";
}

}  // namespace haul::sources
