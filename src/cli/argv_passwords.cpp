#include "cli/argv_passwords.hpp"

#include <algorithm>

namespace haul::cli {

PasswordSpan find_url_password(std::string_view arg) {
  const std::size_t scheme_end = arg.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const std::size_t authority = scheme_end + 3;
  // The authority ends at the path, query or fragment; the last '@' in it
  // ends the user info (a password may itself hold '@' when not encoded).
  const std::size_t end = std::min(arg.find_first_of("/?#", authority), arg.size());
  const std::size_t at = arg.rfind('@', end == 0 ? 0 : end - 1);
  if (at == std::string_view::npos || at < authority) return {};
  const std::size_t colon = arg.find(':', authority);
  if (colon == std::string_view::npos || colon > at) return {};
  return {colon + 1, at - colon - 1};
}

void hide_argv_passwords(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    const PasswordSpan span = find_url_password(arg);
    std::fill_n(argv[i] + span.first, span.size, '*');
  }
}

}  // namespace haul::cli
