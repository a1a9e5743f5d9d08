// libFuzzer target for the models parsers that read bytes haul does not
// write: a ComfyUI install's extra_model_paths.yaml, and what the remote
// presence script prints on an instance (login banners and all).
//
// Input: one selector byte ('0' + n, taken mod 3), then:
//   0 extra_model_paths.yaml text -> parse_extra_model_paths
//   1 a query header, then the script's output -> parse_presence_output.
//     Header: one byte, files = b % 5; per file two bytes: candidates =
//     b0 % 4 ("/m/<file>/<k>"), b1 bit 0: a size is given (b1 >> 2),
//     bit 1: a SHA-256 is given (64 'a').
//   2 the same YAML written to a file -> read_extra_model_paths, which must
//     answer as parse_extra_model_paths does for the file's directory
// Invariants: every directory read from YAML is absolute, normalised and
// free of control characters but a tab; every FileCheck names one of its
// candidates and is consistent with what was asked; errors carry the
// documented codes.
// Built as a libFuzzer binary with HAUL_FUZZ and as a corpus replay otherwise
// (tests/fuzz/replay_main.cpp).
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "models/extra_model_paths.hpp"
#include "models/remote_presence.hpp"

namespace {

namespace fs = std::filesystem;
using namespace haul::models;

void check(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "model_paths_fuzz: %s (input %zu bytes)\n", what, input.size());
  std::abort();
}

std::optional<std::string> fake_env(std::string_view name) {
  if (name == "HOME") return std::string("/home/u");
  if (name == "MODELS") return std::string("/data/models");
  if (name == "REL") return std::string("rel/../dir");
  if (name == "EMPTY") return std::string();
  return std::nullopt;
}

bool has_control_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\t') || byte == 0x7F;
  });
}

// Absolute, normalised (no ".", "..", empty component or trailing '/'), clean.
bool is_clean_dir(const fs::path& dir) {
  const std::string& text = dir.native();
  return dir.is_absolute() && normal_path(text) == dir && !has_control_character(text);
}

void check_sections(const std::vector<ExtraPathsSection>& sections, std::string_view input) {
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const ExtraPathsSection& section = sections[i];
    for (std::size_t j = 0; j < i; ++j)
      check(sections[j].name != section.name, "a section listed twice", input);
    check(section.base_path.empty() || is_clean_dir(section.base_path), "base_path not clean",
          input);
    for (const ExtraPathsFolder& folder : section.folders) {
      for (std::size_t k = 0; k < folder.dirs.size(); ++k) {
        check(is_clean_dir(folder.dirs[k]), "a directory not absolute, normal and clean", input);
        for (std::size_t l = 0; l < k; ++l)
          check(folder.dirs[l] != folder.dirs[k], "a directory listed twice", input);
      }
    }
  }
}

void fuzz_yaml(std::string_view text) {
  const auto sections = parse_extra_model_paths(text, "/opt/ComfyUI", fake_env);
  if (!sections) {
    check(sections.error().code == haul::ErrorCode::kInvalidArgument, "yaml: wrong error code",
          text);
    check(!sections.error().message.empty(), "yaml: empty error", text);
    return;
  }
  check_sections(*sections, text);
}

// A private directory for the YAML file, removed when the process exits.
class ScratchDir {
 public:
  ScratchDir() {
    path_ = fs::temp_directory_path() / ("haul-fuzz-model-paths-" + std::to_string(::getpid()));
    fs::create_directories(path_);
    path_ = fs::canonical(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void fuzz_yaml_file(std::string_view text) {
  static const ScratchDir scratch;
  const fs::path& dir = scratch.path();
  const fs::path file = dir / "extra_model_paths.yaml";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    check(out.good(), "cannot write the temporary file", text);
  }
  const auto read = read_extra_model_paths(file, fake_env);
  const auto parsed = parse_extra_model_paths(text, dir, fake_env);
  check(read.has_value() == parsed.has_value(), "file and text disagree", text);
  if (read) {
    check(*read == *parsed, "file and text give other sections", text);
    check_sections(*read, text);
  } else {
    check(read.error().code == parsed.error().code, "file and text give other errors", text);
    check(read.error().message == file.string() + " " + parsed.error().message,
          "a file's error does not name the file", text);
  }
}

void fuzz_presence_output(std::string_view input) {
  const std::string_view whole = input;
  if (input.empty()) return;
  const std::size_t count = static_cast<unsigned char>(input[0]) % 5;
  input.remove_prefix(1);
  std::vector<RemoteFileQuery> files(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (input.size() < 2) return;
    const std::size_t candidates = static_cast<unsigned char>(input[0]) % 4u;
    const auto flags = static_cast<unsigned char>(input[1]);
    input.remove_prefix(2);
    for (std::size_t k = 0; k < candidates; ++k)
      files[i].candidates.push_back("/m/" + std::to_string(i) + "/" + std::to_string(k));
    if (flags & 1) files[i].size = flags >> 2;
    if (flags & 2) files[i].sha256 = std::string(64, 'a');
  }
  const auto checks = parse_presence_output(input, files);
  if (!checks) {
    check(checks.error().code == haul::ErrorCode::kProtocol, "presence: wrong error code", whole);
    return;
  }
  check(checks->size() == files.size(), "presence: one check per file", whole);
  for (std::size_t i = 0; i < files.size(); ++i) {
    const FileCheck& got = (*checks)[i];
    const RemoteFileQuery& want = files[i];
    check(got.state != Presence::kDownloading, "presence: downloading from the script", whole);
    if (want.candidates.empty()) {
      check(got.path.empty() && got.state == Presence::kMissing, "presence: no candidates", whole);
    } else {
      check(std::find(want.candidates.begin(), want.candidates.end(), got.path) !=
                want.candidates.end(),
            "presence: a path not asked about", whole);
    }
    if (got.state == Presence::kPresent) {
      check(!want.size || got.size_on_disk == *want.size, "presence: present with another size",
            whole);
      check(got.bytes_done == got.size_on_disk, "presence: present but not all done", whole);
      check(got.reason.empty(), "presence: present with a reason", whole);
    } else {
      check(!got.verified, "presence: verified but not present", whole);
    }
    if (got.verified) check(!want.sha256.empty(), "presence: verified without a hash", whole);
    if (got.state == Presence::kCorrupt || got.state == Presence::kPartial)
      check(!got.reason.empty(), "presence: no reason", whole);
    if (got.state == Presence::kPartial)
      check(got.bytes_done <= got.size_on_disk, "presence: more done than on disk", whole);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (static_cast<unsigned char>(data[0] - '0') % 3) {
    case 0:
      fuzz_yaml(input);
      break;
    case 1:
      fuzz_presence_output(input);
      break;
    default:
      fuzz_yaml_file(input);
      break;
  }
  return 0;
}
