// CivitAI sources -> plans: the model-version API names the files, their
// SHA-256 and the model type; the download URL is probed without following
// its redirect so that a refusal (login required, early access, archived,
// rate limited) reaches the user in CivitAI's own words.
#include "base/text.hpp"
#include "net/url.hpp"
#include "sources/civitai/civitai_api.hpp"
#include "sources/civitai/civitai_ref.hpp"
#include "sources/civitai/comfy_folders.hpp"
#include "sources/civitai/sidecar_names.hpp"
#include "sources/http_client.hpp"
#include "sources/plan_transfer.hpp"
#include "sources/providers.hpp"

namespace haul::sources {

namespace {

struct CivitaiSession {
  std::string endpoint;           // CIVITAI_ENDPOINT, default https://civitai.com
  std::vector<std::string> auth;  // the Bearer header, for the endpoint only
};

HttpRequest api_request(const CivitaiSession& site, std::string url) {
  HttpRequest request;
  request.url = std::move(url);
  request.headers = site.auth;
  return request;
}

// The API hands out https://civitai.com/... URLs; a mirror (CIVITAI_ENDPOINT)
// serves them under its own origin, as HF_ENDPOINT does for the Hub.
std::string on_endpoint(const CivitaiSession& site, const std::string& url) {
  auto parsed = net::parse_url(url);
  if (!parsed) return url;
  const std::size_t path_start = url.find('/', url.find("://") + 3);
  return site.endpoint + (path_start == std::string::npos ? "/" : url.substr(path_start));
}

Result<std::string> get_json(const CivitaiSession& site, const std::string& url,
                             const std::string& what) {
  auto response = http_fetch(api_request(site, url));
  if (!response) return fail(response.error());
  if (response->status != 200)
    return fail(civitai::civitai_error(response->status, response->body, what,
                                       response->header("retry-after").value_or("")));
  return std::move(response->body);
}

// Asks for the file without following CivitAI's redirect: the pre-signed
// location it answers with is what the engine fetches (no token goes there),
// and a refusal comes back as CivitAI's JSON reason.
Result<std::string> probe_download(const CivitaiSession& site, const std::string& url,
                                   const std::string& what) {
  auto response = http_fetch(api_request(site, url));
  if (!response) return fail(response.error());
  const auto location = response->header("location");
  if (response->status >= 300 && response->status < 400 && location) {
    auto base = net::parse_url(url);
    auto target = base ? net::resolve_location(*base, *location) : base;
    if (!target) return fail(target.error());
    return target->text;
  }
  if (response->status == 200) return url;  // served directly: fetch it with the token
  return fail(civitai::civitai_error(response->status, response->body, what,
                                     response->header("retry-after").value_or("")));
}

}  // namespace

Result<void> check_civitai_source(std::string_view source) {
  auto ref = civitai::parse_civitai_source(source);
  if (!ref) return fail(ref.error());
  return {};
}

Result<Plan> resolve_civitai(std::string_view source, const ResolveOptions& options) {
  auto ref = civitai::parse_civitai_source(source);
  if (!ref) return fail(ref.error());
  CivitaiSession site;
  site.endpoint = options.getenv("CIVITAI_ENDPOINT").value_or("https://civitai.com");
  while (!site.endpoint.empty() && site.endpoint.back() == '/') site.endpoint.pop_back();
  if (auto token = options.getenv("CIVITAI_TOKEN"))
    site.auth.push_back("Authorization: Bearer " + *token);

  std::uint64_t version_id = ref->version_id.value_or(0);
  if (!ref->version_id) {
    const std::string mid = std::to_string(*ref->model_id);
    auto model = get_json(site, site.endpoint + "/api/v1/models/" + mid, "CivitAI model " + mid);
    if (!model) return fail(model.error());
    auto latest = civitai::latest_version_id(*model);
    if (!latest) return fail(latest.error());
    version_id = *latest;
  }
  const std::string vid = std::to_string(version_id);
  auto body = get_json(site, site.endpoint + "/api/v1/model-versions/" + vid,
                       "CivitAI model version " + vid);
  if (!body) return fail(body.error());
  auto version = civitai::parse_model_version(*body);
  if (!version) return fail(version.error());
  auto chosen = civitai::choose_file(*version, options.file_name, ref->download_query);
  if (!chosen) return fail(chosen.error());
  const civitai::CivitaiFile& model_file = **chosen;
  if (!is_safe_relative_path(model_file.name) || model_file.name.find('/') != std::string::npos) {
    return fail(ErrorCode::kPermissionDenied,
                "CivitAI named the file '" + model_file.name + "': not a plain file name");
  }
  const std::string what =
      "'" + model_file.name + "' of " + version->model_name + " (version " + vid + ")";
  auto location = probe_download(site, on_endpoint(site, model_file.download_url), what);
  if (!location) return fail(location.error());

  Plan plan;
  plan.name = version->model_name + " " + version->name;
  std::string folder(civitai::comfy_folder_for(version->model_type, model_file.type));
  if (folder.empty()) folder = civitai::comfy_folder_for_air_type(ref->air_type);
  plan.suggested_folder = folder;
  PlannedFile file;
  file.key = "civitai:" + vid + "/" + std::to_string(model_file.id);
  file.relative_path = model_file.name;
  file.size = model_file.size_bytes();
  file.sha256 = model_file.sha256;
  file.fetch.url = *location;
  if (*location == on_endpoint(site, model_file.download_url)) file.fetch.headers = site.auth;
  plan.files.push_back(std::move(file));

  if (options.with_preview) {
    plan.sidecars.push_back({civitai::metadata_sidecar_name(model_file.name), version->raw_json});
    if (auto image = civitai::choose_preview_image(version->image_urls)) {
      PlannedFile preview;
      preview.key = "civitai:" + vid + "/preview";
      preview.relative_path = civitai::preview_sidecar_name(model_file.name, *image);
      preview.stage = "images";
      preview.fetch.url = *image;
      plan.files.push_back(std::move(preview));
    }
  }
  return plan;
}

}  // namespace haul::sources
