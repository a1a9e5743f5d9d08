#include "cli/source_flags.hpp"

#include <CLI/CLI.hpp>

namespace haul::cli {

void add_source_flags(CLI::App& cmd, SourceFlags& flags) {
  cmd.add_option("--include", flags.include,
                 "hf: only files matching this pattern (repeatable; * also crosses /)");
  cmd.add_option("--exclude", flags.exclude, "hf: skip files matching this pattern (repeatable)");
  cmd.add_option("--file", flags.file, "civitai: download this file of the version by name");
  cmd.add_flag("--with-preview", flags.with_preview,
               "civitai: also write NAME.civitai.info and a preview image beside the model");
  cmd.add_flag("--hf-cache", flags.hf_cache,
               "hf: write into the Hugging Face cache (HF_HUB_CACHE) so huggingface_hub finds it");
}

}  // namespace haul::cli
