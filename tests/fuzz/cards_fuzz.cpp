// libFuzzer target for resource cards (src/cards): markdown files anyone may
// drop in the library, whose `# Download` bash block haul runs on an instance.
//
// Input: one selector byte, then the text. Selector ('0' + n, taken mod 4):
//   0 split_front_matter      1 split_script_commands (a bash block's text)
//   2 parse_resource_card     3 all three
// Invariants: the front matter's body is the tail of the input (all of it,
// less a BOM, without front matter) and its keys are non-empty key words; a
// script's commands are non-empty, trimmed of blanks (but for one a
// backslash escapes), not comments, and each (without a CR, which can end a line)
// splits again into exactly itself; an accepted card has a name, the
// folder's type unless the front matter names one, the front matter
// split_front_matter reads, and commands as above, which come back unchanged
// from a card written with them under `# Download` (when they hold no NUL or
// CR, which markdown itself rewrites).
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "base/text.hpp"
#include "cards/front_matter.hpp"
#include "cards/resource_card.hpp"
#include "cards/script_commands.hpp"

namespace {

using namespace haul::cards;

constexpr std::string_view kPath = "loras/fuzz_card.md";

void check(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "cards_fuzz: %s (input %zu bytes)\n", what, input.size());
  std::abort();
}

void fuzz_front_matter(std::string_view text) {
  auto front = split_front_matter(text);
  if (!front) return;
  std::string_view unbom = text.substr(0, 3) == "\xEF\xBB\xBF" ? text.substr(3) : text;
  check(front->body.data() + front->body.size() == text.data() + text.size() &&
            front->body.data() >= text.data(),
        "body is not the tail of the input", text);
  if (!front->present) {
    check(front->body.size() == unbom.size() && front->values.empty(),
          "no front matter, yet the body is not the whole input", text);
  }
  for (const auto& [key, value] : front->values) {
    check(!key.empty(), "empty key", text);
    for (const char c : key) {
      check(std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.',
            "key with a character keys cannot have", text);
    }
    (void)value;
  }
}

void check_commands(const std::vector<std::string>& commands, std::string_view text) {
  for (const std::string& command : commands) {
    check(!command.empty(), "empty command", text);
    // No blank (space, tab) at either end, but for one a backslash escapes.
    const bool blank_end = command.back() == ' ' || command.back() == '\t';
    check(command.front() != ' ' && command.front() != '\t', "command starts with a blank", text);
    // A here-document's command ends with its delimiter line, kept exactly
    // (a delimiter may be a blank: `cat <<\ `).
    const bool ends_with_heredoc = command.find('\n') != std::string::npos;
    check(!blank_end || ends_with_heredoc ||
              (command.size() >= 2 && command[command.size() - 2] == '\\'),
          "command not trimmed", text);
    check(command.front() != '#', "comment kept as a command", text);
    // A CR kept at the end of a line (from "\r\r\n") is dropped as half of a
    // CRLF when the command is split again: skip those.
    if (command.find('\r') != std::string::npos) continue;
    auto again = split_script_commands(command);
    if (!(again && again->size() == 1 && again->front() == command)) {
      std::fprintf(stderr, "command (%zu bytes): [%s]\n", command.size(), command.c_str());
      if (again) {
        for (const std::string& part : *again)
          std::fprintf(stderr, "  splits into (%zu bytes): [%s]\n", part.size(), part.c_str());
      } else {
        std::fprintf(stderr, "  refused: %s\n", again.error().message.c_str());
      }
    }
    check(again && again->size() == 1 && again->front() == command,
          "a command does not split into itself", text);
  }
}

void fuzz_script(std::string_view text) {
  auto commands = split_script_commands(text);
  if (commands) check_commands(*commands, text);
}

// The longest run of backticks in `text`.
std::size_t longest_backtick_run(std::string_view text) {
  std::size_t longest = 0;
  std::size_t run = 0;
  for (const char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}

void fuzz_card(std::string_view text) {
  auto card = parse_resource_card(text, kPath);
  if (!card) {
    check(card.error().message.find(kPath) != std::string::npos, "error without the path", text);
    return;
  }
  check(card->path == kPath, "path not kept", text);
  check(!card->name.empty(), "card without a name", text);
  auto front = split_front_matter(text);
  check(front && front->values == card->front_matter, "front matter differs", text);
  const std::string type(haul::trim(front->get("type")));
  check(card->type == (type.empty() ? "loras" : type), "type is not the front matter's or folder's",
        text);
  check(!card->commands.empty(), "card without commands", text);
  check_commands(card->commands, text);

  // The commands, written back into a minimal card, come back unchanged.
  std::string script;
  for (const std::string& command : card->commands) {
    if (command.find('\0') != std::string::npos || command.find('\r') != std::string::npos) return;
    script += command + "\n";
  }
  const std::string fence(std::max<std::size_t>(3, longest_backtick_run(script) + 1), '`');
  const std::string rewritten = "# Download\n" + fence + "bash\n" + script + fence + "\n";
  auto again = parse_resource_card(rewritten, kPath);
  check(again && again->commands == card->commands, "commands differ once written back", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (static_cast<std::uint8_t>(data[0] - '0') % 4) {
    case 0:
      fuzz_front_matter(text);
      break;
    case 1:
      fuzz_script(text);
      break;
    case 2:
      fuzz_card(text);
      break;
    default:
      fuzz_front_matter(text);
      fuzz_script(text);
      fuzz_card(text);
      break;
  }
  return 0;
}
