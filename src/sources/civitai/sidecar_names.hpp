// Names of the files written next to a CivitAI download so model managers
// pick up its metadata and preview, and the choice of the preview image.
//
// Convention: the A1111 Civitai Helper's, "<stem>.civitai.info" holding the
// model-version JSON of /api/v1/model-versions/{vid} (CivitaiVersion::raw_json)
// and "<stem>.preview.<ext>" (butaixianran/Stable-Diffusion-Webui-Civitai-Helper:
// info file f"{base}{civitai.suffix}{info_ext}" with suffix ".civitai" and
// info_ext ".info"). It is the most widely read pair: A1111/Forge's extra
// networks find "<stem>.preview.{png,jpg,jpeg,webp,gif}"; ComfyUI-Lora-Manager's
// model scanner imports "<stem>.civitai.info" (the version JSON, files[]
// included) when it has no metadata of its own and finds ".preview.*" images;
// Stability Matrix reads "<stem>.preview.<ext>" too (its "<stem>.cm-info.json"
// is read by Stability Matrix alone). Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace haul::sources::civitai {

// "<stem>.civitai.info": "waiIllustriousSDXL_v160.safetensors" ->
// "waiIllustriousSDXL_v160.civitai.info". The stem drops the last extension
// only ("a.v2.safetensors" -> "a.v2"); a name without one keeps all of it.
// Any directory part of `model_file_name` is kept.
std::string metadata_sidecar_name(std::string_view model_file_name);

// "<stem>.preview.<ext>", <ext> taken from the image URL's last path segment
// when it is png, jpg, jpeg, webp or gif (lower-cased), else "jpeg" (what
// CivitAI's image CDN serves stills as).
std::string preview_sidecar_name(std::string_view model_file_name, std::string_view image_url);

// The first URL that is a still image: URLs whose last path segment ends in a
// video or audio extension (.mp4, .webm, .mov, .m4v, .mkv, .avi, .mp3, .wav,
// .ogg, .flac) are skipped; CivitAI's CDN names every media URL by its type
// (.jpeg images, .mp4 videos, .mp3 audio). std::nullopt when none is left.
std::optional<std::string> choose_preview_image(const std::vector<std::string>& image_urls);

}  // namespace haul::sources::civitai
