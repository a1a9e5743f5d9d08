#include "base/text.hpp"

#include <algorithm>
#include <cctype>

namespace haul {

namespace {
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
}  // namespace

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool is_safe_relative_path(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string_view::npos ||
      path.find('\0') != std::string_view::npos)
    return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

std::string expand_user(std::string_view path, const std::optional<std::string>& home) {
  if (path.empty() || path[0] != '~' || !home) return std::string(path);
  const auto slash = path.find('/');
  if (slash != 1 && path.size() != 1) return std::string(path);
  std::string out = *home;
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (slash != std::string_view::npos) out += path.substr(slash);
  return out.empty() ? "/" : out;
}

namespace {
bool is_var_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
}  // namespace

std::string expand_vars(std::string_view path, const EnvLookup& getenv) {
  std::string out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] != '$' || i + 1 >= path.size()) {
      out.push_back(path[i++]);
      continue;
    }
    std::size_t end = i + 1;
    std::string_view name;
    if (path[end] == '{') {
      const auto close = path.find('}', end);
      if (close == std::string_view::npos) {
        out.push_back(path[i++]);
        continue;
      }
      name = path.substr(end + 1, close - end - 1);
      end = close + 1;
    } else {
      while (end < path.size() && is_var_char(path[end])) ++end;
      name = path.substr(i + 1, end - i - 1);
    }
    const auto value = name.empty() ? std::nullopt : getenv(name);
    out += value ? std::string_view(*value) : path.substr(i, end - i);
    i = end;
  }
  return out;
}

bool has_control_char(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; });
}

}  // namespace haul
