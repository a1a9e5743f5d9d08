#include "support/fake_civitai.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "support/fake_common.hpp"

namespace haul::testing {
namespace {

using fake::Request;
using fake::Response;
using nlohmann::json;

constexpr std::int64_t kCreatedAt = 1714564800;  // 2024-05-01T12:00:00Z
constexpr std::string_view kCdnPrefix = "/civitai-cdn/";
constexpr std::string_view kImagePrefix = "/images/";

struct StoredImage {
  std::string content;
  int width = 512;
  int height = 512;
};

std::optional<std::uint64_t> parse_id(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (text.empty() || result.ec != std::errc{} || result.ptr != end) {
    return std::nullopt;
  }
  return value;
}

// The AIR ecosystem of a base model, as CivitAI's stringifyAIR maps it.
std::string ecosystem(std::string_view base_model) {
  static constexpr std::pair<std::string_view, std::string_view> kPrefixes[] = {
      {"SD 1", "sd1"},         {"SD 2", "sd2"},    {"SDXL", "sdxl"}, {"Pony", "sdxl"},
      {"Illustrious", "sdxl"}, {"NoobAI", "sdxl"}, {"SD 3", "sd3"},  {"Flux.1", "flux1"},
  };
  for (const auto& [prefix, name] : kPrefixes) {
    if (base_model.starts_with(prefix)) {
      return std::string(name);
    }
  }
  std::string name;
  for (const unsigned char c : base_model) {
    if (std::isalnum(c) != 0) {
      name.push_back(static_cast<char>(std::tolower(c)));
    }
  }
  return name;
}

// The AIR type of a model type (CivitAI's typeUrnMap).
std::string air_type(std::string_view model_type) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"Checkpoint", "checkpoint"},
      {"LORA", "lora"},
      {"LoCon", "lycoris"},
      {"DoRA", "dora"},
      {"TextualInversion", "embedding"},
      {"VAE", "vae"},
      {"Controlnet", "controlnet"},
      {"Upscaler", "upscaler"},
      {"Hypernetwork", "hypernet"},
      {"MotionModule", "motion"},
      {"AestheticGradient", "ag"},
  };
  for (const auto& [type, name] : kTypes) {
    if (model_type == type) {
      return std::string(name);
    }
  }
  std::string lower(model_type);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

// isRequestFromBrowser: the User-Agent names a browser engine.
bool is_browser(const Request& request) {
  std::string agent = fake::header(request, "user-agent");
  std::transform(agent.begin(), agent.end(), agent.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static constexpr std::array<std::string_view, 6> kBrowsers = {"mozilla", "chrome", "safari",
                                                                "firefox", "opera",  "edge"};
  return std::any_of(kBrowsers.begin(), kBrowsers.end(),
                     [&](std::string_view name) { return agent.find(name) != std::string::npos; });
}

// Width and height from a PNG's IHDR chunk; 512x512 for anything else.
StoredImage stored_image(std::string content) {
  StoredImage image{std::move(content)};
  const auto& bytes = image.content;
  if (bytes.size() >= 24 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) {
    const auto word = [&](std::size_t at) {
      int value = 0;
      for (std::size_t i = 0; i < 4; ++i) {
        value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
      }
      return value;
    };
    image.width = word(16);
    image.height = word(20);
  }
  return image;
}

std::string now_iso8601() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return fake::iso8601(std::chrono::duration_cast<std::chrono::seconds>(now).count());
}

// Compares ISO 8601 UTC times by their "YYYY-MM-DDTHH:MM:SS" prefix.
bool before(std::string_view a, std::string_view b) { return a.substr(0, 19) < b.substr(0, 19); }

}  // namespace

class FakeCivitai::Impl {
 public:
  Impl(int port, std::string token)
      : endpoint_("http://127.0.0.1:" + std::to_string(port)),
        cdn_base_("http://127.0.0.2:" + std::to_string(port)),
        token_(std::move(token)) {}

