#include "cards/front_matter.hpp"

#include <cctype>
#include <vector>

#include "base/text.hpp"

namespace haul::cards {

namespace {

// How lines that continue a key are joined to its value.
enum class Continuation {
  kNone,     // no key yet: a continuation line is an error
  kLiteral,  // `key: |`: lines joined with '\n'
  kFolded,   // `key: >` or a plain value spilling over: lines joined with ' '
  kList,     // `key:` followed by `- item` lines: items joined with '\n'
};

struct Line {
  std::string_view text;  // without the line break (and without a '\r' before it)
  int number = 0;         // 1-based
};

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  std::size_t pos = 0;
  int number = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    const std::size_t next = end == std::string_view::npos ? text.size() : end + 1;
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(Line{line, ++number});
    pos = next;
  }
  return lines;
}

bool is_key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
}

bool is_fence(std::string_view line, std::string_view fence) {
  return trim(line) == fence && line.substr(0, fence.size()) == fence;
}

// A plain YAML scalar ends at " #" (a comment); quoted scalars lose their quotes.
std::string unquote_value(std::string_view raw) {
  std::string_view value = trim(raw);
  if (value.size() >= 2 && value.front() == '"') {
    std::string out;
    for (std::size_t i = 1; i < value.size(); ++i) {
      const char c = value[i];
      if (c == '"') {
        std::string_view rest = trim(value.substr(i + 1));
        if (rest.empty() || rest.front() == '#') return out;
        break;  // text after the closing quote: not a quoted scalar after all
      }
      if (c == '\\' && i + 1 < value.size()) {
        const char e = value[++i];
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        continue;
      }
      out += c;
    }
  } else if (value.size() >= 2 && value.front() == '\'') {
    std::string out;
    for (std::size_t i = 1; i < value.size(); ++i) {
      if (value[i] != '\'') {
        out += value[i];
      } else if (i + 1 < value.size() && value[i + 1] == '\'') {
        out += '\'';
        ++i;
      } else {
        std::string_view rest = trim(value.substr(i + 1));
        if (rest.empty() || rest.front() == '#') return out;
        break;
      }
    }
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '#' && (i == 0 || value[i - 1] == ' ' || value[i - 1] == '\t')) {
      return std::string(trim(value.substr(0, i)));
    }
  }
  return std::string(value);
}

void append(std::string& value, std::string_view piece, char separator) {
  if (!value.empty()) value += separator;
  value += piece;
}

}  // namespace

std::string FrontMatter::get(std::string_view key) const {
  for (const auto& [name, value] : values) {
    if (iequals(name, key)) return value;
  }
  return "";
}

Result<FrontMatter> split_front_matter(std::string_view markdown) {
  FrontMatter result;
  if (markdown.substr(0, 3) == "\xEF\xBB\xBF") markdown.remove_prefix(3);
  result.body = markdown;
  const std::size_t first_end = markdown.find('\n');
  if (first_end == std::string_view::npos || !is_fence(markdown.substr(0, first_end), "---")) {
    return result;
  }

  // Find the closing fence first so the body is known even for odd content.
  std::string_view rest = markdown.substr(first_end + 1);
  std::size_t closing_offset = std::string_view::npos;
  std::size_t body_offset = 0;
  for (std::size_t pos = 0; pos < rest.size();) {
    std::size_t end = rest.find('\n', pos);
    const std::size_t next = end == std::string_view::npos ? rest.size() : end + 1;
    std::string_view line =
        rest.substr(pos, (end == std::string_view::npos ? rest.size() : end) - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (is_fence(line, "---") || is_fence(line, "...")) {
      closing_offset = pos;
      body_offset = next;
      break;
    }
    pos = next;
  }
  if (closing_offset == std::string_view::npos) {
    return fail(ErrorCode::kInvalidArgument,
                "front matter opened with '---' on line 1 is never closed with '---'");
  }
  result.present = true;
  result.body = rest.substr(body_offset);

  const std::vector<Line> lines = split_lines(rest.substr(0, closing_offset));
  std::string* current = nullptr;
  Continuation mode = Continuation::kNone;
  for (const Line& line : lines) {
    const int number = line.number + 1;  // the opening fence is line 1
    std::string_view text = trim(line.text);
    const bool indented =
        !line.text.empty() && (line.text.front() == ' ' || line.text.front() == '\t');
    const bool list_item = text == "-" || text.substr(0, 2) == "- ";
    if (text.empty()) continue;
    if ((indented || list_item) && current != nullptr) {
      if (list_item && mode != Continuation::kLiteral) text = trim(text.substr(1));
      switch (mode) {
        case Continuation::kLiteral:
          append(*current, text, '\n');
          break;
        case Continuation::kFolded:
          append(*current, unquote_value(text), ' ');
          break;
        case Continuation::kList:
          append(*current, unquote_value(text), '\n');
          break;
        case Continuation::kNone:
          break;
      }
      continue;
    }
    if (text.front() == '#') continue;
    std::size_t key_end = 0;
    while (key_end < text.size() && is_key_char(text[key_end])) ++key_end;
    const std::string_view key = text.substr(0, key_end);
    std::string_view after = trim(text.substr(key_end));
    if (key.empty() || after.empty() || after.front() != ':' ||
        (after.size() > 1 && after[1] != ' ' && after[1] != '\t')) {
      return fail(ErrorCode::kInvalidArgument, "front matter line " + std::to_string(number) +
                                                   " is not 'key: value': '" + std::string(text) +
                                                   "'");
    }
    const std::string_view raw_value = trim(after.substr(1));
    auto [it, inserted] = result.values.emplace(std::string(key), std::string());
    if (!inserted) {
      return fail(ErrorCode::kInvalidArgument, "front matter key '" + std::string(key) +
                                                   "' appears twice (line " +
                                                   std::to_string(number) + ")");
    }
    current = &it->second;
    const char indicator = raw_value.empty() ? '\0' : raw_value.front();
    const bool block =
        (indicator == '|' || indicator == '>') &&
        (raw_value.size() == 1 || raw_value.substr(1) == "-" || raw_value.substr(1) == "+");
    if (block) {
      mode = indicator == '|' ? Continuation::kLiteral : Continuation::kFolded;
    } else if (raw_value.empty()) {
      mode = Continuation::kList;
    } else {
      mode = Continuation::kFolded;
      *current = unquote_value(raw_value);
    }
  }
  return result;
}

}  // namespace haul::cards
