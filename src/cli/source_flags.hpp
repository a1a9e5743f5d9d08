// Flags that say how hf, CivitAI and S3 sources are resolved; shared by
// `haul get` (resolved in process) and `haul add` (sent to the daemon).
#pragma once

#include <string>
#include <vector>

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace
class App;
}

namespace haul::cli {

struct SourceFlags {
  std::vector<std::string> include;  // hf: only files matching one of these
  std::vector<std::string> exclude;  // hf: not files matching any of these
  std::string file;                  // civitai: this file of the version, not the primary
  bool with_preview = false;         // civitai: metadata JSON and preview image beside it
  bool hf_cache = false;             // hf: into the HF cache layout, for huggingface_hub
};

// Declares --include, --exclude, --file, --with-preview and --hf-cache on `cmd`.
void add_source_flags(CLI::App& cmd, SourceFlags& flags);

}  // namespace haul::cli
