#include "support/shell_completion.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace haul::testing {

namespace {

namespace fs = std::filesystem;

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A file holding `text`, removed with its directory when the value goes.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& text) {
    std::string pattern = (fs::temp_directory_path() / "haul-shell-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
    std::ofstream(path()) << text;
  }
  ~ScratchFile() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  fs::path path() const { return dir_ / "driver"; }

 private:
  fs::path dir_;
};

struct Run {
  int exit_code = -1;
  std::string out;
};

// Runs `command` with /bin/sh, stdin from /dev/null, stderr into out.
Run run(const std::string& command) {
  Run result;
  FILE* pipe = ::popen((command + " </dev/null 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) {
    result.out.append(buffer, n);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

std::optional<std::vector<std::string>> failed(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return std::nullopt;
}

// Interactive zsh in a pty: compinit, the script, a compadd that also
// prints each match between markers, and an exit right after the first
// completion. The markers are split in the commands typed so that their
// echo never matches.
constexpr const char* kZshDriver = R"zsh(zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z 'PS1= PS2= RPS1=; autoload -Uz compinit; compinit -u -D'
zpty -w z "source ${(q)SCRIPT} || exit 4"
zpty -w z "zstyle ':completion:*' insert-tab false; zstyle ':completion:*' list-grouped false"
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a hits; local hit
  builtin compadd -A hits "$@"
  for hit in $hits; do print -r -- "<<MA""TCH>>$hit"; done
  builtin compadd "$@"
}'
zpty -w z "comppostfuncs=(capture_done); capture_done() { print -r -- '<<DO''NE>>'; exit }"
zpty -w z "print -r -- '<<REA''DY>>'"
local line
while zpty -r z line; do [[ $line == *'<<READY>>'* ]] && break; done
zpty -w -n z "$LINE"$'\t'
while zpty -r z line; do
  [[ $line == *'<<DONE>>'* ]] && break
  [[ $line == *'<<MATCH>>'* ]] && print -r -- "${${line#*<<MATCH>>}%%$'\r'*}"
done
zpty -d z
)zsh";

}  // namespace

bool have_program(const std::string& program) {
  return run("command -v " + quoted(program) + " >/dev/null").exit_code == 0;
}

std::optional<std::vector<std::string>> bash_complete(const fs::path& script,
                                                      const std::vector<std::string>& words,
                                                      std::string* error) {
  if (words.empty()) return failed(error, "no words");
  std::string driver = "source " + quoted(script.string()) + " || exit 3\n";
  driver += "spec=$(complete -p " + quoted(words.front()) + ") || exit 4\n";
  driver += "fn=${spec##* -F }; fn=${fn%% *}\n";
  driver += "COMP_WORDS=(";
  for (const std::string& word : words) driver += " " + quoted(word);
  driver += " )\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n";
  driver += "COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}\n";
  driver +=
      "\"$fn\" \"${COMP_WORDS[0]}\" \"${COMP_WORDS[COMP_CWORD]}\" "
      "\"${COMP_WORDS[COMP_CWORD-1]}\" || exit 5\n";
  driver += "for reply in \"${COMPREPLY[@]}\"; do printf '%s\\n' \"$reply\"; done\n";
  const ScratchFile file(driver);
  const Run result = run("timeout 30 bash --norc --noprofile " + quoted(file.path().string()));
  if (result.exit_code != 0) {
    return failed(error, "bash exited " + std::to_string(result.exit_code) + ": " + result.out);
  }
  return lines(result.out);
}

std::optional<std::vector<std::string>> zsh_complete(const fs::path& script,
                                                     const std::string& line, std::string* error) {
  const ScratchFile file(kZshDriver);
  const Run result = run("SCRIPT=" + quoted(script.string()) + " LINE=" + quoted(line) +
                         " timeout 30 zsh -f " + quoted(file.path().string()));
  if (result.exit_code != 0) {
    return failed(error, "zsh exited " + std::to_string(result.exit_code) + ": " + result.out);
  }
  std::vector<std::string> matches = lines(result.out);
  std::sort(matches.begin(), matches.end());
  matches.erase(std::unique(matches.begin(), matches.end()), matches.end());
  return matches;
}

}  // namespace haul::testing
