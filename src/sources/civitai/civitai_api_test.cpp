#include "sources/civitai/civitai_api.hpp"

#include <gtest/gtest.h>

namespace haul::sources::civitai {
namespace {

// The version object of GET /api/v1/model-versions/2514310 in the shape
// developer.civitai.com documents (reference section 1), with the abridged
// SHA256 written out in full, a second non-primary file whose downloadUrl
// carries the file selectors, and a video before the first still image.
constexpr std::string_view kVersionJson = R"({
  "id": 2514310, "modelId": 827184, "name": "v16.0", "baseModel": "Illustrious",
  "air": "urn:air:sdxl:checkpoint:civitai:827184@2514310", "status": "Published",
  "availability": "Public", "nsfwLevel": 3, "earlyAccessConfig": null, "earlyAccessEndsAt": null,
  "model": { "name": "WAI-illustrious-SDXL", "type": "Checkpoint", "nsfw": false, "poi": false },
  "files": [
    { "id": 2402203, "name": "waiIllustriousSDXL_v160.safetensors", "type": "Model",
      "sizeKB": 6775430.35, "metadata": { "format": "SafeTensor", "size": "pruned", "fp": "fp16" },
      "pickleScanResult": "Success", "virusScanResult": "Success",
      "hashes": { "AutoV1": "4748A7F6", "AutoV2": "A5F58EB1C3",
                  "SHA256": "A5F58EB1C33616B5B7E3D6A1E0F9D7C2B1A0F9E8D7C6B5A4F3E2D1C0B9A8F7E6",
                  "CRC32": "DAEE95B7", "AutoV3": "22D8CB95B807" },
      "downloadUrl": "https://civitai.com/api/download/models/2514310", "primary": true },
    { "id": 2402204, "name": "waiIllustriousSDXL_v160_vae.safetensors", "type": "VAE",
      "sizeKB": 163061.5, "metadata": { "format": "SafeTensor", "size": null, "fp": null },
      "hashes": { "SHA256": "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF" },
      "downloadUrl": "https://civitai.com/api/download/models/2514310?type=VAE&format=SafeTensor" }
  ],
  "images": [
    { "url": "https://image.civitai.com/xG1nkqKTMzGDvpLrqFT7WA/7c1d1a8e-0c4e-4c5e-9d7e-1b2c3d4e5f60/original=true/91130001.mp4",
      "nsfwLevel": 1, "width": 832, "height": 1216, "type": "video" },
    { "url": "https://image.civitai.com/xG1nkqKTMzGDvpLrqFT7WA/3f2e1d0c-9b8a-4765-8432-10fedcba9876/original=true/91130002.jpeg",
      "nsfwLevel": 1, "width": 832, "height": 1216, "type": "image" }
  ],
  "downloadUrl": "https://civitai.com/api/download/models/2514310"
})";

// An archived model: empty files and no downloadUrl (reference section 1).
constexpr std::string_view kArchivedJson = R"({
  "id": 1900322, "modelId": 1678575, "name": "v1.0", "baseModel": "Wan Video 14B t2v",
  "air": "urn:air:wanvideo14b_t2v:lora:civitai:1678575@1900322", "status": "Published",
  "availability": "Public", "earlyAccessEndsAt": "2025-08-01T00:00:00.000Z",
  "model": { "name": "Wan2.1 FusionX", "type": "LORA", "nsfw": false, "poi": false, "mode": "Archived" },
  "files": [], "images": []
})";

