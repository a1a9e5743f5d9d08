#include "api/web_assets.hpp"

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace haul::api {

namespace {

std::string etag_of(std::string_view bytes) {
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a, 64 bits
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  char text[20];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return "\"" + std::string(text) + "\"";
}

std::shared_ptr<const WebAsset> make_asset(std::string_view path, std::string bytes) {
  auto asset = std::make_shared<WebAsset>();
  asset->content_type = std::string(content_type_for(path));
  asset->etag = etag_of(bytes);
  asset->gzip = gzip(bytes);
  asset->body = std::move(bytes);
  return asset;
}

}  // namespace

std::string_view content_type_for(std::string_view path) {
  const std::size_t dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "json") return "application/json";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "woff2") return "font/woff2";
  if (ext == "txt" || ext == "md") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

bool plain_asset_path(std::string_view path) {
  if (path.empty() || path.find('\\') != std::string_view::npos) return false;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view segment = path.substr(0, slash);
    if (segment.empty() || segment.front() == '.') return false;
    for (const char c : segment) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    }
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
    if (path.empty()) return false;  // a trailing '/'
  }
  return true;
}

std::string gzip(std::string_view bytes) {
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer around the deflate data.
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return {};
  }
  std::string out(deflateBound(&stream, bytes.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return rc == Z_STREAM_END ? out : std::string{};
}

WebAssets WebAssets::embedded() {
  WebAssets assets;
  for (const EmbeddedFile& file : embedded_web_files()) {
    assets.files_.emplace(std::string(file.path), make_asset(file.path, std::string(file.bytes)));
  }
  return assets;
}

Result<WebAssets> WebAssets::from_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir / "index.html", ec)) {
    return fail(ErrorCode::kNotFound,
                "--web-dir " + dir.string() + ": no index.html there (expected the web/ folder)");
  }
  WebAssets assets;
  assets.dir_ = std::filesystem::absolute(dir, ec);
  return assets;
}

std::shared_ptr<const WebAsset> WebAssets::find(std::string_view path) const {
  if (!plain_asset_path(path)) return nullptr;
  if (dir_.empty()) {
    auto it = files_.find(path);
    return it == files_.end() ? nullptr : it->second;
  }
  const std::filesystem::path file = dir_ / std::filesystem::path(std::string(path));
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return nullptr;
  std::ifstream in(file, std::ios::binary);
  if (!in) return nullptr;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return make_asset(path, std::move(bytes));
}

std::vector<std::string> WebAssets::paths() const {
  std::vector<std::string> out;
  out.reserve(files_.size());
  for (const auto& [path, asset] : files_) out.push_back(path);
  return out;
}

}  // namespace haul::api
