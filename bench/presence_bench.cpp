// Presence benchmark (issue 12: "10,000 entries checked in under 1 s without
// verification"): builds a models tree of N entries spread over several
// group folders, a models root's alias folders (clip/, unet/), a ComfyUI
// install's models/ folder and an extra_model_paths.yaml directory, with a
// share missing and some of those half-downloaded (.part), then times
// PresenceChecker::check_models without verification.
//
//   haul_models_bench [--dir DIR] [--entries N] [--runs R]
//
// Prints a table of the runs and one machine-readable line for
// bench/presence.sh:
//   RESULT entries=N present=P first_s=X median_s=Y target_s=1 ratio=Z
// (ratio = target / median: above 1 meets the target). The tree is kept in
// DIR between runs and rebuilt when N changes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/folders.hpp"
#include "models/presence.hpp"

namespace {

namespace fs = std::filesystem;
using haul::models::Model;
using haul::models::ModelFile;
using haul::models::Presence;

constexpr std::string_view kContent = "0123456789abcdef";  // every file's bytes
constexpr double kTargetSeconds = 1.0;

struct Options {
  fs::path dir = "/var/tmp/haul-bench/presence";
  std::size_t entries = 10000;
  int runs = 7;
};

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: haul_models_bench [--dir DIR] [--entries N] [--runs R]\n");
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) usage();
    const char* value = argv[++i];
    if (arg == "--dir") {
      options.dir = value;
    } else if (arg == "--entries") {
      options.entries = std::strtoul(value, nullptr, 10);
    } else if (arg == "--runs") {
      options.runs = std::max(1, std::atoi(value));
    } else {
      usage();
    }
  }
  if (options.entries == 0) usage();
  return options;
}

void write_file(const fs::path& path, std::string_view content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) {
    std::fprintf(stderr, "presence_bench: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

const std::vector<std::string> kGroups = {
    "checkpoints",      "loras",          "vae",        "text_encoders",
    "diffusion_models", "upscale_models", "controlnet", "clip_vision"};

// Where entry i lives, by i % 10: 0-4 ROOT/<group>, 5 the group's alias
// folder in the root (clip/, unet/, t2i_adapter/) or ROOT/<group>, 6 the
// ComfyUI install, 7 the extra_model_paths.yaml directory, 8-9 missing
// (one in four of those has a .part).
std::vector<Model> build_tree(const Options& options) {
  const fs::path root = options.dir / "models";
  const fs::path comfy = options.dir / "ComfyUI";
  const fs::path shared = options.dir / "shared";
  const fs::path stamp = options.dir / ("built-" + std::to_string(options.entries));
  const bool built = fs::exists(stamp);
  if (!built) {
    std::fprintf(stderr, "presence_bench: building %zu entries in %s\n", options.entries,
                 options.dir.c_str());
    fs::remove_all(options.dir);
    write_file(
        comfy / "extra_model_paths.yaml", "shared:\n  base_path: ../shared\n" + [] {
          std::string keys;
          for (const std::string& group : kGroups) keys += "  " + group + ": " + group + "\n";
          return keys;
        }());
  }
  std::vector<Model> models;
  models.reserve(options.entries);
  for (std::size_t i = 0; i < options.entries; ++i) {
    const std::string& group = kGroups[i % kGroups.size()];
    char name[64];
    std::snprintf(name, sizeof name, "model-%06zu.safetensors", i);
    // Some files below a subfolder of the group, as ComfyUI users sort them.
    const std::string path = (i % 3 == 0 ? "sdxl/" : "") + std::string(name);
    models.push_back(Model{
        "m" + std::to_string(i),
        name,
        group,
        {ModelFile{"https://example.com/" + std::string(name), path, kContent.size(), "", {}}}});
    if (built) continue;
    const std::vector<std::string> dirs = haul::models::group_dirs(group);
    switch ((i / kGroups.size()) % 10) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
        write_file(root / group / path, kContent);
        break;
      case 5:
        write_file(root / dirs.back() / path, kContent);
        break;
      case 6:
        write_file(comfy / "models" / group / path, kContent);
        break;
      case 7:
        write_file(shared / group / path, kContent);
        break;
      default:
        if (i % 4 == 0) write_file(root / group / (path + ".part"), kContent.substr(0, 5));
        break;
    }
  }
  if (!built) write_file(stamp, "");
  return models;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  const std::vector<Model> models = build_tree(options);
  auto folders =
      haul::models::load_model_folders({options.dir / "models"}, options.dir / "ComfyUI", {},
                                       [](std::string_view name) -> std::optional<std::string> {
                                         const char* value = std::getenv(std::string(name).c_str());
                                         if (!value) return std::nullopt;
                                         return std::string(value);
                                       });
  if (!folders) {
    std::fprintf(stderr, "presence_bench: %s\n", folders.error().message.c_str());
    return 1;
  }
  const haul::models::PresenceChecker checker(*folders);

  std::vector<double> seconds;
  std::map<Presence, std::size_t> states;
  std::printf("run  seconds  entries/s\n");
  for (int run = 0; run < options.runs; ++run) {
    const auto start = std::chrono::steady_clock::now();
    const auto checks = checker.check_models(models, false);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    seconds.push_back(took.count());
    std::printf("%3d  %7.4f  %9.0f\n", run + 1, took.count(),
                static_cast<double>(models.size()) / took.count());
    if (run == 0) {
      for (const auto& check : checks) ++states[check.state];
    }
  }
  const double first = seconds.front();
  std::vector<double> sorted = seconds;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];

  std::printf("states:");
  for (const auto& [state, count] : states) {
    std::printf(" %s %zu", std::string(haul::models::presence_name(state)).c_str(), count);
  }
  std::printf("\n%zu entries: first run %.4f s, median of %d %.4f s; target %.0f s, ratio %.1f\n",
              models.size(), first, options.runs, median, kTargetSeconds, kTargetSeconds / median);
  std::printf(
      "RESULT entries=%zu present=%zu first_s=%.4f median_s=%.4f target_s=%.0f ratio=%.1f\n",
      models.size(), states[Presence::kPresent], first, median, kTargetSeconds,
      kTargetSeconds / median);
  return 0;
}
