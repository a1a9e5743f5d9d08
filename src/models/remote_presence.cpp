#include "models/remote_presence.hpp"

#include <charconv>
#include <system_error>

#include "base/text.hpp"
#include "net/sha256.hpp"

namespace haul::models {
namespace {

// Functions of the script. hp_size: `stat -L` (coreutils, BusyBox), else wc
// (reads only the size of a regular file with GNU wc). hp_hash: sha256sum or
// shasum reading stdin, so no file name is echoed back. hp FILE SIZE SHA
// CANDIDATE...: one line of observations per file; stops at a present one.
// -e before -L: a symlink to a directory is "not a file", not dangling. No
// hash (no tool, an unreadable file): the size decided, as locally.
constexpr std::string_view kPrologue = R"sh(LC_ALL=C
export LC_ALL
hp_size() { stat -L -c %s -- "$1" 2>/dev/null || wc -c <"$1" 2>/dev/null | tr -d ' '; }
if command -v sha256sum >/dev/null 2>&1; then
  hp_hash() { sha256sum <"$1" 2>/dev/null | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
  hp_hash() { shasum -a 256 <"$1" 2>/dev/null | cut -d ' ' -f 1; }
else
  hp_hash() { :; }
fi
hp() {
  hp_o="@@HAUL_PRESENCE $1" hp_w=$2 hp_x=$3 hp_j=0
  shift 3
  for hp_f in "$@"; do
    if [ -f "$hp_f" ]; then
      hp_s=$(hp_size "$hp_f")
      hp_o="$hp_o F:$hp_j:$hp_s"
      if [ -z "$hp_w" ] || [ "$hp_s" = "$hp_w" ]; then
        [ -z "$hp_x" ] && break
        hp_h=$(hp_hash "$hp_f")
        hp_o="$hp_o:$hp_h"
        if [ -z "$hp_h" ] || [ "$hp_h" = "$hp_x" ]; then break; fi
      fi
    elif [ -e "$hp_f" ]; then
      hp_o="$hp_o O:$hp_j"
    elif [ -L "$hp_f" ]; then
      hp_o="$hp_o D:$hp_j"
    fi
    [ -f "$hp_f.part" ] && hp_o="$hp_o P:$hp_j:$(hp_size "$hp_f.part")"
    hp_j=$((hp_j + 1))
  done
  printf '%s\n' "$hp_o"
}
printf '\n'
)sh";

std::string single_quote(std::string_view value) {
  std::string out = "'";
  for (const char c : value) out += c == '\'' ? std::string_view("'\\''") : std::string_view(&c, 1);
  out += '\'';
  return out;
}

tl::unexpected<Error> bad_line(std::size_t number, std::string_view what) {
  return fail(ErrorCode::kProtocol,
              "presence output line " + std::to_string(number) + ": " + std::string(what));
}

bool read_index(std::string_view& text, std::size_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end == text.data()) return false;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return true;
}

// One observation "F:<j>:<size>[:<sha>]", "P:<j>:<size>", "D:<j>", "O:<j>"
// fed to the verdict. False when malformed.
bool observe(std::string_view token, const RemoteFileQuery& query, FileVerdict& verdict) {
  if (token.size() < 3 || token[1] != ':') return false;
  const char kind = token[0];
  token.remove_prefix(2);
  std::size_t j = 0;
  if (!read_index(token, j) || j >= query.candidates.size()) return false;
  const std::string& path = query.candidates[j];
  if (kind == 'D' || kind == 'O') {
    if (!token.empty()) return false;
    kind == 'D' ? verdict.dangling(path) : verdict.not_a_file(path);
    return true;
  }
  if ((kind != 'F' && kind != 'P') || !token.starts_with(':')) return false;
  token.remove_prefix(1);
  std::size_t size = 0;
  if (token.empty() || token.front() == ':') {  // there, but its size could not be read
    verdict.not_a_file(path, "its size cannot be read");
    return true;
  }
  if (!read_index(token, size)) return false;
  if (kind == 'P') {
    if (!token.empty()) return false;
    verdict.part(path, size, size);
    return true;
  }
  std::string_view sha;
  if (!token.empty()) {
    if (token.front() != ':') return false;
    sha = token.substr(1);
    if (!sha.empty() && !net::is_sha256_hex(sha)) return false;
  }
  verdict.file(path, size, sha);
  return true;
}

}  // namespace

std::string presence_script(const std::vector<RemoteFileQuery>& files, bool verify) {
  std::string script(kPrologue);
  for (std::size_t i = 0; i < files.size(); ++i) {
    const RemoteFileQuery& file = files[i];
    const bool hash = verify && net::is_sha256_hex(file.sha256);
    script += "hp " + std::to_string(i) + " " +
              single_quote(file.size ? std::to_string(*file.size) : "") + " " +
              single_quote(hash ? to_lower(file.sha256) : "");
    for (const std::string& path : file.candidates) {
      script += ' ';
      script += single_quote(path.find('\0') == std::string::npos ? path : "");
    }
    script += '\n';
  }
  script += "printf '%s\\n' '" + std::string(kPresenceEnd) + std::to_string(files.size()) + "'\n";
  return script;
}

Result<std::vector<FileCheck>> parse_presence_output(std::string_view output,
                                                     const std::vector<RemoteFileQuery>& files) {
  std::vector<std::optional<FileCheck>> checks(files.size());
  bool ended = false;
  std::size_t number = 0;
  while (!output.empty() && !ended) {
    const std::size_t end = std::min(output.find('\n'), output.size());
    std::string_view line = output.substr(0, end);
    output.remove_prefix(std::min(end + 1, output.size()));
    ++number;
    if (line.ends_with('\r')) line.remove_suffix(1);
    // Anywhere in the line: a banner printed without a line end may precede it.
    if (const std::size_t at = line.find(kPresenceEnd); at != std::string_view::npos) {
      line.remove_prefix(at + kPresenceEnd.size());
      std::size_t count = 0;
      if (!read_index(line, count) || !line.empty() || count != files.size())
        return bad_line(number, "the end line does not match the files asked about");
      ended = true;
      continue;
    }
    const std::size_t at = line.find(kPresenceLine);
    if (at == std::string_view::npos) continue;
    line.remove_prefix(at + kPresenceLine.size());
    std::size_t i = 0;
    if (!read_index(line, i) || i >= files.size()) return bad_line(number, "bad file number");
    if (checks[i]) return bad_line(number, "file " + std::to_string(i) + " reported twice");
    const RemoteFileQuery& query = files[i];
    FileVerdict verdict(query.size, query.sha256);
    while (!line.empty()) {
      if (line.front() != ' ') return bad_line(number, "expected a blank between observations");
      line.remove_prefix(1);
      const std::string_view token = line.substr(0, line.find(' '));
      line.remove_prefix(token.size());
      if (!observe(token, query, verdict))
        return bad_line(number, "malformed observation '" + std::string(token) + "'");
    }
    checks[i] = verdict.finish(query.candidates.empty() ? std::string() : query.candidates.front());
  }
  std::vector<FileCheck> out;
  out.reserve(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (!ended || !checks[i]) {
      return fail(ErrorCode::kProtocol, "the presence check's output stopped before file " +
                                            std::to_string(i) + " of " +
                                            std::to_string(files.size()));
    }
    out.push_back(std::move(*checks[i]));
  }
  return out;
}

}  // namespace haul::models
