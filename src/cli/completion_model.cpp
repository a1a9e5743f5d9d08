#include "cli/completion_model.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>

namespace haul::cli::completion {

namespace {

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

bool is_hidden(const std::string& group) { return group.empty(); }

OptionSpec describe_option(const CLI::Option& option) {
  OptionSpec spec;
  for (const std::string& name : option.get_snames()) spec.names.push_back("-" + name);
  for (const std::string& name : option.get_lnames()) spec.names.push_back("--" + name);
  spec.description = first_line(option.get_description());
  spec.takes_value = option.get_items_expected_max() > 0;
  spec.repeatable = spec.takes_value && option.get_expected_max() > 1;
  if (spec.takes_value) {
    const std::string type = option.get_type_name();
    spec.choices = choices_in_type_name(type);
    const std::string base = type.substr(0, type.find_first_of(": "));
    spec.numeric = base == "INT" || base == "UINT" || base == "FLOAT" || base == "NUMBER";
  }
  return spec;
}

// Adds the options of `app` to `command`; an option group (a nameless
// subcommand in CLI11) contributes its options to the command it is in.
void add_options(const CLI::App& app, CommandSpec& command) {
  for (const CLI::Option* option : app.get_options()) {
    if (is_hidden(option->get_group())) continue;
    if (option->nonpositional()) {
      command.options.push_back(describe_option(*option));
    } else if (option->get_positional()) {
      command.takes_arguments = true;
      for (std::string& choice : choices_in_type_name(option->get_type_name())) {
        command.argument_choices.push_back(std::move(choice));
      }
    }
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name().empty() && !sub->get_disabled()) add_options(*sub, command);
  }
}

void describe(const CLI::App& app, const std::vector<std::string>& path,
              std::vector<CommandSpec>& commands) {
  CommandSpec command;
  command.path = path;
  add_options(app, command);
  std::vector<const CLI::App*> children;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name().empty() || sub->get_disabled() || is_hidden(sub->get_group())) continue;
    children.push_back(sub);
    const std::string description = first_line(sub->get_description());
    command.subcommands.push_back({sub->get_name(), description, sub->get_name()});
    for (const std::string& alias : sub->get_aliases()) {
      command.subcommands.push_back({alias, description, sub->get_name()});
    }
  }
  commands.push_back(std::move(command));
  for (const CLI::App* sub : children) {
    std::vector<std::string> sub_path = path;
    sub_path.push_back(sub->get_name());
    describe(*sub, sub_path, commands);
  }
}

}  // namespace

std::vector<CommandSpec> describe_commands(const CLI::App& app, std::string_view program) {
  std::vector<CommandSpec> commands;
  describe(app, {std::string(program)}, commands);
  return commands;
}

std::vector<std::string> choices_in_type_name(std::string_view type_name) {
  std::vector<std::string> choices;
  std::size_t open = type_name.find('{');
  while (open != std::string_view::npos) {
    const std::size_t close = type_name.find('}', open);
    if (close == std::string_view::npos) break;
    std::string_view list = type_name.substr(open + 1, close - open - 1);
    while (!list.empty()) {
      const std::size_t comma = list.find(',');
      std::string_view item = list.substr(0, comma);
      item = item.substr(0, item.find("->"));  // a mapping: the key is what users type
      if (!item.empty() && std::find(choices.begin(), choices.end(), item) == choices.end()) {
        choices.emplace_back(item);
      }
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    open = type_name.find('{', close);
  }
  return choices;
}

bool is_plain_word(std::string_view word) {
  if (word.empty()) return false;
  return std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("._-+/@,=%^").find(c) != std::string_view::npos;
  });
}

std::vector<std::string> plain_words(const std::vector<std::string>& list) {
  std::vector<std::string> out;
  for (const std::string& word : list) {
    if (is_plain_word(word)) out.push_back(word);
  }
  return out;
}

std::string join(const std::vector<std::string>& path, std::string_view separator) {
  std::string out;
  for (const std::string& part : path) {
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

}  // namespace haul::cli::completion
