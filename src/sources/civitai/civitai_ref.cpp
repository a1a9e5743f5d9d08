#include "sources/civitai/civitai_ref.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <utility>
#include <vector>

#include "base/text.hpp"
#include "net/file_name.hpp"
#include "net/url.hpp"

namespace haul::sources::civitai {
namespace {

// The download route's file selectors (reference section 1); anything else in
// the query, "token" above all, is not ours to keep.
constexpr std::array<std::string_view, 6> kSelectors = {"type", "format",    "size",
                                                        "fp",   "quantType", "fileId"};

tl::unexpected<Error> bad(std::string_view source, std::string_view why) {
  // The source may carry ?token=...: never echo a secret into a message.
  return fail(ErrorCode::kInvalidArgument,
              "civitai source '" + net::redact_secrets(source) + "': " + std::string(why));
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// A positive decimal id that fits in 64 bits; ids are never 0 on CivitAI.
std::optional<std::uint64_t> parse_id(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front()))) return std::nullopt;
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value == 0) return std::nullopt;
  return value;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    const std::size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return parts;
}

// Query values as a form would send them: '+' is a space, then %XX.
std::string decode_query_part(std::string_view text) {
  std::string plus_as_space(text);
  for (char& c : plus_as_space) {
    if (c == '+') c = ' ';
  }
  return net::percent_decode(plus_as_space);
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (query.empty()) return pairs;
  for (std::string_view pair : split(query, '&')) {
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    std::string name = decode_query_part(pair.substr(0, eq));
    std::string value =
        eq == std::string_view::npos ? std::string() : decode_query_part(pair.substr(eq + 1));
    pairs.emplace_back(std::move(name), std::move(value));
  }
  return pairs;
}

// Characters CivitAI's AIR regex allows in ecosystem, type and source.
bool air_segment_ok(std::string_view segment) {
  if (segment.empty()) return false;
  for (char c : segment) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '/';
    if (!ok) return false;
  }
  return true;
}

bool format_ok(std::string_view format) {
  if (format.empty()) return false;
  for (char c : format) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_' && c != '-') return false;
  }
  return true;
}

// [urn:][air:][{ecosystem}:][{type}:]{source}:{mid}[@{vid}][+{fileId}][.{format}]
// With three segments the first is the ecosystem, as in CivitAI's regex,
// where the ecosystem group is tried before the type group.
Result<CivitaiRef> parse_air(std::string_view source, std::string_view text) {
  if (starts_with_ci(text, "urn:")) text.remove_prefix(4);
  if (starts_with_ci(text, "air:")) text.remove_prefix(4);
  const std::vector<std::string_view> parts = split(text, ':');
  if (parts.size() < 2 || parts.size() > 4) {
    return bad(source,
               "not a CivitAI URL or AIR (urn:air:{ecosystem}:{type}:civitai:{model}@{version})");
  }
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!air_segment_ok(parts[i]))
      return bad(source, "malformed AIR segment '" + std::string(parts[i]) + "'");
  }
  const std::string_view origin = parts[parts.size() - 2];
  if (!iequals(origin, "civitai")) {
    return bad(source, "AIR source '" + std::string(origin) + "' is not civitai");
  }
  CivitaiRef ref;
  if (parts.size() == 4) ref.air_type = to_lower(parts[1]);

  std::string_view id_part = parts.back();
  if (const std::size_t dot = id_part.find('.'); dot != std::string_view::npos) {
    ref.format = std::string(id_part.substr(dot + 1));
    if (!format_ok(ref.format)) return bad(source, "malformed AIR format '" + ref.format + "'");
    id_part = id_part.substr(0, dot);
  }
  if (const std::size_t plus = id_part.find('+'); plus != std::string_view::npos) {
    const std::string_view file_id = id_part.substr(plus + 1);
    if (!parse_id(file_id)) {
      return bad(source, "AIR file id '" + std::string(file_id) + "' is not a number");
    }
    ref.download_query["fileId"] = std::string(file_id);
    id_part = id_part.substr(0, plus);
  }
  if (const std::size_t at = id_part.find('@'); at != std::string_view::npos) {
    const std::string_view version = id_part.substr(at + 1);
    ref.version_id = parse_id(version);
    if (!ref.version_id) {
      return bad(source, "AIR version '" + std::string(version) + "' is not a CivitAI version id");
    }
    id_part = id_part.substr(0, at);
  }
  if (id_part.empty()) return bad(source, "no model or version id");
  ref.model_id = parse_id(id_part);
  if (!ref.model_id) {
    return bad(source, "AIR model id '" + std::string(id_part) + "' is not a number");
  }
  return ref;
}