  Response handle(const Request& request);

  const std::string endpoint_;
  const std::string cdn_base_;
  const std::string token_;

  std::mutex mutex_;
  std::vector<CivitaiFakeModel> models_;
  std::unordered_map<std::uint64_t, std::vector<int>> image_numbers_;  // by version id
  std::vector<StoredImage> images_;                                    // by number - 1
  int rate_limited_left_ = 0;
  struct CdnUrl {
    std::uint64_t version_id = 0;
    std::uint64_t file_id = 0;
    bool expired = false;
  };
  std::unordered_map<std::string, CdnUrl> cdn_urls_;  // by X-Amz-Signature

 private:
  struct Found {
    const CivitaiFakeModel* model = nullptr;
    const CivitaiFakeVersion* version = nullptr;
  };

  Found find_version(std::uint64_t version_id) const;
  json version_json(const CivitaiFakeModel& model, const CivitaiFakeVersion& version) const;
  json file_json(const CivitaiFakeVersion& version, const CivitaiFakeFile& file,
                 bool primary) const;
  Response model_versions(const Request& request);
  Response models(const Request& request);
  Response download(const Request& request);
  Response cdn(const Request& request);
  Response image(const Request& request);
};

const CivitaiFakeFile* primary_file(const CivitaiFakeVersion& version) {
  const auto& files = version.files;
  auto it = std::find_if(files.begin(), files.end(), [](const auto& f) { return f.primary; });
  if (it == files.end()) {
    it = std::find_if(files.begin(), files.end(), [](const auto& f) { return f.type == "Model"; });
  }
  return it != files.end() ? &*it : files.empty() ? nullptr : &files.front();
}

FakeCivitai::Impl::Found FakeCivitai::Impl::find_version(std::uint64_t version_id) const {
  for (const auto& model : models_) {
    for (const auto& version : model.versions) {
      if (version.id == version_id) {
        return {&model, &version};
      }
    }
  }
  return {};
}

json FakeCivitai::Impl::file_json(const CivitaiFakeVersion& version, const CivitaiFakeFile& file,
                                  bool primary) const {
  auto url = endpoint_ + "/api/download/models/" + std::to_string(version.id);
  if (!primary) {
    url += "?type=" + fake::percent_encode(file.type, false);
    for (const char* key : {"format", "size", "fp"}) {
      if (const auto it = file.metadata.find(key); it != file.metadata.end()) {
        url += std::string("&") + key + "=" + fake::percent_encode(it->second, false);
      }
    }
  }
  json metadata = json::object();
  for (const auto& [key, value] : file.metadata) {
    metadata[key] = value;
  }
  json entry{{"id", file.id},
             {"sizeKB", static_cast<double>(file.content.size()) / 1024.0},
             {"name", file.name},
             {"type", file.type},
             {"pickleScanResult", "Success"},
             {"pickleScanMessage", "No Pickle imports"},
             {"virusScanResult", "Success"},
             {"virusScanMessage", nullptr},
             {"scannedAt", fake::iso8601(kCreatedAt)},
             {"metadata", std::move(metadata)},
             {"hashes", FakeCivitai::hashes(file.content)},
             {"downloadUrl", url}};
  if (primary) {
    entry["primary"] = true;
  }
  return entry;
}

