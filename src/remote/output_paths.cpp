// The files a remote command writes: read from its command line (the way
// wget, curl and aria2c name their output) and from what the tools print.
// See output_paths.hpp for what is and is not followed.
#include "remote/output_paths.hpp"

#include <algorithm>
#include <utility>

#include "base/text.hpp"
#include "remote/shell_words.hpp"

namespace haul::remote {
namespace {

using shell::Vars;

// `bash -c '...'` levels followed; deeper is no real command.
constexpr int kMaxDepth = 4;

std::string_view base_of(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 &&
        hex_digit(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// The name a tool gives a URL's download, or "" when it has none we can
// predict. wget keeps the query ("f.bin?x=1") and decodes %XX; aria2c drops
// the query and decodes; curl -O drops the query and keeps %XX. A path that
// ends in '/' is wget's and aria2c's index.html.
enum class Naming { kWget, kAria2c, kCurl };

std::string url_name(std::string_view url, Naming naming) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find('#'));
  const std::size_t slash = rest.find('/');
  const std::size_t question = rest.find('?');
  if (slash == std::string_view::npos || (question != std::string_view::npos && question < slash))
    return naming == Naming::kCurl ? "" : "index.html";
  std::string_view path = rest.substr(slash);
  std::string_view query;
  if (const std::size_t q = path.find('?'); q != std::string_view::npos) {
    query = path.substr(q);
    path = path.substr(0, q);
  }
  std::string name(base_of(path));
  if (naming == Naming::kCurl) return name;
  if (name.empty()) return "index.html";
  if (naming == Naming::kWget) name += query;
  name = percent_decode(name);
  if (name.find('/') != std::string::npos || has_control_char(name)) return "";
  return name;
}

// A word as a path: absolute, from the login directory (~, $HOME), or
// relative to `cwd` (nullopt: unknown).
std::optional<std::string> to_path(const std::optional<std::string>& word,
                                   const std::optional<std::string>& cwd) {
  if (!word || word->empty()) return std::nullopt;
  const std::size_t login = word->find(shell::kLoginDir);
  if (login == 0) {
    const std::string_view rest = std::string_view(*word).substr(1);
    if (!rest.empty() && rest.front() != '/') return std::nullopt;
    if (rest.find(shell::kLoginDir) != std::string_view::npos) return std::nullopt;
    return join_path("", rest.empty() ? "." : rest.substr(1));
  }
  if (login != std::string::npos) return std::nullopt;
  if (word->front() == '/') return join_path("", *word);
  if (!cwd) return std::nullopt;
  return join_path(*cwd, *word);
}

// What one shell (or subshell) knows while reading the line.
struct State {
  Vars vars;
  std::vector<std::string> exported;               // names passed on to a `bash -c` child
  std::optional<std::string> cwd = std::string();  // "" = the login directory
};

// An invocation's arguments sorted into options and the rest.
struct Args {
  std::vector<std::pair<std::string, std::optional<std::string>>> options;  // name, value
  std::vector<std::optional<std::string>> operands;
  bool unknown_option = false;  // an unknown word where an option could be

