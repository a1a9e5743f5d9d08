#include "sources/civitai/civitai_api.hpp"

#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/text.hpp"
#include "net/http_head.hpp"

namespace haul::sources::civitai {
namespace {

using nlohmann::json;

// Parsed without exceptions: a malformed body is a discarded value, and the
// typed accessors below check types before reading, so nothing throws out.
json parse_json(std::string_view text) { return json::parse(text, nullptr, false); }

std::string string_field(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Ids are JSON integers; a numeric string is tolerated.
std::optional<std::uint64_t> id_field(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  if (it->is_number_integer() && it->get<std::int64_t>() > 0) {
    return static_cast<std::uint64_t>(it->get<std::int64_t>());
  }
  if (it->is_string()) {
    const std::string text = it->get<std::string>();
    if (text.empty() || text.size() > 19) return std::nullopt;
    for (char c : text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    }
    return std::stoull(text);
  }
  return std::nullopt;
}

CivitaiFile parse_file(const json& item) {
  CivitaiFile file;
  file.id = id_field(item, "id").value_or(0);
  file.name = string_field(item, "name");
  file.type = string_field(item, "type");
  if (const auto size = item.find("sizeKB"); size != item.end() && size->is_number()) {
    file.size_kb = size->get<double>();
  }
  if (const auto hashes = item.find("hashes"); hashes != item.end() && hashes->is_object()) {
    // CivitAI sends uppercase hex; haul compares lower-case.
    file.sha256 = to_lower(string_field(*hashes, "SHA256"));
  }
  file.download_url = string_field(item, "downloadUrl");
  const auto primary = item.find("primary");
  file.primary = primary != item.end() && primary->is_boolean() && primary->get<bool>();
  if (const auto meta = item.find("metadata"); meta != item.end() && meta->is_object()) {
    for (const auto& [key, value] : meta->items()) {
      if (value.is_string()) {
        file.metadata[key] = value.get<std::string>();
      } else if (!value.is_null() && value.is_primitive()) {
        file.metadata[key] = value.dump();
      }
    }
  }
  return file;
}

std::string describe(const CivitaiFile& file) { return "'" + file.name + "' (" + file.type + ")"; }

std::string list_files(const std::vector<CivitaiFile>& files) {
  constexpr std::size_t kMaxListed = 20;
  std::string out;
  for (std::size_t i = 0; i < files.size() && i < kMaxListed; ++i) {
    if (i > 0) out += ", ";
    out += describe(files[i]);
  }
  if (files.size() > kMaxListed)
    out += ", and " + std::to_string(files.size() - kMaxListed) + " more";
  return out;
}

std::string version_label(const CivitaiVersion& version) {
  return "model version " + std::to_string(version.id);
}

tl::unexpected<Error> no_such_file(const CivitaiVersion& version, const std::string& what) {
  return fail(ErrorCode::kNotFound, version_label(version) + " has no file " + what +
                                        "; available: " + list_files(version.files));
}

bool query_matches(const CivitaiFile& file, const std::map<std::string, std::string>& query) {
  for (const auto& [key, wanted] : query) {
    if (key == "fileId") continue;
    if (key == "type") {
      if (!iequals(file.type, wanted)) return false;
      continue;
    }
    const auto it = file.metadata.find(key);
    if (it == file.metadata.end() || !iequals(it->second, wanted)) return false;
  }
  return true;
}

std::string query_text(const std::map<std::string, std::string>& query) {
  std::string out;
  for (const auto& [key, value] : query) {
    if (!out.empty()) out += '&';
    out.append(key).append("=").append(value);
  }
  return out;
}

// One line of at most `limit` bytes: control characters become spaces, runs
// of spaces collapse, and a cut never splits a UTF-8 sequence.
std::string single_line(std::string_view text, std::size_t limit) {
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const char mapped = (byte < 0x20 || byte == 0x7f) ? ' ' : c;
    if (mapped == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += mapped;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() <= limit) return out;
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  return out + "...";
}

ErrorCode code_for_status(int status) {
  if (status == 400) return ErrorCode::kInvalidArgument;
  if (status == 401 || status == 403) return ErrorCode::kPermissionDenied;
  if (status == 404 || status == 410) return ErrorCode::kNotFound;
  if (status == 408 || status == 429 || (status >= 500 && status <= 599)) {
    return ErrorCode::kUnavailable;
  }
  if (status >= 400 && status <= 499) return ErrorCode::kInvalidArgument;
  return ErrorCode::kProtocol;
}

// A 401 of the download route either wants a login (a token fixes it) or
// says the creator disabled downloads (nothing fixes it).
bool asks_for_login(std::string_view message) {
  if (message.empty()) return true;
  const std::string lower = to_lower(message);
  return lower.find("logged in") != std::string::npos ||
         lower.find("log in") != std::string::npos || lower.find("login") != std::string::npos;
}

// A JSON field as text: strings verbatim, other values in JSON notation.
std::string reason_field(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

std::optional<std::uint64_t> CivitaiFile::size_bytes() const {
  if (!(size_kb > 0) || !std::isfinite(size_kb)) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(size_kb * 1024.0));
}

Result<CivitaiVersion> parse_model_version(std::string_view text) {
  const json doc = parse_json(text);
  if (doc.is_discarded()) {
    return fail(ErrorCode::kProtocol, "CivitAI model version response is not JSON");
  }
  if (!doc.is_object()) {
    return fail(ErrorCode::kProtocol, "CivitAI model version response is not a JSON object");
  }
  const auto id = id_field(doc, "id");
  if (!id) return fail(ErrorCode::kProtocol, "CivitAI model version response has no numeric id");

  CivitaiVersion version;
  version.id = *id;
  version.model_id = id_field(doc, "modelId").value_or(0);
  version.name = string_field(doc, "name");
  version.base_model = string_field(doc, "baseModel");
  version.air = string_field(doc, "air");
  version.availability = string_field(doc, "availability");
  version.status = string_field(doc, "status");
  if (const auto ends = doc.find("earlyAccessEndsAt"); ends != doc.end() && ends->is_string()) {
    version.early_access_ends_at = ends->get<std::string>();
  }
  if (const auto model = doc.find("model"); model != doc.end() && model->is_object()) {
    version.model_name = string_field(*model, "name");
    version.model_type = string_field(*model, "type");
  }
  if (const auto files = doc.find("files"); files != doc.end() && files->is_array()) {
    for (const json& item : *files) {
      if (item.is_object()) version.files.push_back(parse_file(item));
    }
  }
  if (const auto images = doc.find("images"); images != doc.end() && images->is_array()) {
    for (const json& item : *images) {
      if (!item.is_object()) continue;
      std::string url = string_field(item, "url");
      if (!url.empty()) version.image_urls.push_back(std::move(url));
    }
  }
  version.download_url = string_field(doc, "downloadUrl");
  version.raw_json = std::string(text);
  return version;
}

Result<std::uint64_t> latest_version_id(std::string_view model_json) {
  const json doc = parse_json(model_json);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail(ErrorCode::kProtocol, "CivitAI model response is not a JSON object");
  }
  const auto model_id = id_field(doc, "id");
  const std::string label =
      "CivitAI model " + (model_id ? std::to_string(*model_id) : std::string("(no id)"));
  const auto versions = doc.find("modelVersions");
  if (versions == doc.end() || !versions->is_array()) {
    return fail(ErrorCode::kProtocol, label + " response has no modelVersions list");
  }
  if (versions->empty()) {
    return fail(ErrorCode::kNotFound, label + " has no published version");
  }
  const json& first = versions->front();
  const auto id = first.is_object() ? id_field(first, "id") : std::nullopt;
  if (!id) return fail(ErrorCode::kProtocol, label + ": modelVersions[0] has no numeric id");
  return *id;
}

Result<const CivitaiFile*> choose_file(const CivitaiVersion& version, std::string_view wanted_name,
                                       const std::map<std::string, std::string>& download_query) {
  const std::vector<CivitaiFile>& files = version.files;
  if (files.empty()) {
    return fail(ErrorCode::kNotFound,
                version_label(version) + " is archived: not available for download");
  }
  if (!wanted_name.empty()) {
    for (const CivitaiFile& file : files) {
      if (file.name == wanted_name) return &file;
    }
    for (const CivitaiFile& file : files) {
      if (iequals(file.name, wanted_name)) return &file;
    }
    return no_such_file(version, "named '" + std::string(wanted_name) + "'");
  }
  if (const auto id = download_query.find("fileId"); id != download_query.end()) {
    for (const CivitaiFile& file : files) {
      if (std::to_string(file.id) == id->second) return &file;
    }
    return no_such_file(version, "with id " + id->second);
  }
  std::map<std::string, std::string> selectors = download_query;
  selectors.erase("fileId");
  if (!selectors.empty()) {
    const CivitaiFile* first = nullptr;
    for (const CivitaiFile& file : files) {
      if (!query_matches(file, selectors)) continue;
      if (file.primary) return &file;
      if (first == nullptr) first = &file;
    }
    if (first != nullptr) return first;
    return no_such_file(version, "matching " + query_text(selectors));
  }
  for (const CivitaiFile& file : files) {
    if (file.primary) return &file;
  }
  const CivitaiFile* model_file = nullptr;
  int model_files = 0;
  for (const CivitaiFile& file : files) {
    if (file.type == "Model") {
      model_file = &file;
      ++model_files;
    }
  }
  if (model_files == 1) return model_file;
  if (files.size() == 1) return &files.front();
  return fail(ErrorCode::kInvalidArgument,
              version_label(version) + " has no primary file; name one of: " + list_files(files));
}

Error civitai_error(int status, std::string_view body, std::string_view what,
                    std::string_view retry_after, std::chrono::system_clock::time_point now) {
  Error error;
  error.code = code_for_status(status);
  error.http_status = status;
  if (!retry_after.empty()) {
    if (auto wait = net::parse_retry_after(retry_after, now)) error.retry_after = *wait;
  }
  constexpr std::size_t kFieldLimit = 500;
  constexpr std::size_t kBodyLimit = 200;
  const std::string status_text = std::to_string(status);

  const json doc = parse_json(body);
  std::string reason;
  std::string message;
  if (!doc.is_discarded() && doc.is_object()) {
    const std::string error_field = single_line(reason_field(doc, "error"), kFieldLimit);
    message = single_line(reason_field(doc, "message"), kFieldLimit);
    reason = error_field.empty() || message.empty() ? error_field + message
                                                    : error_field + ": " + message;
    const std::string deadline = single_line(reason_field(doc, "deadline"), kFieldLimit);
    if (!reason.empty() && !deadline.empty()) reason += " (early access ends " + deadline + ")";
  }
  if (!reason.empty()) {
    error.message = std::string(what) + ": CivitAI: " + reason + " (HTTP " + status_text + ")";
  } else {
    const std::string snippet = single_line(body, kBodyLimit);
    error.message = std::string(what) + ": HTTP " + status_text;
    if (!snippet.empty()) error.message += ": " + snippet;
  }
  if (status == 401 && asks_for_login(message)) {
    error.message += "; set CIVITAI_TOKEN to a CivitAI API key";
  }
  return error;
}

}  // namespace haul::sources::civitai
