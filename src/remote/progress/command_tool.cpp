#include "remote/progress/command_tool.hpp"

#include <algorithm>
#include <optional>

#include "base/text.hpp"
#include "remote/progress/progress_parser.hpp"
#include "remote/progress/text_fields.hpp"
#include "remote/shell_words.hpp"

namespace haul::remote::progress {

namespace {

// Nested `bash -c '...'` levels we look into; deeper is not a real command.
constexpr int kMaxShellDepth = 4;

bool is_assignment(std::string_view word) {
  const std::size_t eq = word.find('=');
  if (eq == 0 || eq == std::string_view::npos) return false;
  for (std::size_t i = 0; i < eq; ++i) {
    const char c = word[i];
    const bool ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Skips leading options of a wrapper such as sudo; `with_argument` lists the
// short options that take a separate argument.
std::size_t skip_options(const std::vector<std::string>& words, std::size_t i,
                         std::string_view with_argument) {
  while (i < words.size() && words[i].starts_with("-") && words[i] != "-") {
    if (words[i] == "--") return i + 1;
    const bool takes_argument = words[i].size() == 2 && !with_argument.empty() &&
                                with_argument.find(words[i][1]) != std::string_view::npos;
    i += takes_argument ? 2 : 1;
  }
  return i;
}

std::size_t skip_assignments(const std::vector<std::string>& words, std::size_t i) {
  while (i < words.size() && is_assignment(words[i])) ++i;
  return i;
}

// Where short option `letter` sits in a cluster such as "-qO-" or "-sSLo":
// the index in `word`, or npos. Only letters may precede it in the cluster.
std::size_t cluster_position(std::string_view word, char letter) {
  if (word.size() < 2 || word[0] != '-' || word[1] == '-') return std::string_view::npos;
  for (std::size_t p = 1; p < word.size(); ++p) {
    if (word[p] == letter) return p;
    const char c = word[p];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '#')) break;
  }
  return std::string_view::npos;
}

// The value of `-o VALUE`, `-oVALUE`, `-sSo VALUE`, `--output VALUE` or
// `--output=VALUE` (the last one given wins, as in the tools).
std::optional<std::string> option_value(const std::vector<std::string>& words, std::size_t from,
                                        char letter, std::string_view long_name) {
  std::optional<std::string> found;
  for (std::size_t i = from; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (!long_name.empty() && word == long_name) {
      if (i + 1 < words.size()) found = words[i + 1];
      ++i;
    } else if (!long_name.empty() && word.starts_with(std::string(long_name) + "=")) {
      found = word.substr(long_name.size() + 1);
    } else if (const std::size_t p = cluster_position(word, letter); p != std::string::npos) {
      if (p + 1 < word.size()) {
        found = word.substr(p + 1);
      } else if (i + 1 < words.size()) {
        found = words[i + 1];
        ++i;
      }
    }
  }
  return found;
}

bool has_flag(const std::vector<std::string>& words, std::size_t from, char letter,
              std::string_view long_name) {
  for (std::size_t i = from; i < words.size(); ++i) {
    if (words[i] == long_name || cluster_position(words[i], letter) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string url_file_name(const std::vector<std::string>& words, std::size_t from) {
  std::string name;
  for (std::size_t i = from; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (word.find("://") == std::string::npos) continue;
    const std::string_view path = std::string_view(word).substr(0, word.find_first_of("?#"));
    const std::size_t authority = path.find("://") + 3;
    if (path.find('/', authority) == std::string_view::npos) continue;
    name = std::string(base_name(path));
  }
  return name;
}

bool is_python(std::string_view program) {
  if (!program.starts_with("python")) return false;
  return std::all_of(program.begin() + 6, program.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

std::optional<CommandTool> detect(std::string_view shell_command, int depth);

std::optional<CommandTool> classify(const std::vector<std::string>& words, int depth) {
  std::size_t i = skip_assignments(words, 0);
  while (i < words.size()) {
    const std::string_view program = base_name(words[i]);
    if (program == "sudo") {
      i = skip_assignments(words, skip_options(words, i + 1, "ugpChDrtU"));
    } else if (program == "env") {
      i = skip_assignments(words, skip_options(words, i + 1, "uCS"));
    } else if (program == "timeout") {
      i = skip_options(words, i + 1, "sk") + 1;  // and the duration
    } else if (program == "nice" || program == "ionice") {
      i = skip_options(words, i + 1, "ncp");
    } else if (program == "stdbuf") {
      i = skip_options(words, i + 1, "ioe");
    } else if (program == "nohup" || program == "exec" || program == "time" ||
               program == "command" || program == "unbuffer") {
      i = skip_options(words, i + 1, "");
    } else {
      break;
    }
  }
  if (i >= words.size()) return std::nullopt;
  const std::string_view program = base_name(words[i]);
  const std::size_t args = i + 1;
  CommandTool result;
  if (program == "wget") {
    result.tool = Tool::kWget;
    const auto name = option_value(words, args, 'O', "--output-document");
    if (name && *name != "-") result.output_name = std::string(base_name(*name));
  } else if (program == "curl") {
    result.tool = Tool::kCurl;
    const auto name = option_value(words, args, 'o', "--output");
    if (name && *name != "-") {
      result.output_name = std::string(base_name(*name));
    } else if (has_flag(words, args, 'O', "--remote-name")) {
      result.output_name = url_file_name(words, args);
    }
  } else if (program == "aria2c") {
    result.tool = Tool::kAria2c;
    const auto name = option_value(words, args, 'o', "--out");
    result.output_name = name ? std::string(base_name(*name)) : url_file_name(words, args);
  } else if (program == "civitdl") {
    result.tool = Tool::kCivitdl;
  } else if (program == "hf" || program == "huggingface-cli") {
    const std::size_t sub = skip_options(words, args, "");
    if (sub >= words.size() || words[sub] != "download") return std::nullopt;
    result.tool = Tool::kTqdm;
  } else if (is_python(program)) {
    if (args >= words.size()) return std::nullopt;
    const auto module = option_value(words, args, 'm', "");
    result.tool = module && module->starts_with("civitdl") ? Tool::kCivitdl : Tool::kTqdm;
  } else if (program == "sh" || program == "bash" || program == "dash" || program == "zsh" ||
             program == "ash") {
    // bash -c 'script', bash -lc 'script': the script is the command.
    for (std::size_t k = args; k + 1 < words.size(); ++k) {
      const std::string& flag = words[k];
      if (!flag.starts_with("-") || flag.starts_with("--")) break;
      if (flag.find('c') != std::string::npos) {
        if (depth >= kMaxShellDepth) return std::nullopt;
        return detect(words[k + 1], depth + 1);
      }
    }
    return std::nullopt;
  } else {
    return std::nullopt;
  }
  // A name with control bytes (a quoted newline) is no file name to show.
  if (has_control_char(result.output_name)) {
    result.output_name.clear();
  }
  return result;
}

std::optional<CommandTool> detect(std::string_view shell_command, int depth) {
  const auto commands = split_simple_commands(shell_command);
  // The last tool of the line decides: walk from the end.
  // NOLINTNEXTLINE(modernize-loop-convert)
  for (auto it = commands.rbegin(); it != commands.rend(); ++it) {
    if (auto tool = classify(*it, depth)) return tool;
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::vector<std::string>> split_simple_commands(std::string_view shell_command) {
  std::vector<std::vector<std::string>> commands;
  for (const shell::Command& command : shell::split_commands(shell_command)) {
    if (command.words.empty()) continue;
    std::vector<std::string>& words = commands.emplace_back();
    for (const shell::Word& word : command.words) words.push_back(shell::spelled(word));
  }
  return commands;
}

CommandTool detect_tool(std::string_view shell_command) {
  return detect(shell_command, 0).value_or(CommandTool{});
}

}  // namespace haul::remote::progress