  bool has(std::initializer_list<std::string_view> names) const {
    return std::any_of(options.begin(), options.end(), [&](const auto& o) {
      return std::find(names.begin(), names.end(), o.first) != names.end();
    });
  }
  // The last value given for any of `names` (the tools take the last);
  // outer nullopt: not given; inner nullopt: given, value unknown.
  std::optional<std::optional<std::string>> last(
      std::initializer_list<std::string_view> names) const {
    std::optional<std::optional<std::string>> found;
    for (const auto& [name, value] : options) {
      if (std::find(names.begin(), names.end(), name) != names.end()) found = value;
    }
    return found;
  }
  std::vector<std::optional<std::string>> all(std::initializer_list<std::string_view> names) const {
    std::vector<std::optional<std::string>> found;
    for (const auto& [name, value] : options) {
      if (std::find(names.begin(), names.end(), name) != names.end()) found.push_back(value);
    }
    return found;
  }
};

// getopt-style reading: "-abc" clusters, "-oFILE", "-o FILE", "--name=v",
// "--name v" for the long options listed in `long_with_value`. Short options
// are reported as "-o", long ones as "--name".
Args read_args(const std::vector<std::optional<std::string>>& words, std::size_t from,
               std::string_view short_with_value,
               std::initializer_list<std::string_view> long_with_value) {
  Args args;
  for (std::size_t i = from; i < words.size(); ++i) {
    const auto& word = words[i];
    if (!word) {
      args.operands.emplace_back(std::nullopt);
      continue;
    }
    const std::string& w = *word;
    if (w == "--") {
      for (++i; i < words.size(); ++i) args.operands.push_back(words[i]);
      break;
    }
    if (w.starts_with("--")) {
      const std::size_t eq = w.find('=');
      const std::string name = w.substr(0, eq);
      if (eq != std::string::npos) {
        args.options.emplace_back(name, w.substr(eq + 1));
      } else if (std::find(long_with_value.begin(), long_with_value.end(), name) !=
                 long_with_value.end()) {
        args.options.emplace_back(name, i + 1 < words.size() ? words[i + 1] : std::nullopt);
        ++i;
      } else {
        args.options.emplace_back(name, std::nullopt);
      }
      continue;
    }
    if (w.size() < 2 || w[0] != '-') {
      args.operands.push_back(word);
      continue;
    }
    for (std::size_t p = 1; p < w.size(); ++p) {
      const std::string name = std::string("-") + w[p];
      if (short_with_value.find(w[p]) == std::string_view::npos) {
        args.options.emplace_back(name, std::nullopt);
        continue;
      }
      if (p + 1 < w.size()) {
        args.options.emplace_back(name, w.substr(p + 1));
      } else {
        args.options.emplace_back(name, i + 1 < words.size() ? words[i + 1] : std::nullopt);
        ++i;
      }
      break;
    }
  }
  return args;
}

std::vector<std::string> urls_of(const Args& args) {
  std::vector<std::string> urls;
  for (const auto& operand : args.operands) {
    if (operand && operand->find("://") != std::string::npos) urls.push_back(*operand);
  }
  return urls;
}

// Past a wrapper such as `sudo -u u`, `timeout -s KILL 1h`, `env -C dir A=b`:
// the index of the command it runs, or npos when a word is unknown. `cwd`
// follows env -C.
std::size_t skip_wrapper(const std::vector<std::optional<std::string>>& words, std::size_t at,
                         const std::string& program, std::optional<std::string>& cwd) {
  const std::string_view with_value = program == "sudo"  ? "ugpChDrtU"
                                      : program == "env" ? "uCS"
                                                         : "ncpioesk";
  std::size_t i = at + 1;
  for (; i < words.size(); ++i) {
    if (!words[i]) return std::string::npos;
    const std::string& w = *words[i];
    if (w == "--") {
      ++i;
      break;
    }
    if (w.size() < 2 || w.front() != '-') break;
    const bool separate_value = (w.size() == 2 && with_value.find(w[1]) != std::string::npos) ||
                                w == "--chdir" || w == "--unset" || w == "--signal" ||
                                w == "--kill-after";
    if (program == "env" && (w == "-C" || w == "--chdir") && i + 1 < words.size()) {
      cwd = to_path(words[i + 1], cwd);
    } else if (program == "env" && w.starts_with("-C") && w.size() > 2) {
      cwd = to_path(w.substr(2), cwd);
    } else if (program == "env" && w.starts_with("--chdir=")) {
      cwd = to_path(w.substr(8), cwd);
    }
    if (separate_value) ++i;
  }
  if (program == "timeout") ++i;  // the duration
  if (program == "env") {         // NAME=value words
    while (i < words.size() && words[i] && words[i]->find('=') != std::string::npos &&
           words[i]->front() != '=' && words[i]->find('/') > words[i]->find('='))
      ++i;
  }
  return i;
}

class Planner {
 public:
  explicit Planner(OutputPlan& plan) : plan_(plan) {}

