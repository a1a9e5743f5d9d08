#include "cli/command_hint.hpp"

#include <algorithm>
#include <cctype>

namespace haul::cli {

namespace {

std::string lower_without_dashes(std::string_view word) {
  while (!word.empty() && word.front() == '-') word.remove_prefix(1);
  std::string out;
  for (char c : word) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Optimal string alignment distance: a swap of neighbours ("stauts") costs one.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string closest_command(std::string_view word, const std::vector<std::string>& commands) {
  const std::string wanted = lower_without_dashes(word);
  if (wanted.empty()) return "";
  std::string best;
  std::size_t best_distance = 0;
  for (const std::string& command : commands) {
    if (command == wanted) return command;
    const std::size_t distance = edit_distance(wanted, command);
    // Close means a typo or two, not a different word: at most a third of it.
    const std::size_t limit = std::max<std::size_t>(1, command.size() / 3);
    if (distance <= limit && (best.empty() || distance < best_distance)) {
      best = command;
      best_distance = distance;
    }
  }
  return best;
}

std::string unknown_command_message(std::string_view word,
                                    const std::vector<std::string>& commands) {
  const bool option = word.starts_with("-");
  std::string message = "haul: '" + std::string(word) +
                        (option ? "' is not an option here (haul's first word is a command)"
                                : "' is not a haul command");
  const std::string suggestion = closest_command(word, commands);
  message += suggestion.empty() ? "." : "; did you mean 'haul " + suggestion + "'?";
  return message + " Run 'haul --help' for the commands.";
}

}  // namespace haul::cli