json FakeCivitai::Impl::version_json(const CivitaiFakeModel& model,
                                     const CivitaiFakeVersion& version) const {
  const bool early = !version.early_access_deadline.empty() &&
                     before(now_iso8601(), version.early_access_deadline);
  json model_part{{"name", model.name}, {"type", model.type}, {"nsfw", false}, {"poi", false}};
  if (version.archived) {
    model_part["mode"] = "Archived";
  }
  json files = json::array();
  const auto* primary = primary_file(version);
  if (!version.archived) {
    for (const auto& file : version.files) {
      files.push_back(file_json(version, file, &file == primary));
    }
  }
  json images = json::array();
  if (const auto numbers = image_numbers_.find(version.id); numbers != image_numbers_.end()) {
    for (const int number : numbers->second) {
      const auto& stored = images_[static_cast<std::size_t>(number - 1)];
      images.push_back(
          {{"url", endpoint_ + std::string(kImagePrefix) + std::to_string(number) + ".png"},
           {"nsfwLevel", 1},
           {"width", stored.width},
           {"height", stored.height},
           {"hash", "U00000fQfQfQfQfQfQfQfQfQfQfQ"},
           {"type", "image"},
           {"hasMeta", false},
           {"onSite", false}});
    }
  }
  json body{{"id", version.id},
            {"modelId", model.id},
            {"name", version.name},
            {"createdAt", fake::iso8601(kCreatedAt)},
            {"updatedAt", fake::iso8601(kCreatedAt)},
            {"status", "Published"},
            {"publishedAt", fake::iso8601(kCreatedAt)},
            {"trainedWords", json::array()},
            {"trainingStatus", nullptr},
            {"trainingDetails", nullptr},
            {"baseModel", version.base_model},
            {"baseModelType", "Standard"},
            {"earlyAccessEndsAt", early ? json(version.early_access_deadline) : json(nullptr)},
            {"earlyAccessConfig",
             early ? json{{"timeframe", 7}, {"chargeForDownload", true}, {"downloadPrice", 500}}
                   : json(nullptr)},
            {"description", nullptr},
            {"uploadType", "Created"},
            {"usageControl", version.downloads_disabled ? "Generation" : "Download"},
            {"air", "urn:air:" + ecosystem(version.base_model) + ":" + air_type(model.type) +
                        ":civitai:" + std::to_string(model.id) + "@" + std::to_string(version.id)},
            {"availability", early ? "EarlyAccess" : "Public"},
            {"nsfwLevel", 1},
            {"stats", {{"downloadCount", 0}, {"thumbsUpCount", 0}}},
            {"model", std::move(model_part)},
            {"files", std::move(files)},
            {"images", std::move(images)}};
  if (!version.archived) {
    body["downloadUrl"] = endpoint_ + "/api/download/models/" + std::to_string(version.id);
  }
  return body;
}

Response FakeCivitai::Impl::handle(const Request& request) {
  std::lock_guard lock(mutex_);
  if (request.path.starts_with(kCdnPrefix)) {
    return cdn(request);
  }
  if (request.path.starts_with(kImagePrefix)) {
    return image(request);
  }
  if (request.path.starts_with("/api/download/models/")) {
    return download(request);
  }
  if (request.method != "GET" && request.method != "HEAD") {
    return fake::json_response(405, json{{"error", "Method Not Allowed"}}.dump());
  }
  if (request.path.starts_with("/api/v1/model-versions/")) {
    return model_versions(request);
  }
  if (request.path.starts_with("/api/v1/models/")) {
    return models(request);
  }
  return fake::json_response(404, json{{"error", "Not Found"}}.dump());
}

Response FakeCivitai::Impl::model_versions(const Request& request) {
  constexpr std::string_view kByHash = "/api/v1/model-versions/by-hash/";
  if (request.path.starts_with(kByHash)) {
    const auto hash = fake::to_upper(request.path.substr(kByHash.size()));
    for (const auto& model : models_) {
      for (const auto& version : model.versions) {
        for (const auto& file : version.files) {
          for (const auto& [kind, value] : FakeCivitai::hashes(file.content)) {
            if (value == hash) {
              return fake::json_response(200, version_json(model, version).dump());
            }
          }
        }
      }
    }
    return fake::json_response(404, json{{"error", "Model not found"}}.dump());
  }
  const auto text = request.path.substr(std::string_view("/api/v1/model-versions/").size());
  const auto id = parse_id(text);
  if (!id) {
    return fake::json_response(400, json{{"error", "Invalid id: " + text}}.dump());
  }
  const auto found = find_version(*id);
  if (found.version == nullptr) {
    return fake::json_response(404, json{{"error", "Model not found"}}.dump());
  }
  return fake::json_response(200, version_json(*found.model, *found.version).dump());
}