// GET /api/v1/models/827184 in its real shape: the model, its creator and
// tags, and modelVersions[] in model-page order (newest first).
constexpr std::string_view kModelJson = R"({
  "id": 827184, "name": "WAI-illustrious-SDXL", "description": "<p>...</p>",
  "type": "Checkpoint", "poi": false, "nsfw": false, "allowNoCredit": true,
  "allowCommercialUse": ["Image"], "allowDerivatives": true, "allowDifferentLicense": true,
  "stats": { "downloadCount": 1000, "thumbsUpCount": 100 },
  "creator": { "username": "WAI0731", "image": null },
  "tags": ["anime", "base model"],
  "modelVersions": [
    { "id": 2514310, "index": 0, "name": "v16.0", "baseModel": "Illustrious", "status": "Published",
      "availability": "Public", "files": [], "images": [],
      "downloadUrl": "https://civitai.com/api/download/models/2514310" },
    { "id": 2167369, "index": 1, "name": "v15.0", "baseModel": "Illustrious", "status": "Published",
      "availability": "Public", "files": [], "images": [],
      "downloadUrl": "https://civitai.com/api/download/models/2167369" }
  ]
})";

CivitaiVersion must_parse(std::string_view json) {
  auto version = parse_model_version(json);
  EXPECT_TRUE(version.has_value()) << (version ? "" : version.error().message);
  return version ? *version : CivitaiVersion{};
}

// ---- parse_model_version ----------------------------------------------------------

TEST(ParseModelVersion, ReadsTheVersionFields) {
  CivitaiVersion version = must_parse(kVersionJson);
  EXPECT_EQ(version.id, 2514310u);
  EXPECT_EQ(version.model_id, 827184u);
  EXPECT_EQ(version.name, "v16.0");
  EXPECT_EQ(version.base_model, "Illustrious");
  EXPECT_EQ(version.air, "urn:air:sdxl:checkpoint:civitai:827184@2514310");
  EXPECT_EQ(version.model_name, "WAI-illustrious-SDXL");
  EXPECT_EQ(version.model_type, "Checkpoint");
  EXPECT_EQ(version.availability, "Public");
  EXPECT_EQ(version.status, "Published");
  EXPECT_FALSE(version.early_access_ends_at.has_value());
  EXPECT_EQ(version.download_url, "https://civitai.com/api/download/models/2514310");
  EXPECT_EQ(version.raw_json, kVersionJson);
}

TEST(ParseModelVersion, ReadsFiles) {
  CivitaiVersion version = must_parse(kVersionJson);
  ASSERT_EQ(version.files.size(), 2u);
  const CivitaiFile& model = version.files[0];
  EXPECT_EQ(model.id, 2402203u);
  EXPECT_EQ(model.name, "waiIllustriousSDXL_v160.safetensors");
  EXPECT_EQ(model.type, "Model");
  EXPECT_DOUBLE_EQ(model.size_kb, 6775430.35);
  EXPECT_EQ(model.sha256, "a5f58eb1c33616b5b7e3d6a1e0f9d7c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6");
  EXPECT_EQ(model.download_url, "https://civitai.com/api/download/models/2514310");
  EXPECT_TRUE(model.primary);
  const std::map<std::string, std::string> metadata = {
      {"format", "SafeTensor"}, {"size", "pruned"}, {"fp", "fp16"}};
  EXPECT_EQ(model.metadata, metadata);

  const CivitaiFile& vae = version.files[1];
  EXPECT_EQ(vae.type, "VAE");
  EXPECT_FALSE(vae.primary) << "primary is absent on non-primary files";
  EXPECT_EQ(vae.metadata.size(), 1u) << "null metadata values are skipped";
  EXPECT_EQ(vae.download_url,
            "https://civitai.com/api/download/models/2514310?type=VAE&format=SafeTensor");
}

TEST(ParseModelVersion, SizeBytesIsARoundedHint) {
  CivitaiVersion version = must_parse(kVersionJson);
  // 6775430.35 KiB * 1024 = 6938040678.4 bytes: sizeKB is not exact.
  EXPECT_EQ(version.files[0].size_bytes(), 6938040678u);
  EXPECT_EQ(version.files[1].size_bytes(), 166974976u);  // 163061.5 * 1024
  CivitaiFile unknown;
  EXPECT_FALSE(unknown.size_bytes().has_value());
}

