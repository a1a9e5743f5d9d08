// CivitAI REST API responses as values: the model-version object of
// GET /api/v1/model-versions/{vid}, the latest version of GET /api/v1/models/{mid},
// which file of a version to fetch, and the JSON error bodies of the API and
// of /api/download/models/{vid} turned into haul Errors. Pure: the resolver
// does the HTTP and hands the bodies here. Any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace haul::sources::civitai {

struct CivitaiFile {
  std::uint64_t id = 0;
  // The name the download's Content-Disposition will carry (the API already
  // applies CivitAI's download renaming to it).
  std::string name;
  // "Model", "Pruned Model", "VAE", "Config", "Training Data", "Text Encoder",
  // "Diffusion Model", "UNet", "Negative", "Archive", ...
  std::string type;
  double size_kb = 0;  // "sizeKB": KiB as a float
  // sizeKB * 1024, rounded; std::nullopt when sizeKB is missing or 0.
  // Only a hint (progress, disk-space estimate): sizeKB is a float CivitAI
  // may round, so the exact size is the download response's Content-Length /
  // Content-Range. Do not verify a download against it.
  std::optional<std::uint64_t> size_bytes() const;
  std::string sha256;  // lower-case hex from hashes.SHA256; "" when absent
  std::string download_url;
  bool primary = false;  // "primary" is absent (false) on non-primary files
  // String values of "metadata": "format" (SafeTensor, PickleTensor, GGUF, ...),
  // "size" (full, pruned), "fp" (fp16, fp32, bf16, fp8, nf4). Null values skipped.
  std::map<std::string, std::string> metadata;
};

struct CivitaiVersion {
  std::uint64_t id = 0;
  std::uint64_t model_id = 0;
  std::string name;          // version name, "v16.0"
  std::string base_model;    // "Illustrious", "SDXL 1.0", "Flux.1 D", ...
  std::string air;           // "urn:air:sdxl:checkpoint:civitai:827184@2514310"
  std::string model_name;    // model.name
  std::string model_type;    // model.type: Checkpoint, LORA, LoCon, DoRA, TextualInversion, ...
  std::string availability;  // Public, EarlyAccess, Private, ...
  std::string status;        // Published, ...
  std::optional<std::string> early_access_ends_at;  // ISO 8601 as sent; null -> nullopt
  std::vector<CivitaiFile> files;                   // empty when the model is archived
  // Every images[].url in API order. Videos are included (their URLs end in
  // .mp4/.webm); choose_preview_image in sidecar_names.hpp skips them.
  std::vector<std::string> image_urls;
  std::string download_url;  // "" when archived
  std::string raw_json;      // the whole body as received, for the metadata sidecar
};

// Parses a GET /api/v1/model-versions/{vid} body.
// Errors: kProtocol "CivitAI model version response ..." when the body is not
// JSON, not an object, or has no numeric "id".
Result<CivitaiVersion> parse_model_version(std::string_view json);

// The id of modelVersions[0] in a GET /api/v1/models/{mid} body. That list
// holds published versions only (versions without a downloadable primary file
// are dropped) in the order of the model page, ModelVersion.index ascending:
// CivitAI gives a new version index 0, so the first entry is the newest unless
// the creator reordered the versions; either way it is the version the model
// page opens with. (civitai/civitai: pages/api/v1/models/[id].ts filters
// status === 'Published'; redis/caches.ts dataForModelsCache selects
// ORDER BY mv."modelId", mv.index; model.service.ts takes slice(0, 1) as
// "the latest version".)
// Errors: kProtocol for a body that is not a model object; kNotFound
// "CivitAI model MID has no published version" when modelVersions is empty.
Result<std::uint64_t> latest_version_id(std::string_view model_json);

// Which file of `version` to fetch, as a pointer into version.files:
//  - wanted_name set: the file with exactly that name, else the one whose name
//    matches ignoring ASCII case;
//  - else download_query["fileId"]: the file with that id;
//  - else any of type/format/size/fp from download_query (type against
//    file.type, the others against file.metadata, ignoring case): the primary
//    file among the matches, else the first match;
//  - else the primary file, else the only "Model" file, else the only file.
// Errors: kNotFound "model version VID is archived: not available for download"
// when files is empty; kNotFound "model version VID has no file ...; available:
// 'a' (Model), ..." when nothing matches; kInvalidArgument when several files
// qualify and none is primary (the message lists them).
Result<const CivitaiFile*> choose_file(const CivitaiVersion& version, std::string_view wanted_name,
                                       const std::map<std::string, std::string>& download_query);

// An Error for a non-2xx CivitAI answer. `what` names the request for the
// user ("model version 1900322", "download of model version 1900322").
// A JSON body {"error": E, "message": M, "deadline": D} is surfaced verbatim:
//   "<what>: CivitAI: E: M (HTTP 401)"  (E or M alone when only one is set;
//   early access adds " (early access ends D)"). Any other body:
//   "<what>: HTTP 502: <first 200 characters, on one line>".
// Codes: 400 kInvalidArgument; 401 and 403 kPermissionDenied (a 401 whose
// message asks for a login, or that has no message, adds "; set CIVITAI_TOKEN
// to a CivitAI API key"; "... has disabled downloads ..." does not); 404 and 410
// kNotFound; 408, 429 and 5xx kUnavailable; other 4xx kInvalidArgument;
// anything else kProtocol. http_status = status; retry_after from the
// Retry-After header value (delta-seconds or HTTP-date, relative to `now`)
// when one is given.
Error civitai_error(int status, std::string_view body, std::string_view what,
                    std::string_view retry_after = {},
                    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace haul::sources::civitai
