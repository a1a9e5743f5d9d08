// Shell completion for haul: `haul completion bash|zsh` prints a script
// generated from the CLI11 definition itself (subcommands at every depth,
// their options, the values CLI11 knows for an option), so it stays right as
// commands and options are added.
#pragma once

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's
class App;
}

namespace haul::cli {

enum class Shell { kBash, kZsh };

// "bash" or "zsh". Errors: kInvalidArgument naming the supported shells.
Result<Shell> parse_shell(std::string_view name);

// The completion script for `program`, whose command line `app` defines.
// Hidden options and subcommands (empty group) are left out; an option's
// values are offered when a validator lists them (CLI::IsMember,
// CLI::CheckedTransformer), files otherwise. Pure: reads `app` only.
std::string completion_script(const CLI::App& app, Shell shell, std::string_view program);

// `haul completion SHELL`: registers itself on `root` when constructed; once
// `root` has parsed the command line, run() prints the script for the whole
// of `root`, including commands registered after this one.
class CompletionCommand {
 public:
  explicit CompletionCommand(CLI::App& root);
  bool parsed() const;
  // Prints the script on stdout. Exit code 0, or 2 for an unknown shell.
  int run() const;

 private:
  const CLI::App& root_;
  CLI::App* command_;
  std::string shell_;
};

}  // namespace haul::cli