TEST(ParseModelVersion, KeepsEveryImageUrlInOrder) {
  CivitaiVersion version = must_parse(kVersionJson);
  ASSERT_EQ(version.image_urls.size(), 2u);
  EXPECT_TRUE(version.image_urls[0].ends_with("/91130001.mp4"));
  EXPECT_TRUE(version.image_urls[1].ends_with("/91130002.jpeg"));
}

TEST(ParseModelVersion, ArchivedVersionHasNoFiles) {
  CivitaiVersion version = must_parse(kArchivedJson);
  EXPECT_EQ(version.id, 1900322u);
  EXPECT_EQ(version.model_type, "LORA");
  EXPECT_TRUE(version.files.empty());
  EXPECT_TRUE(version.image_urls.empty());
  EXPECT_EQ(version.download_url, "");
  EXPECT_EQ(version.early_access_ends_at, "2025-08-01T00:00:00.000Z");
}

TEST(ParseModelVersion, RejectsWhatIsNotAVersion) {
  for (std::string_view body : {std::string_view("<html>502 Bad Gateway</html>"),
                                std::string_view("[1, 2]"), std::string_view(R"({"name":"x"})"),
                                std::string_view(R"({"id":"abc"})"), std::string_view("")}) {
    auto version = parse_model_version(body);
    ASSERT_FALSE(version.has_value()) << body;
    EXPECT_EQ(version.error().code, ErrorCode::kProtocol) << body;
    EXPECT_NE(version.error().message.find("CivitAI model version response"), std::string::npos);
  }
}

// ---- latest_version_id ------------------------------------------------------------

TEST(LatestVersionId, TakesTheFirstListedVersion) {
  auto id = latest_version_id(kModelJson);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  EXPECT_EQ(*id, 2514310u);
}