  void line(std::string_view text, State state, int depth) {
    std::vector<State> saved;
    for (const shell::Command& command : shell::split_commands(text)) {
      if (command.words.empty()) {  // a subshell's parenthesis
        if (command.after == "(") saved.push_back(state);
        if (command.after == ")" && !saved.empty()) {
          state = std::move(saved.back());
          saved.pop_back();
        }
        continue;
      }
      // In a pipeline or in the background, a cd or an assignment does not
      // outlive the command.
      const bool lasting = command.before != "|" && command.after != "|" && command.after != "&";
      State local = state;
      run(command.words, lasting ? state : local, depth);
    }
  }

 private:
  void add(const std::optional<std::string>& path) {
    if (!path || path->empty()) return;
    if (std::find(plan_.files.begin(), plan_.files.end(), *path) == plan_.files.end())
      plan_.files.push_back(*path);
  }

  void tool_ran(const std::optional<std::string>& cwd) {
    if (!seen_tool_) {
      plan_.tool_dir = cwd;
      seen_tool_ = true;
    } else if (plan_.tool_dir != cwd) {
      plan_.tool_dir.reset();
    }
  }

  void run(const std::vector<shell::Word>& raw, State& state, int depth) {
    std::size_t i = 0;
    // Leading assignments: alone, they set variables; before a command, they
    // only reach its environment (its words were expanded before them).
    std::vector<std::pair<std::string, shell::Word>> assignments;
    while (i < raw.size()) {
      auto assignment = shell::as_assignment(raw[i]);
      if (!assignment) break;
      assignments.push_back(std::move(*assignment));
      ++i;
    }
    if (i == raw.size()) {
      for (auto& [name, value] : assignments) state.vars[name] = shell::expand(value, state.vars);
      return;
    }
    std::vector<std::optional<std::string>> words;
    for (std::size_t k = i; k < raw.size(); ++k) {
      auto value = shell::expand(raw[k], state.vars);
      // A glob in a URL matches nothing and stays; in a path it might not.
      if (value && raw[k].glob && value->find("://") == std::string::npos) value.reset();
      words.push_back(std::move(value));
    }
    command(words, state, depth, raw, i);
  }

