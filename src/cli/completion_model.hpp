// What the completion scripts are written from: haul's command tree as read
// from CLI11, flattened to one entry per command path. Internal to
// completion*.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's
class App;
}

namespace haul::cli::completion {

struct OptionSpec {
  std::vector<std::string> names;  // "-d", "--dir"
  std::string description;         // first line
  bool takes_value = false;
  bool repeatable = false;           // may be given more than once (a vector option)
  std::vector<std::string> choices;  // the values CLI11 accepts, when it lists them
  bool numeric = false;              // an INT, UINT or FLOAT: nothing to complete
};

struct SubcommandSpec {
  std::string name;  // what is typed: the name or an alias
  std::string description;
  std::string command;  // the name it stands for (== name unless an alias)
};

struct CommandSpec {
  std::vector<std::string> path;  // {"haul", "instances", "add"}
  std::vector<OptionSpec> options;
  std::vector<SubcommandSpec> subcommands;    // names and aliases
  bool takes_arguments = false;               // has positionals
  std::vector<std::string> argument_choices;  // the values CLI11 lists for them
};

// Every command of `app` (itself first, then depth-first), named from `program`.
std::vector<CommandSpec> describe_commands(const CLI::App& app, std::string_view program);

// Values listed in a CLI11 type name: "TEXT:{table,json,simple}" ->
// table, json, simple; "{a->1,b->2}" -> a, b. Empty when none are listed.
std::vector<std::string> choices_in_type_name(std::string_view type_name);

// True when `word` can go into either script without quoting: letters,
// digits and . _ - + / @ , = % ^ only.
bool is_plain_word(std::string_view word);

// The words of `list` that are plain (the others are left out of scripts).
std::vector<std::string> plain_words(const std::vector<std::string>& list);

// The scripts themselves (completion_bash.cpp, completion_zsh.cpp), from
// describe_commands().
std::string bash_script(const std::vector<CommandSpec>& commands, std::string_view program);
std::string zsh_script(const std::vector<CommandSpec>& commands, std::string_view program);

// `path` joined by `separator`.
std::string join(const std::vector<std::string>& path, std::string_view separator);

}  // namespace haul::cli::completion