TEST(LatestVersionId, NoPublishedVersionIsNotFound) {
  auto id = latest_version_id(R"({"id": 827184, "name": "x", "modelVersions": []})");
  ASSERT_FALSE(id.has_value());
  EXPECT_EQ(id.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(id.error().message, "CivitAI model 827184 has no published version");
}

TEST(LatestVersionId, MalformedBodiesAreProtocolErrors) {
  for (std::string_view body : {std::string_view("not json"), std::string_view(R"({"id": 1})"),
                                std::string_view(R"({"id": 1, "modelVersions": [{"name": "v1"}]})"),
                                std::string_view(R"({"id": 1, "modelVersions": {}})")}) {
    auto id = latest_version_id(body);
    ASSERT_FALSE(id.has_value()) << body;
    EXPECT_EQ(id.error().code, ErrorCode::kProtocol) << body;
  }
}

// ---- choose_file ------------------------------------------------------------------

CivitaiFile make_file(std::uint64_t id, std::string name, std::string type) {
  CivitaiFile out;
  out.id = id;
  out.name = std::move(name);
  out.type = std::move(type);
  return out;
}

std::string chosen_name(const CivitaiVersion& version, std::string_view wanted,
                        const std::map<std::string, std::string>& query = {}) {
  auto file = choose_file(version, wanted, query);
  EXPECT_TRUE(file.has_value()) << (file ? "" : file.error().message);
  return file ? (*file)->name : std::string();
}

TEST(ChooseFile, DefaultsToThePrimaryFile) {
  CivitaiVersion version = must_parse(kVersionJson);
  auto file = choose_file(version, "", {});
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(*file, &version.files[0]) << "points into version.files";
}

TEST(ChooseFile, ByNameExactlyThenIgnoringCase) {
  CivitaiVersion version = must_parse(kVersionJson);
  EXPECT_EQ(chosen_name(version, "waiIllustriousSDXL_v160_vae.safetensors"),
            "waiIllustriousSDXL_v160_vae.safetensors");
  EXPECT_EQ(chosen_name(version, "WAIILLUSTRIOUSSDXL_V160_VAE.SAFETENSORS"),
            "waiIllustriousSDXL_v160_vae.safetensors");

  CivitaiVersion twins;
  twins.id = 7;
  twins.files = {make_file(1, "A.safetensors", "Model"), make_file(2, "a.safetensors", "Model")};
  EXPECT_EQ(choose_file(twins, "a.safetensors", {}).value()->id, 2u) << "exact match wins";
  EXPECT_EQ(choose_file(twins, "A.SAFETENSORS", {}).value()->id, 1u);
}

TEST(ChooseFile, UnknownNameListsTheAvailableFiles) {
  CivitaiVersion version = must_parse(kVersionJson);
  auto file = choose_file(version, "other.safetensors", {});
  ASSERT_FALSE(file.has_value());
  EXPECT_EQ(file.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(file.error().message,
            "model version 2514310 has no file named 'other.safetensors'; available: "
            "'waiIllustriousSDXL_v160.safetensors' (Model), "
            "'waiIllustriousSDXL_v160_vae.safetensors' (VAE)");
}

TEST(ChooseFile, ByFileId) {
  CivitaiVersion version = must_parse(kVersionJson);
  EXPECT_EQ(chosen_name(version, "", {{"fileId", "2402204"}}),
            "waiIllustriousSDXL_v160_vae.safetensors");
  auto missing = choose_file(version, "", {{"fileId", "1"}});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("has no file with id 1; available: "), std::string::npos);
}

TEST(ChooseFile, ByDownloadQuerySelectors) {
  CivitaiVersion version = must_parse(kVersionJson);
  EXPECT_EQ(chosen_name(version, "", {{"type", "VAE"}, {"format", "SafeTensor"}}),
            "waiIllustriousSDXL_v160_vae.safetensors");
  EXPECT_EQ(chosen_name(version, "", {{"format", "safetensor"}}),
            "waiIllustriousSDXL_v160.safetensors")
      << "both match: the primary one wins; values compare ignoring case";
  EXPECT_EQ(chosen_name(version, "", {{"type", "Model"}, {"fp", "fp16"}, {"size", "pruned"}}),
            "waiIllustriousSDXL_v160.safetensors");

  auto none = choose_file(version, "", {{"type", "Model"}, {"format", "PickleTensor"}});
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  EXPECT_NE(none.error().message.find("has no file matching format=PickleTensor&type=Model"),
            std::string::npos)
      << none.error().message;
}

TEST(ChooseFile, WithoutPrimaryTakesTheOnlyModelFile) {
  CivitaiVersion version;
  version.id = 9;
  version.files = {make_file(1, "train.zip", "Training Data"),
                   make_file(2, "lora.safetensors", "Model")};
  EXPECT_EQ(chosen_name(version, ""), "lora.safetensors");

  version.files = {make_file(3, "only.pt", "Pruned Model")};
  EXPECT_EQ(chosen_name(version, ""), "only.pt") << "a single file is the choice";
}

TEST(ChooseFile, SeveralCandidatesWithoutPrimaryIsAmbiguous) {
  CivitaiVersion version;
  version.id = 9;
  version.files = {make_file(1, "a.safetensors", "Model"), make_file(2, "b.safetensors", "Model")};
  auto file = choose_file(version, "", {});
  ASSERT_FALSE(file.has_value());
  EXPECT_EQ(file.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(file.error().message,
            "model version 9 has no primary file; name one of: 'a.safetensors' (Model), "
            "'b.safetensors' (Model)");
}

TEST(ChooseFile, ArchivedVersionIsNotFound) {
  CivitaiVersion version = must_parse(kArchivedJson);
  for (std::string_view wanted : {std::string_view(""), std::string_view("x.safetensors")}) {
    auto file = choose_file(version, wanted, {});
    ASSERT_FALSE(file.has_value());
    EXPECT_EQ(file.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(file.error().message,
              "model version 1900322 is archived: not available for download");
  }
}

// ---- civitai_error: every body of the download route (reference section 1) --------

constexpr std::string_view kWhat = "download of model version 1900322";

TEST(CivitaiError, LoginRequiredHintsAtTheToken) {
  Error error = civitai_error(
      401,
      R"({"error":"Unauthorized","message":"The creator of this asset requires you to be logged in to download it"})",
      kWhat);
  EXPECT_EQ(error.code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(error.http_status, 401);
  EXPECT_EQ(error.message,
            "download of model version 1900322: CivitAI: Unauthorized: The creator of this asset "
            "requires you to be logged in to download it (HTTP 401); set CIVITAI_TOKEN to a "
            "CivitAI API key");
}

TEST(CivitaiError, DisabledDownloadsHasNoTokenHint) {
  Error error = civitai_error(
      401,
      R"({"error":"Unauthorized","message":"The creator of this asset has disabled downloads on this file"})",
      kWhat);
  EXPECT_EQ(error.code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(error.message,
            "download of model version 1900322: CivitAI: Unauthorized: The creator of this asset "
            "has disabled downloads on this file (HTTP 401)");
}

TEST(CivitaiError, BareUnauthorizedOfTheOlderHandlerHintsAtTheToken) {
  Error error = civitai_error(401, R"({"error":"Unauthorized"})", kWhat);
  EXPECT_EQ(error.message,
            "download of model version 1900322: CivitAI: Unauthorized (HTTP 401); set "
            "CIVITAI_TOKEN to a CivitAI API key");
}

TEST(CivitaiError, EarlyAccessIncludesTheDeadline) {
  Error error = civitai_error(
      403,
      R"({"error":"Early Access","deadline":"2025-08-01T00:00:00.000Z","message":"This asset is in Early Access. You can use Buzz access it now!"})",
      kWhat);
  EXPECT_EQ(error.code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(error.http_status, 403);
  EXPECT_EQ(error.message,
            "download of model version 1900322: CivitAI: Early Access: This asset is in Early "
            "Access. You can use Buzz access it now! (early access ends 2025-08-01T00:00:00.000Z) "
            "(HTTP 403)");

  Error numeric = civitai_error(403, R"({"error":"Early Access","deadline":1754006400000})", kWhat);
  EXPECT_NE(numeric.message.find("CivitAI: Early Access (early access ends 1754006400000)"),
            std::string::npos)
      << numeric.message;
}

TEST(CivitaiError, OtherForbiddenBodies) {
  Error no_access =
      civitai_error(403, R"({"error":"You do not have access to download this file"})", kWhat);
  EXPECT_EQ(no_access.code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(no_access.message,
            "download of model version 1900322: CivitAI: You do not have access to download this "
            "file (HTTP 403)");
  Error forbidden = civitai_error(403, R"({"error":"Forbidden"})", kWhat);
  EXPECT_EQ(forbidden.message, "download of model version 1900322: CivitAI: Forbidden (HTTP 403)");
}

TEST(CivitaiError, NotFoundAndArchived) {
  Error missing = civitai_error(404, R"({"error":"File not found"})", kWhat);
  EXPECT_EQ(missing.code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.http_status, 404);
  EXPECT_EQ(missing.message,
            "download of model version 1900322: CivitAI: File not found (HTTP 404)");

  Error archived =
      civitai_error(410, R"({"error":"Model archived, not available for download"})", kWhat);
  EXPECT_EQ(archived.code, ErrorCode::kNotFound);
  EXPECT_EQ(archived.http_status, 410);
  EXPECT_EQ(archived.message,
            "download of model version 1900322: CivitAI: Model archived, not available for "
            "download (HTTP 410)");

  Error model = civitai_error(404, R"({"error":"No model with id 1678575"})", "model 1678575");
  EXPECT_EQ(model.message, "model 1678575: CivitAI: No model with id 1678575 (HTTP 404)");
}

TEST(CivitaiError, TooManyDownloadsIsTransientWithRetryAfter) {
  constexpr std::string_view kBody =
      R"({"error":"We've noticed an unusual amount of downloading from your account. Contact support@civitai.com or come back later."})";
  Error error = civitai_error(429, kBody, kWhat, "120");
  EXPECT_EQ(error.code, ErrorCode::kUnavailable);
  EXPECT_EQ(error.http_status, 429);
  EXPECT_EQ(error.retry_after, std::chrono::seconds(120));
  EXPECT_EQ(error.message,
            "download of model version 1900322: CivitAI: We've noticed an unusual amount of "
            "downloading from your account. Contact support@civitai.com or come back later. "
            "(HTTP 429)");

  using namespace std::chrono;
  const system_clock::time_point now =
      sys_days{year{2015} / October / 21} + hours(7) + minutes(27) + seconds(30);
  Error dated = civitai_error(429, kBody, kWhat, "Wed, 21 Oct 2015 07:28:00 GMT", now);
  EXPECT_EQ(dated.retry_after, seconds(30));

  EXPECT_EQ(civitai_error(429, kBody, kWhat).retry_after, milliseconds(0));
  EXPECT_EQ(civitai_error(429, kBody, kWhat, "soon").retry_after, milliseconds(0));
}

TEST(CivitaiError, ServerErrorsAreTransient) {
  EXPECT_EQ(civitai_error(500, R"({"error":"Failed to fetch model version details"})", kWhat).code,
            ErrorCode::kUnavailable);
  EXPECT_EQ(civitai_error(503, "", kWhat).code, ErrorCode::kUnavailable);
  EXPECT_EQ(civitai_error(503, "", kWhat, "5").retry_after, std::chrono::seconds(5));
  EXPECT_EQ(civitai_error(400, R"({"error":"Missing modelVersionId"})", kWhat).code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(civitai_error(302, "", kWhat).code, ErrorCode::kProtocol);
}

TEST(CivitaiError, NonJsonBodyIsQuotedOnOneLine) {
  Error empty = civitai_error(502, "", "model version 1900322");
  EXPECT_EQ(empty.message, "model version 1900322: HTTP 502");
  EXPECT_EQ(empty.http_status, 502);

  Error html = civitai_error(502, "<html>\r\n<head><title>502 Bad Gateway</title></head>\n</html>",
                             "model version 1900322");
  EXPECT_EQ(html.message,
            "model version 1900322: HTTP 502: <html> <head><title>502 Bad Gateway</title></head> "
            "</html>");

  const std::string long_body(1000, 'x');
  Error cut = civitai_error(500, long_body, "model version 1900322");
  EXPECT_EQ(cut.message, "model version 1900322: HTTP 500: " + std::string(200, 'x') + "...");

  Error unknown_json = civitai_error(500, R"({"status":"down"})", "model version 1900322");
  EXPECT_EQ(unknown_json.message, R"(model version 1900322: HTTP 500: {"status":"down"})");
}

TEST(CivitaiError, JsonReasonIsKeptOnOneLine) {
  Error error = civitai_error(404, R"({"error":"line one\nline two"})", kWhat);
  EXPECT_EQ(error.message.find('\n'), std::string::npos);
  EXPECT_NE(error.message.find("CivitAI: line one line two"), std::string::npos) << error.message;
}

TEST(CivitaiError, CutNeverSplitsAUtf8Sequence) {
  // 199 ASCII bytes then a 2-byte character straddling the 200-byte limit.
  const std::string body = std::string(199, 'a') + "\xc3\xa9" + "tail";
  Error error = civitai_error(500, body, "w");
  EXPECT_EQ(error.message, "w: HTTP 500: " + std::string(199, 'a') + "...");
}

}  // namespace
}  // namespace haul::sources::civitai
