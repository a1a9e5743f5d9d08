// A fake CivitAI on a TestHttpServer: the public REST API (model versions,
// models, by-hash lookup), the download endpoint with its auth rules and
// verbatim JSON errors, a pre-signed "CDN" on 127.0.0.2 that names the file
// in Content-Disposition and serves ranges, and preview images. Enough of
// the real protocol for haul's CivitAI resolver and the transfer engine.
//
// Routes (ep = endpoint()):
//   GET      {ep}/api/v1/model-versions/{vid}
//   GET      {ep}/api/v1/model-versions/by-hash/{hash}   (SHA256, AutoV1, AutoV2 or CRC32)
//   GET      {ep}/api/v1/models/{mid}
//   GET|HEAD {ep}/api/download/models/{vid}[?type=&format=&size=&fp=&fileId=&token=]
//   GET|HEAD http://127.0.0.2:PORT/civitai-cdn/{vid}/{file id}/{name}?...&X-Amz-Signature=..
//   GET|HEAD {ep}/images/{n}.png
// Only these prefixes are taken, so it can share a server with FakeHuggingFace
// or FakeS3.
//
// Download rules, first match wins: rate limited (429), unknown version or
// file (404 "File not found"), archived (410), early access (403 with
// "deadline"), login required without a valid token (401), downloads disabled
// (401). A "browser" User-Agent (mozilla, chrome, safari, firefox, opera,
// edge) gets plain-text errors and redirects to the site instead of JSON.
//
// Threads: handlers run on the server's connection threads; every method may
// be called from the test thread meanwhile.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/test_http_server.hpp"

namespace haul::testing {

struct CivitaiFakeFile {
  std::uint64_t id = 0;
  std::string name{};          // "model.safetensors"
  std::string type = "Model";  // Model, Pruned Model, VAE, Config, Training Data, ...
  std::string content{};
  // The version's primary file; when no file says so, the first "Model" file
  // (else the first file) is primary.
  bool primary = false;
  std::map<std::string, std::string>
      metadata{};  // format, size, fp (e.g. SafeTensor, pruned, fp16)
  // The storage serves other bytes than the API's hashes describe (its first
  // byte flipped): a corrupted mirror.
  bool corrupt = false;
};

struct CivitaiFakeVersion {
  std::uint64_t id = 0;
  std::string name{};
  std::string base_model = "SDXL 1.0";
  std::vector<CivitaiFakeFile> files{};
  bool requires_login = false;      // anonymous downloads get 401
  bool downloads_disabled = false;  // every download gets 401
  // ISO 8601 UTC ("2099-01-01T00:00:00.000Z"); downloads get 403 Early Access
  // until then. "" = none.
  std::string early_access_deadline{};
  bool archived = false;              // files [] and no downloadUrl in the API; downloads get 410
  std::vector<std::string> images{};  // bytes of preview images, served as image/png
};

struct CivitaiFakeModel {
  std::uint64_t id = 0;
  std::string name{};
  std::string type{};  // Checkpoint, LORA, LoCon, TextualInversion, VAE, Controlnet, ...
  std::vector<CivitaiFakeVersion> versions{};  // newest first
};

class FakeCivitai {
 public:
  // Registers its handlers on `server`. `token` is the only valid API key
  // (Authorization: Bearer <token> or ?token=<token>); any other key counts as
  // anonymous.
  explicit FakeCivitai(TestHttpServer& server, std::string token = "civitai_testtoken");
  FakeCivitai(const FakeCivitai&) = delete;
  FakeCivitai& operator=(const FakeCivitai&) = delete;
  ~FakeCivitai();

  // "http://127.0.0.1:PORT" (no trailing slash).
  std::string endpoint() const;
  // Adds or replaces (same id) a model. Throws std::invalid_argument when a
  // version id is already used by another model or a version has no files.
  void add_model(CivitaiFakeModel model);
  // The next `requests` download requests get 429 with the CivitAI message.
  void rate_limit_next(int requests);
  // CDN URLs handed out so far answer 403 AccessDenied "Request has expired".
  void expire_cdn_urls();

  // "{ep}/api/download/models/{vid}".
  std::string download_url(std::uint64_t version_id) const;
  // CivitAI's hashes of `content`: SHA256 (upper-case hex), AutoV2 (its first
  // 10 characters), AutoV1, CRC32 (upper-case hex).
  static std::map<std::string, std::string> hashes(const std::string& content);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;  // shared with the server's handlers
};

}  // namespace haul::testing