  void command(const std::vector<std::optional<std::string>>& words, State& state, int depth,
               const std::vector<shell::Word>& raw, std::size_t raw_from) {
    std::optional<std::string> cwd = state.cwd;
    std::size_t i = 0;
    while (i < words.size()) {
      if (!words[i]) return;
      const std::string program(base_of(*words[i]));
      if (program == "{" || program == "!" || program == "then" || program == "do" ||
          program == "else" || program == "if" || program == "elif" || program == "while" ||
          program == "until" || program == "nohup" || program == "exec" || program == "command" ||
          program == "time" || program == "unbuffer" || program == "setsid") {
        ++i;
      } else if (program == "sudo" || program == "nice" || program == "ionice" ||
                 program == "stdbuf" || program == "timeout" || program == "env") {
        i = skip_wrapper(words, i, program, cwd);
        if (i == std::string::npos) return;
      } else {
        break;
      }
    }
    if (i >= words.size() || !words[i]) return;
    const std::string program(base_of(*words[i]));
    if (program == "cd" || program == "pushd") {
      const Args args = read_args(words, i + 1, "", {});
      if (args.operands.empty()) {
        state.cwd = std::string();
      } else if (args.operands.front() == std::optional<std::string>("-")) {
        state.cwd.reset();
      } else {
        state.cwd = to_path(args.operands.front(), state.cwd);
      }
      if (program == "pushd") state.cwd.reset();
    } else if (program == "popd") {
      state.cwd.reset();
    } else if (program == "export" || program == "readonly" || program == "local" ||
               program == "declare" || program == "typeset") {
      for (std::size_t k = raw_from + i + 1; k < raw_from + words.size(); ++k) {
        if (auto assignment = shell::as_assignment(raw[k])) {
          state.vars[assignment->first] = shell::expand(assignment->second, state.vars);
          if (program == "export") state.exported.push_back(assignment->first);
        } else if (words[k - raw_from] && program == "export") {
          state.exported.push_back(*words[k - raw_from]);
        }
      }
    } else if (program == "unset") {
      for (std::size_t k = i + 1; k < words.size(); ++k) {
        if (words[k]) state.vars[*words[k]] = std::nullopt;
      }
    } else if (program == "sh" || program == "bash" || program == "dash" || program == "zsh" ||
               program == "ash") {
      shell_c(words, i + 1, state, cwd, depth);
    } else if (program == "wget") {
      tool_ran(cwd);
      wget(read_args(words, i + 1, "eoaiBtOTwQPUlARDIXn",
                     {"--output-document", "--directory-prefix", "--input-file", "--output-file",
                      "--append-output", "--tries", "--timeout", "--wait", "--user-agent",
                      "--header", "--user", "--password", "--level", "--execute"}),
           cwd);
    } else if (program == "curl") {
      tool_ran(cwd);
      curl(read_args(words, i + 1, "bcCdDeEFHKmoPQrtTuUwxXyYz",
                     {"--output",       "--output-dir",     "--url",
                      "--header",       "--user",           "--user-agent",
                      "--referer",      "--data",           "--data-binary",
                      "--data-raw",     "--data-urlencode", "--form",
                      "--request",      "--proxy",          "--config",
                      "--continue-at",  "--max-time",       "--connect-timeout",
                      "--retry",        "--retry-delay",    "--retry-max-time",
                      "--limit-rate",   "--speed-limit",    "--speed-time",
                      "--write-out",    "--range",          "--cookie",
                      "--cookie-jar",   "--cacert",         "--cert",
                      "--key",          "--dump-header",    "--aws-sigv4",
                      "--max-filesize", "--resolve",        "--connect-to",
                      "--interface"}),
           cwd);
    } else if (program == "aria2c") {
      tool_ran(cwd);
      aria2c(read_args(words, i + 1, "dijlosxkmtUTMuC",
                       {"--dir",
                        "--out",
                        "--input-file",
                        "--log",
                        "--split",
                        "--max-connection-per-server",
                        "--min-split-size",
                        "--max-concurrent-downloads",
                        "--timeout",
                        "--max-tries",
                        "--user-agent",
                        "--header",
                        "--checksum",
                        "--max-download-limit",
                        "--max-overall-download-limit",
                        "--load-cookies",
                        "--save-session",
                        "--file-allocation",
                        "--summary-interval",
                        "--console-log-level",
                        "--log-level",
                        "--connect-timeout",
                        "--retry-wait",
                        "--referer",
                        "--all-proxy",
                        "--torrent-file",
                        "--metalink-file",
                        "--auto-save-interval",
                        "--lowest-speed-limit"}),
             cwd);
    }
  }

  // `bash -c 'script'`, `sh -lc 'script' name args`: the script, read in a
  // child shell that has the exported variables and the same directory.
  void shell_c(const std::vector<std::optional<std::string>>& words, std::size_t from,
               const State& state, const std::optional<std::string>& cwd, int depth) {
    if (depth >= kMaxDepth) return;
    for (std::size_t k = from; k + 1 < words.size(); ++k) {
      if (!words[k] || !words[k]->starts_with("-") || words[k]->starts_with("--")) return;
      if (words[k]->find('c') == std::string::npos) continue;
      if (!words[k + 1]) return;
      State child;
      child.cwd = cwd;
      for (const std::string& name : state.exported) {
        if (auto it = state.vars.find(name); it != state.vars.end()) child.vars[name] = it->second;
      }
      child.exported = state.exported;
      line(*words[k + 1], std::move(child), depth + 1);
      return;
    }
  }