bool civitai_host(std::string_view host) {
  return host == "civitai.com" || (host.size() > 12 && host.ends_with(".civitai.com"));
}

Result<CivitaiRef> parse_url_source(std::string_view source, std::string_view text) {
  std::string absolute(text);
  if (absolute.find("://") == std::string::npos) absolute = "https://" + absolute;
  auto url = net::parse_url(absolute);
  if (!url) return bad(source, "not a valid URL");
  if (!civitai_host(url->host)) return bad(source, "host '" + url->host + "' is not civitai.com");

  std::string_view full = url->text;
  full = full.substr(0, full.find('#'));
  const std::size_t question = full.find('?');
  const auto query = parse_query(question == std::string_view::npos ? std::string_view()
                                                                    : full.substr(question + 1));

  std::vector<std::string_view> segments;
  for (std::string_view segment : split(url->path, '/')) {
    if (!segment.empty()) segments.push_back(segment);
  }
  const auto is = [&](std::size_t i, std::string_view word) {
    return i < segments.size() && iequals(segments[i], word);
  };
  const auto id_at = [&](std::size_t i, std::string_view what) -> Result<std::uint64_t> {
    if (i >= segments.size()) return bad(source, "no model or version id");
    if (auto id = parse_id(segments[i])) return *id;
    return bad(source, std::string(what) + " '" + std::string(segments[i]) + "' is not a number");
  };

  CivitaiRef ref;
  if (is(0, "models") && segments.size() <= 3) {
    // /models/MID[/slug][?modelVersionId=VID]
    auto model = id_at(1, "model id");
    if (!model) return tl::unexpected(model.error());
    ref.model_id = *model;
    for (const auto& [name, value] : query) {
      if (name != "modelVersionId" || value.empty()) continue;
      ref.version_id = parse_id(value);
      if (!ref.version_id) return bad(source, "modelVersionId '" + value + "' is not a number");
    }
    return ref;
  }
  const bool download = is(0, "api") && is(1, "download") && is(2, "models");
  const bool api_version = is(0, "api") && is(1, "v1") && is(2, "model-versions");
  const bool api_model = is(0, "api") && is(1, "v1") && is(2, "models");
  const bool page_version = is(0, "model-versions");
  const std::size_t id_index = page_version ? 1 : 3;
  if (!(download || api_version || api_model || page_version) || segments.size() > id_index + 1) {
    return bad(source, "not a CivitAI model, model-version or download URL");
  }
  auto id = id_at(id_index, api_model ? "model id" : "version id");
  if (!id) return tl::unexpected(id.error());
  if (api_model) {
    ref.model_id = *id;
  } else {
    ref.version_id = *id;
  }
  if (!download) return ref;
  for (const auto& [name, value] : query) {
    for (std::string_view selector : kSelectors) {
      if (!iequals(name, selector) || value.empty()) continue;
      if (selector == "fileId" && !parse_id(value)) {
        return bad(source, "fileId '" + value + "' is not a number");
      }
      ref.download_query[std::string(selector)] = value;
    }
  }
  return ref;
}

bool looks_like_url(std::string_view text) {
  if (text.find("://") != std::string_view::npos) return true;
  if (starts_with_ci(text, "civitai.com") || starts_with_ci(text, "www.civitai.com")) return true;
  // "host/path" without a scheme: a '/' before any ':' (an AIR starts with
  // "urn:", "air:" or a segment, so its first ':' comes before any '/').
  const std::size_t colon = text.find(':');
  const std::size_t slash = text.find('/');
  return slash != std::string_view::npos && (colon == std::string_view::npos || slash < colon);
}

}  // namespace

Result<CivitaiRef> parse_civitai_source(std::string_view source) {
  const std::string_view text = trim(source);
  if (text.empty()) return bad(source, "empty source");
  auto ref = looks_like_url(text) ? parse_url_source(source, text) : parse_air(source, text);
  if (ref && !ref->model_id && !ref->version_id) return bad(source, "no model or version id");
  return ref;
}

}  // namespace haul::sources::civitai