Response FakeCivitai::Impl::models(const Request& request) {
  const auto text = request.path.substr(std::string_view("/api/v1/models/").size());
  const auto id = parse_id(text);
  if (!id) {
    return fake::json_response(400, json{{"error", "Invalid id: " + text}}.dump());
  }
  const auto model = std::find_if(models_.begin(), models_.end(),
                                  [&](const auto& candidate) { return candidate.id == *id; });
  if (model == models_.end()) {
    return fake::json_response(404, json{{"error", "No model with id " + text}}.dump());
  }
  json versions = json::array();
  for (const auto& version : model->versions) {
    auto entry = version_json(*model, version);
    entry.erase("model");
    versions.push_back(std::move(entry));
  }
  json body{{"id", model->id},
            {"name", model->name},
            {"description", "<p>" + model->name + "</p>"},
            {"type", model->type},
            {"poi", false},
            {"nsfw", false},
            {"nsfwLevel", 1},
            {"allowNoCredit", true},
            {"allowCommercialUse", json::array({"Sell"})},
            {"allowDerivatives", true},
            {"stats", {{"downloadCount", 0}, {"thumbsUpCount", 0}}},
            {"creator", {{"username", "fake-creator"}, {"image", nullptr}}},
            {"tags", json::array({"base model"})},
            {"modelVersions", std::move(versions)}};
  return fake::json_response(200, body.dump());
}

Response FakeCivitai::Impl::download(const Request& request) {
  const bool browser = is_browser(request);
  const auto error = [&](int status, const std::string& message) {
    if (browser) {
      return Response{status, {{"Content-Type", "text/html; charset=utf-8"}}, message};
    }
    return fake::json_response(status, json{{"error", message}}.dump());
  };
  if (request.method != "GET" && request.method != "HEAD") {
    return error(405, "Method Not Allowed");
  }
  if (rate_limited_left_ > 0) {
    --rate_limited_left_;
    return error(429,
                 "We've noticed an unusual amount of downloading from your account. Contact "
                 "support@civitai.com or come back later.");
  }
  const auto text = request.path.substr(std::string_view("/api/download/models/").size());
  const auto version_id = parse_id(text);
  if (!version_id) {
    return fake::json_response(400, json{{"error", "Invalid modelVersionId"}}.dump());
  }
  const auto found = find_version(*version_id);
  if (found.version == nullptr) {
    return error(404, "File not found");
  }
  const auto& version = *found.version;
  if (version.archived) {
    return error(410, "Model archived, not available for download");
  }
  const auto params = fake::parse_query(request.query);
  const auto param = [&](std::string_view name) -> std::optional<std::string> {
    for (const auto& [key, value] : params) {
      if (key == name) {
        return value;
      }
    }
    return std::nullopt;
  };
  const CivitaiFakeFile* file = nullptr;
  if (const auto file_id = param("fileId")) {
    for (const auto& candidate : version.files) {
      if (std::to_string(candidate.id) == *file_id) {
        file = &candidate;
      }
    }
  } else if (param("type") || param("format") || param("size") || param("fp")) {
    for (const auto& candidate : version.files) {
      bool matches = !param("type") || *param("type") == candidate.type;
      for (const char* key : {"format", "size", "fp"}) {
        const auto wanted = param(key);
        const auto it = candidate.metadata.find(key);
        matches = matches && (!wanted || (it != candidate.metadata.end() && it->second == *wanted));
      }
      if (matches && file == nullptr) {
        file = &candidate;
      }
    }
  } else {
    file = primary_file(version);
  }
  if (file == nullptr) {
    return error(404, "File not found");
  }
  const auto vid = std::to_string(version.id);
  if (!version.early_access_deadline.empty() &&
      before(now_iso8601(), version.early_access_deadline)) {
    if (browser) {
      return {307, {{"Location", "/model-versions/" + vid}}, ""};
    }
    return fake::json_response(
        403, json{{"error", "Early Access"},
                  {"deadline", version.early_access_deadline},
                  {"message", "This asset is in Early Access. You can use Buzz access it now!"}}
                 .dump());
  }
  const auto token = fake::bearer_token(request) ? fake::bearer_token(request) : param("token");
  if (version.requires_login && token != token_) {
    if (browser) {
      return {
          307,
          {{"Location", "/login?returnUrl=%2Fmodel-versions%2F" + vid + "&reason=download-auth"}},
          ""};
    }
    return fake::json_response(
        401,
        json{{"error", "Unauthorized"},
             {"message", "The creator of this asset requires you to be logged in to download it"}}
            .dump());
  }
  if (version.downloads_disabled) {
    return fake::json_response(
        401, json{{"error", "Unauthorized"},
                  {"message", "The creator of this asset has disabled downloads on this file"}}
                 .dump());
  }
  const auto signature = fake::random_hex(32);
  cdn_urls_[signature] = CdnUrl{version.id, file->id, false};
  const auto location =
      cdn_base_ + std::string(kCdnPrefix) + vid + "/" + std::to_string(file->id) + "/" +
      fake::percent_encode(file->name, false) + "?X-Amz-Expires=86400" +
      "&response-content-disposition=" +
      fake::percent_encode("attachment; filename=\"" + file->name + "\"", false) +
      "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240501T120000Z&X-Amz-SignedHeaders=host" +
      "&X-Amz-Signature=" + signature;
  return {307, {{"Location", location}}, ""};
}

