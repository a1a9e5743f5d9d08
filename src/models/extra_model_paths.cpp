#include "models/extra_model_paths.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <system_error>
#include <utility>

namespace haul::models {
namespace {

namespace fs = std::filesystem;

struct Line {
  std::size_t number = 0;  // 1-based
  std::string_view text;   // without the line end
};

std::vector<Line> split_lines(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte order mark
  std::vector<Line> lines;
  std::size_t number = 1;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    if (line.ends_with('\r')) line.remove_suffix(1);
    lines.push_back({number++, line});
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return lines;
}

tl::unexpected<Error> error_at(const Line& line, std::string_view message) {
  return fail(ErrorCode::kInvalidArgument,
              "line " + std::to_string(line.number) + ": " + std::string(message));
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_blanks(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

// Blank, or only a comment: YAML skips it outside block scalars.
bool is_empty_line(std::string_view text) {
  text = trim_blanks(text);
  return text.empty() || text.front() == '#';
}

bool is_document_marker(std::string_view text) {
  return (text.starts_with("---") || text.starts_with("...")) &&
         (text.size() == 3 || is_blank(text[3]));
}

std::size_t indentation(std::string_view text) {
  std::size_t n = 0;
  while (n < text.size() && text[n] == ' ') ++n;
  return n;
}

// A scalar as written: its value, and whether it was quoted (a quoted "~" or
// "true" is a string; a plain one is null or a boolean).
struct Scalar {
  std::string value;
  bool quoted = false;
};

Result<void> append_escape(const Line& line, std::string_view text, std::size_t& i,
                           std::string& out) {
  if (i >= text.size()) return error_at(line, "unterminated double-quoted string");
  const char c = text[i++];
  switch (c) {
    case '\\':
    case '"':
    case '/':
    case ' ':
      out += c;
      return {};
    case 'n':
      out += '\n';
      return {};
    case 't':
      out += '\t';
      return {};
    case 'r':
      out += '\r';
      return {};
    case '0':
      out += '\0';
      return {};
    case 'x':
    case 'u': {
      const std::size_t digits = c == 'x' ? 2 : 4;
      if (i + digits > text.size()) return error_at(line, "short \\x or \\u escape");
      std::uint32_t code = 0;
      for (std::size_t k = 0; k < digits; ++k) {
        const char h = text[i + k];
        const int v = h >= '0' && h <= '9'   ? h - '0'
                      : h >= 'a' && h <= 'f' ? h - 'a' + 10
                      : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                             : -1;
        if (v < 0) return error_at(line, "bad hex digit in an escape");
        code = code * 16 + static_cast<std::uint32_t>(v);
      }
      i += digits;
      if (code < 0x80) {
        out += static_cast<char>(code);
      } else if (code < 0x800) {
        out += static_cast<char>(0xC0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3F));
      } else {
        out += static_cast<char>(0xE0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
      }
      return {};
    }
    default:
      return error_at(line, std::string("unsupported escape \\") + c);
  }
}

// Reads a quoted scalar starting at text[i] (the quote); leaves i after the
// closing quote. Both kinds must close on their line.
Result<std::string> read_quoted(const Line& line, std::string_view text, std::size_t& i) {
  const char quote = text[i++];
  std::string out;
  while (true) {
    if (i >= text.size()) {
      return error_at(line, quote == '\'' ? "unterminated single-quoted string"
                                          : "unterminated double-quoted string");
    }
    const char c = text[i++];
    if (c == quote) {
      if (quote == '\'' && i < text.size() && text[i] == '\'') {
        out += '\'';  // '' is one quote
        ++i;
        continue;
      }
      return out;
    }
    if (quote == '"' && c == '\\') {
      if (auto escaped = append_escape(line, text, i, out); !escaped) return fail(escaped.error());
      continue;
    }
    out += c;
  }
}

// After a quoted scalar: only blanks and a comment may follow.
Result<void> expect_line_end(const Line& line, std::string_view rest) {
  rest = trim_blanks(rest);
  if (!rest.empty() && rest.front() != '#')
    return error_at(line, "unexpected text after a quoted string");
  return {};
}

// A plain or quoted scalar value (what follows "key:"), comment removed.
Result<Scalar> read_value(const Line& line, std::string_view text) {
  text = trim_blanks(text);
  if (text.empty() || text.front() == '#') return Scalar{};
  if (text.front() == '\'' || text.front() == '"') {
    std::size_t i = 0;
    auto value = read_quoted(line, text, i);
    if (!value) return fail(value.error());
    if (auto end = expect_line_end(line, text.substr(i)); !end) return fail(end.error());
    return Scalar{std::move(*value), true};
  }
  static constexpr std::string_view kReserved = "[]{}&*!%@`,|>";
  if (kReserved.find(text.front()) != std::string_view::npos) {
    return error_at(line, std::string("'") + text.front() +
                              "' starts a YAML feature this reader does not support "
                              "(flow collections, anchors, tags); quote the value");
  }
  if (text.front() == '-' && (text.size() == 1 || is_blank(text[1])))
    return error_at(line, "a list is not a path; give one path or a | block of paths");
  // A comment starts at a '#' after a blank.
  for (std::size_t i = 1; i < text.size(); ++i) {
    if (text[i] == '#' && is_blank(text[i - 1])) {
      text = trim_blanks(text.substr(0, i));
      break;
    }
  }
  return Scalar{std::string(text), false};
}

// "key: value": the key (plain or quoted) and the text after the colon.
struct KeyValue {
  std::string key;
  std::string_view rest;
};

Result<KeyValue> read_key(const Line& line, std::string_view text) {
  KeyValue out;
  std::size_t i = 0;
  if (text.front() == '\'' || text.front() == '"') {
    auto key = read_quoted(line, text, i);
    if (!key) return fail(key.error());
    out.key = std::move(*key);
    while (i < text.size() && is_blank(text[i])) ++i;
    if (i >= text.size() || text[i] != ':') return error_at(line, "expected ':' after the key");
  } else {
    if (text.front() == '-' || text.front() == '?' || text.front() == '#')
      return error_at(line, "expected 'name: value'");
    // The key ends at the first ':' followed by a blank or the line's end,
    // before any comment.
    i = 0;
    while (i < text.size() &&
           !(text[i] == ':' && (i + 1 == text.size() || is_blank(text[i + 1])))) {
      if (text[i] == '#' && i > 0 && is_blank(text[i - 1])) i = text.size() - 1;
      ++i;
    }
    if (i >= text.size()) return error_at(line, "expected 'name: value'");
    out.key = std::string(trim_blanks(text.substr(0, i)));
    if (out.key.empty()) return error_at(line, "empty key");
  }
  out.rest = text.substr(i + 1);
  if (!out.rest.empty() && !is_blank(out.rest.front()))
    return error_at(line, "expected a blank after ':'");
  return out;
}

// A byte below 0x20 but a tab, or DEL: no model folder has one, a NUL would
// cut the path short where the kernel reads it, and escapes would reach
// terminals and logs. '\n' separates the paths of a value.
bool has_control_character(std::string_view text, bool newline_allowed) {
  return std::any_of(text.begin(), text.end(), [newline_allowed](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\t' && !(newline_allowed && c == '\n')) || byte == 0x7F;
  });
}

bool is_null(const Scalar& s) {
  return !s.quoted && (s.value.empty() || s.value == "~" || s.value == "null" ||
                       s.value == "Null" || s.value == "NULL");
}

// is_default as Python sees PyYAML's value: booleans (YAML 1.1 spellings),
// null and 0 are false; any other non-empty value is true.
bool truthy(const Scalar& s) {
  if (is_null(s)) return false;
  if (s.quoted) return !s.value.empty();
  static constexpr std::array<std::string_view, 10> kFalse = {
      "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "0"};
  return std::find(kFalse.begin(), kFalse.end(), s.value) == kFalse.end();
}

// A `|` or `>` block scalar header, with optional chomping and indentation
// indicators ("|", "|-", ">+", "|2").
struct BlockHeader {
  bool folded = false;
  std::size_t indent = 0;  // explicit indentation, 0 = from the first line
};

std::optional<BlockHeader> block_header(std::string_view rest) {
  rest = trim_blanks(rest);
  if (rest.empty() || (rest.front() != '|' && rest.front() != '>')) return std::nullopt;
  BlockHeader header;
  header.folded = rest.front() == '>';
  std::size_t i = 1;
  for (; i < rest.size() && i < 3; ++i) {
    const char c = rest[i];
    if (c == '-' || c == '+') continue;
    if (c >= '1' && c <= '9' && header.indent == 0) {
      header.indent = static_cast<std::size_t>(c - '0');
      continue;
    }
    break;
  }
  const std::string_view tail = trim_blanks(rest.substr(i));
  if (!tail.empty() && tail.front() != '#') return std::nullopt;
  return header;
}

// The lines of a block scalar that starts after lines[at - 1], whose key is
// indented `key_indent`: its text (one path per line, as ComfyUI splits it).
Result<std::string> read_block(const std::vector<Line>& lines, std::size_t& at,
                               std::size_t key_indent, const BlockHeader& header) {
  std::size_t indent = header.indent ? key_indent + header.indent : 0;
  std::vector<std::string_view> content;
  for (; at < lines.size(); ++at) {
    const Line& line = lines[at];
    if (trim_blanks(line.text).empty()) {
      content.emplace_back();
      continue;
    }
    const std::size_t here = indentation(line.text);
    if (here <= key_indent) break;
    if (indent == 0) indent = here;
    if (here < indent) return error_at(line, "less indented than the block's first line");
    content.push_back(line.text.substr(indent));
  }
  std::string text;
  for (const std::string_view piece : content) {
    if (!text.empty()) text += header.folded && !piece.empty() ? ' ' : '\n';
    text += piece;
  }
  return text;
}

// A section as read, before paths are resolved.
struct RawSection {
  std::string name;
  std::optional<Scalar> base_path;
  bool is_default = false;
  std::vector<std::pair<std::string, std::string>> folders;  // name -> text of its paths
  std::size_t pairs = 0;  // none: the section's value is null, and ComfyUI skips it
};

template <class T, class Key>
T& keyed(std::vector<T>& items, const Key& key, auto get_key) {
  for (T& item : items) {
    if (get_key(item) == key) return item;
  }
  items.emplace_back();
  get_key(items.back()) = key;
  return items.back();
}

// Reads the pairs below a section header (lines[at - 1]); leaves `at` at the
// next top-level line.
Result<void> read_section_body(const std::vector<Line>& lines, std::size_t& at, RawSection& out) {
  std::size_t body_indent = 0;
  while (at < lines.size()) {
    const Line& line = lines[at];
    if (is_empty_line(line.text)) {
      ++at;
      continue;
    }
    if (line.text.front() == '\t') return error_at(line, "tab in indentation");
    const std::size_t here = indentation(line.text);
    if (here == 0) break;
    if (line.text[here] == '\t') return error_at(line, "tab in indentation");
    if (body_indent == 0) body_indent = here;
    if (here != body_indent) {
      return error_at(line, "indented " + std::to_string(here) +
                                " spaces where the section's keys are indented " +
                                std::to_string(body_indent));
    }
    auto pair = read_key(line, line.text.substr(here));
    if (!pair) return fail(pair.error());
    ++at;
    ++out.pairs;
    Scalar value;
    if (auto header = block_header(pair->rest)) {
      auto text = read_block(lines, at, here, *header);
      if (!text) return fail(text.error());
      value.value = std::move(*text);
      value.quoted = true;
    } else {
      auto scalar = read_value(line, pair->rest);
      if (!scalar) return fail(scalar.error());
      value = std::move(*scalar);
      // A value on the next lines, more indented: a nested mapping or list.
      std::size_t next = at;
      while (next < lines.size() && is_empty_line(lines[next].text)) ++next;
      if (next < lines.size() && indentation(lines[next].text) > here) {
        const Line& more = lines[next];
        const std::size_t more_indent = indentation(more.text);
        // "key: value" indented deeper than its neighbours: a misplaced key,
        // more likely than a plain scalar continued with ": " in it.
        if (!value.value.empty() && more_indent < more.text.size() &&
            read_key(more, more.text.substr(more_indent))) {
          return error_at(more, "indented " + std::to_string(more_indent) +
                                    " spaces where the section's keys are indented " +
                                    std::to_string(body_indent));
        }
        return error_at(more, value.value.empty()
                                  ? "nested values are not supported: give a path or a | "
                                    "block of paths"
                                  : "a value continued on the next line; quote it or use | ");
      }
    }
    if (has_control_character(value.value, pair->key != "base_path"))
      return error_at(line, "'" + pair->key + "' holds a control character");
    if (pair->key == "base_path") {
      if (is_null(value)) return error_at(line, "base_path has no value");
      out.base_path = std::move(value);
    } else if (pair->key == "is_default") {
      out.is_default = truthy(value);
    } else {
      auto& folder = keyed(out.folders, pair->key, [](auto& f) -> std::string& { return f.first; });
      folder.second = is_null(value) ? std::string() : std::move(value.value);
    }
  }
  return {};
}

Result<ExtraPathsSection> resolve(const RawSection& raw, const fs::path& yaml_dir,
                                  const EnvLookup& getenv) {
  ExtraPathsSection out;
  out.name = raw.name;
  out.is_default = raw.is_default;
  if (raw.base_path) {
    auto home = getenv("HOME");
    if (home && home->empty()) home.reset();
    const std::string expanded = expand_vars(expand_user(raw.base_path->value, home), getenv);
    // The environment is not the file: its values are checked here.
    if (has_control_character(expanded, false)) {
      return fail(
          ErrorCode::kInvalidArgument,
          "section '" + raw.name + "': base_path expands to a path with a control character");
    }
    out.base_path = normal_path(expanded, yaml_dir);
  }
  const fs::path& base = raw.base_path ? out.base_path : yaml_dir;
  for (const auto& [name, text] : raw.folders) {
    ExtraPathsFolder folder{name, {}};
    std::string_view rest = text;
    while (!rest.empty()) {
      const std::size_t end = std::min(rest.find('\n'), rest.size());
      const std::string_view entry = rest.substr(0, end);
      rest.remove_prefix(std::min(end + 1, rest.size()));
      if (entry.empty()) continue;
      fs::path dir = normal_path(entry, base);
      if (std::find(folder.dirs.begin(), folder.dirs.end(), dir) == folder.dirs.end())
        folder.dirs.push_back(std::move(dir));
    }
    out.folders.push_back(std::move(folder));
  }
  return out;
}

}  // namespace

fs::path normal_path(std::string_view path, const fs::path& base) {
  const bool absolute = path.starts_with('/');
  std::vector<std::string_view> parts;
  const std::string base_text = absolute ? std::string() : base.string();
  bool rooted = absolute || base_text.starts_with('/');
  auto add = [&parts, &rooted](std::string_view text) {
    while (!text.empty()) {
      const std::size_t end = std::min(text.find('/'), text.size());
      const std::string_view part = text.substr(0, end);
      text.remove_prefix(std::min(end + 1, text.size()));
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        if (!parts.empty() && parts.back() != "..") {
          parts.pop_back();
          continue;
        }
        if (rooted) continue;  // "/.." is "/"
      }
      parts.push_back(part);
    }
  };
  add(base_text);
  add(path);
  std::string out = rooted ? "/" : "";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  if (out.empty()) out = ".";
  return fs::path(std::move(out));
}

Result<std::vector<ExtraPathsSection>> parse_extra_model_paths(std::string_view text,
                                                               const fs::path& yaml_dir,
                                                               const EnvLookup& getenv) {
  if (!yaml_dir.is_absolute())
    return fail(ErrorCode::kInvalidArgument,
                "the directory of extra_model_paths.yaml must be absolute: " + yaml_dir.string());
  const std::vector<Line> lines = split_lines(text);
  std::vector<RawSection> sections;
  std::size_t at = 0;
  while (at < lines.size()) {
    const Line& line = lines[at];
    if (is_empty_line(line.text) || is_document_marker(line.text)) {
      ++at;
      continue;
    }
    if (is_blank(line.text.front()))
      return error_at(line, "indented line outside a section (sections start in column 1)");
    auto pair = read_key(line, line.text);
    if (!pair) return fail(pair.error());
    auto value = read_value(line, pair->rest);
    if (!value) return fail(value.error());
    if (!is_null(*value)) {
      return error_at(line, "section '" + pair->key +
                                "' must be a mapping of folder names to paths, not a value");
    }
    ++at;
    RawSection section;
    section.name = pair->key;
    if (auto body = read_section_body(lines, at, section); !body) return fail(body.error());
    // A repeated section replaces the earlier one in place, as a Python dict does.
    keyed(sections, section.name, [](auto& s) -> std::string& { return s.name; }) =
        std::move(section);
  }
  std::vector<ExtraPathsSection> out;
  for (const RawSection& raw : sections) {
    if (raw.pairs == 0) continue;
    auto section = resolve(raw, yaml_dir, getenv);
    if (!section) return fail(section.error());
    out.push_back(std::move(*section));
  }
  return out;
}

Result<std::vector<ExtraPathsSection>> read_extra_model_paths(const fs::path& file,
                                                              const EnvLookup& getenv) {
  std::error_code ec;
  const fs::path path = fs::absolute(file, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot resolve " + file.string() + ": " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!fs::exists(path, ec)) return fail(ErrorCode::kNotFound, path.string() + " does not exist");
    return fail(ErrorCode::kIo, "cannot read " + path.string());
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return fail(ErrorCode::kIo, "cannot read " + path.string());
  auto sections = parse_extra_model_paths(text, normal_path(path.parent_path().string()), getenv);
  if (!sections) {
    Error error = sections.error();
    error.message = path.string() + " " + error.message;
    return fail(std::move(error));
  }
  return sections;
}

}  // namespace haul::models
