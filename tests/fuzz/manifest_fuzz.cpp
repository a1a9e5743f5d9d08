// libFuzzer target for the manifest readers (src/models/manifest.hpp): a
// manifest may be posted to the daemon by anyone allowed to use its API, and
// a ComfyUI workflow comes from wherever the user found it. read_manifest
// must never crash, and whatever it accepts must be safe to act on.
//
// Input: one selector byte, then the text. Selector ('0' + n, taken mod 5):
//   0 read_manifest (detection)   1 haul   2 seed 002   3 ComfyUI workflow
//   4 ComfyUI-Manager model-list.json
// Invariants of an accepted manifest: groups and paths are safe relative
// paths (absolute, with no "..", only for seed 002's localPath), symlinks
// likewise (relative or absolute), sha256 digests are "" or 64 lower-case hex
// digits, sources are "" or haul sources, no string holds a control
// character, ids are unique and non-empty, every model has a file, no two
// files share a destination. An error is one line starting with the label.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "base/text.hpp"
#include "models/manifest.hpp"
#include "sources/source_kind.hpp"

namespace {

using haul::models::Manifest;
using haul::models::ManifestFormat;
using haul::models::Model;

constexpr std::string_view kLabel = "fuzz.json";

void check(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "manifest_fuzz: %s (input %zu bytes)\n", what, input.size());
  std::abort();
}

bool is_lower_hex_digest(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A safe relative path, or with `absolute_ok` also "/" followed by one.
bool is_safe_path(std::string_view path, bool absolute_ok) {
  if (absolute_ok && !path.empty() && path.front() == '/') path.remove_prefix(1);
  return haul::is_safe_relative_path(path) && !haul::has_control_char(path);
}

void check_model(const Model& model, ManifestFormat format, std::string_view input) {
  check(!model.id.empty() && !haul::has_control_char(model.id), "bad id", input);
  check(!model.name.empty() && !haul::has_control_char(model.name), "bad name", input);
  check(is_safe_path(model.group, false), "group is not a safe relative folder", input);
  check(!model.files.empty(), "model without files", input);
  for (const auto& file : model.files) {
    check(is_safe_path(file.path, format == ManifestFormat::kSeed002),
          "path is not a safe relative path", input);
    check(file.sha256.empty() || is_lower_hex_digest(file.sha256),
          "sha256 is not 64 lower-case hex digits", input);
    check(!haul::has_control_char(file.source), "source holds a control character", input);
    if (format == ManifestFormat::kHaul || format == ManifestFormat::kSeed002 ||
        format == ManifestFormat::kManagerModelList)
      check(!file.source.empty(), "a file of this format without a source", input);
    check(file.source.empty() ||
              haul::sources::classify_source(file.source) != haul::sources::SourceKind::kUnknown,
          "source is not a haul source", input);
    for (const auto& link : file.symlinks)
      check(is_safe_path(link, true), "symlink is not a safe path", input);
  }
}

void check_manifest(const Manifest& manifest, std::string_view input) {
  std::set<std::string> ids;
  std::set<std::string> destinations;
  for (const Model& model : manifest.models) {
    check_model(model, manifest.format, input);
    check(ids.insert(model.id).second, "duplicate id accepted", input);
    for (const auto& file : model.files) {
      const std::string destination =
          file.path.front() == '/' ? file.path : model.group + '/' + file.path;
      check(destinations.insert(destination).second, "duplicate destination accepted", input);
    }
  }
  check(!haul::has_control_char(manifest.name), "manifest name holds a control character", input);
  for (const auto& notice : manifest.notices) {
    check(notice.where.find('\n') == std::string::npos, "notice where spans lines", input);
    check(notice.message.find('\n') == std::string::npos, "notice spans lines", input);
  }
}

void check_error(const haul::Error& error, std::string_view input) {
  check(error.code == haul::ErrorCode::kInvalidArgument, "error is not kInvalidArgument", input);
  check(error.message.find('\n') == std::string::npos, "error spans lines", input);
  check(error.message.starts_with(std::string(kLabel) + ": "), "error does not name the file",
        input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned selector = static_cast<unsigned char>(data[0] - '0') % 5;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  constexpr ManifestFormat kFormats[] = {ManifestFormat::kHaul, ManifestFormat::kSeed002,
                                         ManifestFormat::kComfyUiWorkflow,
                                         ManifestFormat::kManagerModelList};
  const auto read = selector == 0
                        ? haul::models::read_manifest(text, kLabel)
                        : haul::models::read_manifest_as(kFormats[selector - 1], text, kLabel);
  if (!read) {
    check_error(read.error(), text);
    return 0;
  }
  check_manifest(*read, text);
  if (selector == 0) {
    // Detection picks a reader; reading as that format gives the same models.
    const auto again = haul::models::read_manifest_as(read->format, text, kLabel);
    check(again && again->models == read->models, "detected format reads differently", text);
  }
  return 0;
}
