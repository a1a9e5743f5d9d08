// libFuzzer target for the SSH command a user pastes from a cloud console
// (src/remote/ssh_command.hpp), the shell quoting haul puts around values in
// remote commands, and the ProxyCommand it builds for jump hosts.
//
// Input: one selector byte, then the text. Selector ('0' + n, taken mod 4):
//   0 parse_ssh_command      1 split_shell_words
//   2 shell_quote (the text, and its lines as several words)   3 all three
// Invariants: an accepted target has a host of host characters not starting
// with '-', a port in 1..65535, at most kMaxJumpHosts jump hops, none empty,
// and the same user, host and port come back from `ssh -p PORT -l USER HOST`
// rebuilt from it; when it has jump hosts, jump_proxy_command gives an ssh
// command that splits into words ending in "-W" '[%h]:%p' and the last hop's
// host; the words split_shell_words returns, quoted with shell_quote and
// joined by spaces, split back into the same words; shell_quote(x) is one
// word equal to x.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "base/text.hpp"
#include "remote/ssh_command.hpp"

namespace {

using namespace haul::remote;

void check(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "ssh_command_fuzz: %s (input %zu bytes)\n", what, input.size());
  std::abort();
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_' ||
         c == ':' || c == '%';
}

std::string quote_all(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& word : words) {
    if (!out.empty()) out += ' ';
    out += shell_quote(word);
  }
  return out;
}

void fuzz_words(std::string_view text) {
  auto words = split_shell_words(text);
  if (!words) return;
  auto again = split_shell_words(quote_all(*words));
  check(again && *again == *words, "quoted words split differently", text);
}

void fuzz_quote(std::string_view text) {
  const std::string quoted = shell_quote(text);
  auto words = split_shell_words(quoted);
  check(words && words->size() == 1 && words->front() == text, "shell_quote is not one word", text);
  // The lines as separate words.
  std::vector<std::string> lines;
  for (std::string_view rest = text; !rest.empty();) {
    const std::size_t eol = rest.find('\n');
    lines.emplace_back(rest.substr(0, eol));
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
  }
  auto split = split_shell_words(quote_all(lines));
  check(split && *split == lines, "quoted lines split differently", text);
}

void fuzz_command(std::string_view text) {
  auto target = parse_ssh_command(text);
  if (!target) {
    check(target.error().message.find('\n') == std::string::npos ||
              text.find('\n') != std::string_view::npos,
          "multi-line error for a one-line command", text);
    return;
  }
  check(!target->host.empty() && target->host.front() != '-', "bad host accepted", text);
  for (const char c : target->host) check(is_host_char(c), "host with a bad character", text);
  check(target->port >= 1 && target->port <= 65535, "port out of range", text);
  check(target->original == haul::trim(text), "original is not the trimmed text", text);
  check(target->jump_hosts.size() <= kMaxJumpHosts, "more jump hosts than the cap", text);
  for (const std::string& hop : target->jump_hosts) {
    check(!haul::trim(hop).empty(), "empty jump host", text);
  }

  // The same target, written the plain way.
  std::string rebuilt = "ssh -p " + std::to_string(target->port);
  if (!target->user.empty()) rebuilt += " -l " + shell_quote(target->user);
  rebuilt +=
      " " + shell_quote(target->host.find(':') == std::string::npos ? target->host
                                                                    : "[" + target->host + "]");
  auto again = parse_ssh_command(rebuilt);
  check(again.has_value(), "rebuilt command refused", text);
  check(again->user == target->user && again->host == target->host && again->port == target->port,
        "rebuilt command names another target", text);

  if (target->jump_hosts.empty()) return;
  JumpSettings settings;
  settings.identity_files = target->identity_files;
  settings.known_hosts = "/tmp/known hosts";
  auto proxy = jump_proxy_command(target->jump_hosts, settings);
  if (!proxy) return;
  auto words = split_shell_words(*proxy);
  check(words.has_value(), "ProxyCommand does not split into words", text);
  check(words->size() >= 4 && words->front() == "ssh", "ProxyCommand is not an ssh command", text);
  const std::size_t n = words->size();
  check((*words)[n - 3] == "-W" && (*words)[n - 2] == "[%h]:%p",
        "ProxyCommand does not forward to the target", text);
  std::string last_hop = target->jump_hosts.back();
  if (!last_hop.starts_with("ssh://")) last_hop = "ssh://" + last_hop;
  auto hop = parse_ssh_command("ssh " + shell_quote(last_hop));
  check(hop && hop->host == (*words)[n - 1], "ProxyCommand ends at another host", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (static_cast<std::uint8_t>(data[0] - '0') % 4) {
    case 0:
      fuzz_command(text);
      break;
    case 1:
      fuzz_words(text);
      break;
    case 2:
      fuzz_quote(text);
      break;
    default:
      fuzz_command(text);
      fuzz_words(text);
      fuzz_quote(text);
      break;
  }
  return 0;
}