Response FakeCivitai::Impl::cdn(const Request& request) {
  if (auto refused = fake::refuse_presigned_request(request)) return *refused;
  const auto signature = fake::query_param(request.query, "X-Amz-Signature").value_or("");
  const auto issued = cdn_urls_.find(signature);
  const auto segments = fake::split_path(request.path.substr(kCdnPrefix.size() - 1));
  if (issued == cdn_urls_.end() || segments.size() != 3 ||
      segments[0] != std::to_string(issued->second.version_id) ||
      segments[1] != std::to_string(issued->second.file_id)) {
    return fake::s3_error(request, 403, "SignatureDoesNotMatch",
                          "The request signature we calculated does not match the signature you "
                          "provided. Check your key and signing method.");
  }
  if (issued->second.expired) {
    return fake::s3_error(request, 403, "AccessDenied", "Request has expired",
                          {{"X-Amz-Expires", "86400"}});
  }
  const auto found = find_version(issued->second.version_id);
  const CivitaiFakeFile* file = nullptr;
  if (found.version != nullptr) {
    for (const auto& candidate : found.version->files) {
      if (candidate.id == issued->second.file_id) {
        file = &candidate;
      }
    }
  }
  if (file == nullptr) {
    return fake::s3_error(request, 404, "NoSuchKey", "The specified key does not exist.");
  }
  std::string corrupted;  // outlives serve_entity below
  fake::Entity entity;
  entity.body = file->content;
  if (file->corrupt && !file->content.empty()) {
    corrupted = file->content;
    corrupted[0] = static_cast<char>(~corrupted[0]);
    entity.body = corrupted;
  }
  entity.etag = "\"" + fake::md5_hex(entity.body) + "\"";
  entity.last_modified = fake::imf_date(kCreatedAt);
  entity.headers = {{"Content-Disposition", "attachment; filename=\"" + file->name + "\""}};
  auto response = fake::serve_entity(request, entity);
  if (response.status == 412) {
    return fake::s3_error(request, 412, "PreconditionFailed",
                          "At least one of the pre-conditions you specified did not hold",
                          {{"Condition", "If-Match"}});
  }
  return response;
}

