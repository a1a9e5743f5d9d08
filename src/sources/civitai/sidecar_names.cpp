#include "sources/civitai/sidecar_names.hpp"

#include "base/text.hpp"

namespace haul::sources::civitai {
namespace {

// "dir/a.v2.safetensors" -> "dir/a.v2"; the dot must be inside the last
// component and not its first character ("dir/.hidden" stays whole).
std::string_view stem_of(std::string_view name) {
  const std::size_t slash = name.rfind('/');
  const std::size_t base = slash == std::string_view::npos ? 0 : slash + 1;
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot <= base) return name;
  return name.substr(0, dot);
}

// Lower-cased extension of the URL's last path segment, "" when it has none.
std::string url_extension(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  const std::size_t slash = url.rfind('/');
  const std::string_view segment = slash == std::string_view::npos ? url : url.substr(slash + 1);
  const std::size_t dot = segment.rfind('.');
  if (dot == std::string_view::npos) return {};
  return to_lower(segment.substr(dot + 1));
}

bool is_still_image_extension(std::string_view ext) {
  // A1111's default_allowed_preview_extensions.
  for (std::string_view allowed : {"png", "jpg", "jpeg", "webp", "gif"}) {
    if (ext == allowed) return true;
  }
  return false;
}

bool is_video_or_audio_extension(std::string_view ext) {
  for (std::string_view media :
       {"mp4", "webm", "mov", "m4v", "mkv", "avi", "mp3", "wav", "ogg", "flac"}) {
    if (ext == media) return true;
  }
  return false;
}

}  // namespace

std::string metadata_sidecar_name(std::string_view model_file_name) {
  return std::string(stem_of(model_file_name)) + ".civitai.info";
}

std::string preview_sidecar_name(std::string_view model_file_name, std::string_view image_url) {
  std::string ext = url_extension(image_url);
  if (!is_still_image_extension(ext)) ext = "jpeg";
  return std::string(stem_of(model_file_name)) + ".preview." + ext;
}

std::optional<std::string> choose_preview_image(const std::vector<std::string>& image_urls) {
  for (const std::string& url : image_urls) {
    if (url.empty() || is_video_or_audio_extension(url_extension(url))) continue;
    return url;
  }
  return std::nullopt;
}

}  // namespace haul::sources::civitai
