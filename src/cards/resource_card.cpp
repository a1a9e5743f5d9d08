#include "cards/resource_card.hpp"

#include <md4c.h>

#include <cstdint>
#include <cstdlib>

#include "base/text.hpp"
#include "cards/front_matter.hpp"
#include "cards/script_commands.hpp"

namespace haul::cards {

namespace {

// What the md4c callbacks collect while walking the document once.
struct Walk {
  // Headings.
  bool in_heading = false;
  unsigned heading_level = 0;
  std::string heading_text;
  std::string title;  // first heading before the Download heading
  // The Download section.
  int download_headings = 0;
  bool in_download = false;
  unsigned download_level = 0;
  // Paragraphs outside lists, quotes and tables, before the Download heading.
  int container_depth = 0;
  bool in_paragraph = false;
  std::string paragraph_text;
  std::string first_paragraph;
  // Code blocks.
  bool in_code = false;
  std::string code_lang;
  std::string code_text;
  std::vector<std::string> shell_blocks;  // texts of the shell blocks of the Download section
  std::vector<std::string> other_langs;   // labels of the other blocks there
};

bool is_download_heading(std::string_view text) {
  return iequals(text, "download") || iequals(text, "downloads");
}

bool is_shell_lang(std::string_view lang) {
  return lang.empty() || iequals(lang, "bash") || iequals(lang, "sh") || iequals(lang, "shell");
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// md4c hands entities over undecoded. Names and descriptions are plain text,
// so decode the numeric ones and the few named ones people actually write.
void append_entity(std::string& out, std::string_view entity) {
  static constexpr std::pair<std::string_view, std::string_view> kNamed[] = {
      {"&amp;", "&"},   {"&lt;", "<"},   {"&gt;", ">"},
      {"&quot;", "\""}, {"&apos;", "'"}, {"&nbsp;", " "}};
  for (const auto& [name, value] : kNamed) {
    if (entity == name) {
      out += value;
      return;
    }
  }
  if (entity.size() > 3 && entity[1] == '#') {
    const bool hex = entity[2] == 'x' || entity[2] == 'X';
    const std::string digits(entity.substr(hex ? 3 : 2, entity.size() - (hex ? 4 : 3)));
    char* end = nullptr;
    const unsigned long cp = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
    if (!digits.empty() && end != nullptr && *end == '\0') {
      append_utf8(out, static_cast<std::uint32_t>(cp));
      return;
    }
  }
  out += entity;
}

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  bool space = false;
  for (const char c : trim(text)) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

int on_enter_block(MD_BLOCKTYPE type, void* detail, void* userdata) {
  Walk& walk = *static_cast<Walk*>(userdata);
  switch (type) {
    case MD_BLOCK_H: {
      walk.in_heading = true;
      walk.heading_level = static_cast<MD_BLOCK_H_DETAIL*>(detail)->level;
      walk.heading_text.clear();
      if (walk.in_download && walk.heading_level <= walk.download_level) walk.in_download = false;
      break;
    }
    case MD_BLOCK_CODE: {
      const auto* code = static_cast<MD_BLOCK_CODE_DETAIL*>(detail);
      walk.in_code = true;
      walk.code_lang.assign(
          code->lang.text == nullptr ? "" : std::string(code->lang.text, code->lang.size));
      walk.code_text.clear();
      break;
    }
    case MD_BLOCK_P:
      walk.in_paragraph = walk.container_depth == 0;
      walk.paragraph_text.clear();
      break;
    case MD_BLOCK_QUOTE:
    case MD_BLOCK_UL:
    case MD_BLOCK_OL:
    case MD_BLOCK_TABLE:
      ++walk.container_depth;
      break;
    default:
      break;
  }
  return 0;
}

int on_leave_block(MD_BLOCKTYPE type, void* /*detail*/, void* userdata) {
  Walk& walk = *static_cast<Walk*>(userdata);
  switch (type) {
    case MD_BLOCK_H: {
      walk.in_heading = false;
      const std::string text = collapse_whitespace(walk.heading_text);
      if (is_download_heading(text)) {
        ++walk.download_headings;
        walk.in_download = true;
        walk.download_level = walk.heading_level;
      } else if (walk.title.empty() && walk.download_headings == 0) {
        walk.title = text;
      }
      break;
    }
    case MD_BLOCK_CODE:
      walk.in_code = false;
      if (walk.in_download) {
        if (is_shell_lang(walk.code_lang)) {
          walk.shell_blocks.push_back(std::move(walk.code_text));
        } else {
          walk.other_langs.push_back(walk.code_lang);
        }
      }
      break;
    case MD_BLOCK_P:
      if (walk.in_paragraph && walk.first_paragraph.empty() && walk.download_headings == 0) {
        walk.first_paragraph = collapse_whitespace(walk.paragraph_text);
      }
      walk.in_paragraph = false;
      break;
    case MD_BLOCK_QUOTE:
    case MD_BLOCK_UL:
    case MD_BLOCK_OL:
    case MD_BLOCK_TABLE:
      --walk.container_depth;
      break;
    default:
      break;
  }
  return 0;
}

int on_span(MD_SPANTYPE /*type*/, void* /*detail*/, void* /*userdata*/) { return 0; }

int on_text(MD_TEXTTYPE type, const MD_CHAR* text, MD_SIZE size, void* userdata) {
  Walk& walk = *static_cast<Walk*>(userdata);
  const std::string_view piece(text, size);
  std::string* target = walk.in_code        ? &walk.code_text
                        : walk.in_heading   ? &walk.heading_text
                        : walk.in_paragraph ? &walk.paragraph_text
                                            : nullptr;
  if (target == nullptr) return 0;
  switch (type) {
    case MD_TEXT_NULLCHAR:
      target->append("\xEF\xBF\xBD");
      break;
    case MD_TEXT_BR:
    case MD_TEXT_SOFTBR:
      target->push_back(walk.in_code ? '\n' : ' ');
      break;
    case MD_TEXT_ENTITY:
      append_entity(*target, piece);
      break;
    case MD_TEXT_HTML:
      break;  // inline HTML is markup, not text
    default:
      target->append(piece);
      break;
  }
  return 0;
}

std::string file_stem(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (name.size() > 3 && iequals(name.substr(name.size() - 3), ".md")) name.remove_suffix(3);
  return std::string(name);
}

std::string first_folder(std::string_view path) {
  while (path.substr(0, 2) == "./") path.remove_prefix(2);
  const std::size_t slash = path.find('/');
  return slash == std::string_view::npos ? "" : std::string(path.substr(0, slash));
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

}  // namespace

Result<ResourceCard> parse_resource_card(std::string_view markdown,
                                         std::string_view relative_path) {
  const std::string where = "resource card '" + std::string(relative_path) + "'";
  auto front = split_front_matter(markdown);
  if (!front) return fail(ErrorCode::kInvalidArgument, where + ": " + front.error().message);

  Walk walk;
  MD_PARSER parser{};
  parser.abi_version = 0;
  // Tables and the other GitHub extensions only so their contents are seen as
  // containers; raw HTML stays on because cards may contain comments.
  parser.flags = MD_DIALECT_GITHUB;
  parser.enter_block = on_enter_block;
  parser.leave_block = on_leave_block;
  parser.enter_span = on_span;
  parser.leave_span = on_span;
  parser.text = on_text;
  if (md_parse(front->body.data(), static_cast<MD_SIZE>(front->body.size()), &parser, &walk) != 0) {
    return fail(ErrorCode::kInternal, where + ": the markdown parser failed (out of memory?)");
  }

  if (walk.download_headings == 0) {
    return fail(ErrorCode::kInvalidArgument,
                where + " has no '# Download' heading with a bash code block under it");
  }
  if (walk.download_headings > 1) {
    return fail(ErrorCode::kInvalidArgument,
                where + " has " + std::to_string(walk.download_headings) +
                    " Download headings; keep one so it is clear what runs");
  }
  if (walk.shell_blocks.empty()) {
    std::string message = where + " has no bash code block under its Download heading";
    if (!walk.other_langs.empty()) message += " (found only: " + join(walk.other_langs) + ")";
    return fail(ErrorCode::kInvalidArgument, message);
  }

  ResourceCard card;
  card.path = std::string(relative_path);
  for (const std::string& block : walk.shell_blocks) {
    auto commands = split_script_commands(block);
    if (!commands)
      return fail(ErrorCode::kInvalidArgument, where + ": " + commands.error().message);
    card.commands.insert(card.commands.end(), commands->begin(), commands->end());
  }
  if (card.commands.empty()) {
    return fail(
        ErrorCode::kInvalidArgument,
        where + ": the bash block under Download has no commands (only comments or blank lines)");
  }

  card.front_matter = front->values;
  card.name = trim(front->get("name")).empty() ? walk.title : std::string(trim(front->get("name")));
  if (card.name.empty()) card.name = file_stem(relative_path);
  card.type = trim(front->get("type")).empty() ? first_folder(relative_path)
                                               : std::string(trim(front->get("type")));
  card.description =
      front->get("description").empty() ? walk.first_paragraph : front->get("description");
  return card;
}

}  // namespace haul::cards