Response FakeCivitai::Impl::image(const Request& request) {
  auto name = std::string_view(request.path).substr(kImagePrefix.size());
  const auto number =
      name.ends_with(".png") ? parse_id(name.substr(0, name.size() - 4)) : std::nullopt;
  if (!number || *number == 0 || *number > images_.size()) {
    return {404, {{"Content-Type", "text/plain"}}, "Not Found"};
  }
  const auto& stored = images_[*number - 1];
  fake::Entity entity;
  entity.body = stored.content;
  entity.etag = "\"" + fake::md5_hex(stored.content) + "\"";
  entity.content_type = "image/png";
  return fake::serve_entity(request, entity);
}

// ---- public API -----------------------------------------------------------

FakeCivitai::FakeCivitai(TestHttpServer& server, std::string token)
    : impl_(std::make_shared<Impl>(server.port(), std::move(token))) {
  for (const char* prefix : {"/api/v1/", "/api/download/", "/images/", "/civitai-cdn/"}) {
    server.add_prefix_handler(
        prefix, [impl = impl_](const Request& request) { return impl->handle(request); });
  }
}

FakeCivitai::~FakeCivitai() = default;

std::string FakeCivitai::endpoint() const { return impl_->endpoint_; }

void FakeCivitai::add_model(CivitaiFakeModel model) {
  std::lock_guard lock(impl_->mutex_);
  auto& models = impl_->models_;
  for (const auto& version : model.versions) {
    if (version.files.empty()) {
      throw std::invalid_argument("CivitaiFakeVersion " + std::to_string(version.id) +
                                  " has no files");
    }
    for (const auto& other : models) {
      for (const auto& used : other.versions) {
        if (other.id != model.id && used.id == version.id) {
          throw std::invalid_argument("version id " + std::to_string(version.id) +
                                      " already belongs to model " + std::to_string(other.id));
        }
      }
    }
  }
  for (auto& version : model.versions) {
    auto& numbers = impl_->image_numbers_[version.id];
    numbers.clear();
    for (auto& content : version.images) {
      impl_->images_.push_back(stored_image(std::move(content)));
      numbers.push_back(static_cast<int>(impl_->images_.size()));
    }
    version.images.clear();
  }
  std::erase_if(models, [&](const CivitaiFakeModel& old) { return old.id == model.id; });
  models.push_back(std::move(model));
}

void FakeCivitai::rate_limit_next(int requests) {
  std::lock_guard lock(impl_->mutex_);
  impl_->rate_limited_left_ = requests;
}

void FakeCivitai::expire_cdn_urls() {
  std::lock_guard lock(impl_->mutex_);
  for (auto& [signature, url] : impl_->cdn_urls_) {
    url.expired = true;
  }
}

std::string FakeCivitai::download_url(std::uint64_t version_id) const {
  return impl_->endpoint_ + "/api/download/models/" + std::to_string(version_id);
}

std::map<std::string, std::string> FakeCivitai::hashes(const std::string& content) {
  // AutoV1 hashes 64 KiB at offset 1 MiB (the legacy webui model hash).
  constexpr std::size_t kAutoV1Offset = 0x100000;
  constexpr std::size_t kAutoV1Size = 0x10000;
  const auto sha256 = fake::to_upper(fake::sha256_hex(content));
  const auto sample = content.size() > kAutoV1Offset
                          ? std::string_view(content).substr(kAutoV1Offset, kAutoV1Size)
                          : std::string_view{};
  std::array<char, 9> crc{};
  std::snprintf(crc.data(), crc.size(), "%08X", static_cast<unsigned>(fake::crc32(content)));
  return {{"SHA256", sha256},
          {"AutoV2", sha256.substr(0, 10)},
          {"AutoV1", fake::to_upper(fake::sha256_hex(sample).substr(0, 8))},
          {"CRC32", crc.data()}};
}

}  // namespace haul::testing