  void wget(const Args& args, const std::optional<std::string>& cwd) {
    if (auto out = args.last({"-O", "--output-document"})) {
      if (*out != std::optional<std::string>("-")) add(to_path(*out, cwd));
      return;
    }
    // Names chosen by the server or a recursion: only the output tells.
    if (args.has({"-i", "--input-file", "-r", "--recursive", "-m", "--mirror", "-x",
                  "--force-directories", "-p", "--page-requisites", "--content-disposition",
                  "--trust-server-names"}))
      return;
    std::optional<std::string> dir = cwd;
    if (auto prefix = args.last({"-P", "--directory-prefix"})) dir = to_path(*prefix, cwd);
    for (const std::string& url : urls_of(args)) {
      const std::string name = url_name(url, Naming::kWget);
      if (!name.empty()) add(to_path(name, dir));
    }
  }

  void curl(const Args& args, const std::optional<std::string>& cwd) {
    std::optional<std::string> dir = cwd;
    if (auto out_dir = args.last({"--output-dir"})) dir = to_path(*out_dir, cwd);
    for (const auto& out : args.all({"-o", "--output"})) {
      if (out != std::optional<std::string>("-")) add(to_path(out, dir));
    }
    const bool remote_names = args.has({"-O", "--remote-name", "--remote-name-all"});
    if (!remote_names || args.has({"-J", "--remote-header-name"})) return;
    for (const std::string& url : urls_of(args)) {
      const std::string name = url_name(url, Naming::kCurl);
      if (!name.empty()) add(to_path(name, dir));
    }
  }

  void aria2c(const Args& args, const std::optional<std::string>& cwd) {
    if (args.has({"-i", "--input-file", "-T", "--torrent-file", "-M", "--metalink-file"})) return;
    std::optional<std::string> dir = cwd;
    if (auto given = args.last({"-d", "--dir"})) dir = to_path(*given, cwd);
    std::vector<std::string> names;
    if (auto out = args.last({"-o", "--out"})) {
      // `-o ~/x` reaches aria2c as the login directory's path; a marker or
      // control character here is nothing we can name.
      if (!*out || has_control_char(**out)) return;
      names.push_back(**out);
    } else {
      const std::vector<std::string> urls = urls_of(args);
      // Without -Z, several URLs are mirrors of one file.
      const bool separate = args.has({"-Z", "--force-sequential"});
      for (std::size_t k = 0; k < urls.size() && (separate || k == 0); ++k)
        names.push_back(url_name(urls[k], Naming::kAria2c));
    }
    for (const std::string& name : names) {
      if (name.empty() || !dir) continue;
      // -o is always inside -d, even when it starts with '/'.
      const std::string path = join_path(*dir, "./" + name);
      add(path);
      add(path + ".aria2");
    }
  }

  OutputPlan& plan_;
  bool seen_tool_ = false;
};

}  // namespace

std::string join_path(std::string_view dir, std::string_view path) {
  std::string joined = !path.empty() && path.front() == '/' ? std::string(path)
                       : dir.empty()                        ? std::string(path)
                                     : std::string(dir) + "/" + std::string(path);
  const bool absolute = !joined.empty() && joined.front() == '/';
  std::string out = absolute ? "/" : "";
  std::size_t start = 0;
  while (start <= joined.size()) {
    std::size_t end = joined.find('/', start);
    if (end == std::string::npos) end = joined.size();
    const std::string_view part(joined.data() + start, end - start);
    if (!part.empty() && part != ".") {
      if (!out.empty() && out.back() != '/') out += '/';
      out += part;
    }
    start = end + 1;
  }
  return out;
}

OutputPlan plan_outputs(std::string_view command, const std::map<std::string, std::string>& vars) {
  OutputPlan plan;
  State state;
  for (const auto& [name, value] : vars) {
    state.vars[name] = value;
    state.exported.push_back(name);
  }
  Planner(plan).line(command, std::move(state), 0);
  return plan;
}

}  // namespace haul::remote
