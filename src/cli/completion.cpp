#include "cli/completion.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/completion_model.hpp"

namespace haul::cli {

Result<Shell> parse_shell(std::string_view name) {
  if (name == "bash") return Shell::kBash;
  if (name == "zsh") return Shell::kZsh;
  return fail(ErrorCode::kInvalidArgument,
              "no completion for shell '" + std::string(name) + "': bash or zsh");
}

std::string completion_script(const CLI::App& app, Shell shell, std::string_view program) {
  const auto commands = completion::describe_commands(app, program);
  return shell == Shell::kBash ? completion::bash_script(commands, program)
                               : completion::zsh_script(commands, program);
}

CompletionCommand::CompletionCommand(CLI::App& root)
    : root_(root),
      command_(root.add_subcommand("completion", "Print the completion script for bash or zsh")) {
  command_->add_option("shell", shell_, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
}

bool CompletionCommand::parsed() const { return command_->parsed(); }

int CompletionCommand::run() const {
  auto shell = parse_shell(shell_);
  if (!shell) {
    std::fprintf(stderr, "haul completion: %s\n", shell.error().message.c_str());
    return 2;
  }
  std::fputs(completion_script(root_, *shell, "haul").c_str(), stdout);
  return 0;
}

}  // namespace haul::cli
