#include "cards/script_commands.hpp"

#include <deque>

#include "base/text.hpp"

namespace haul::cards {

namespace {

struct Heredoc {
  std::string delimiter;
  bool strip_tabs = false;  // `<<-`: the delimiter line may be indented with tabs
};

// Quote state carried from one line to the next: a command may span lines.
struct QuoteState {
  bool single = false;   // '...'
  bool dollar = false;   // $'...', where a backslash escapes
  bool double_ = false;  // "..."
  bool escape = false;   // the previous character was an escaping backslash
  bool open() const { return single || dollar || double_; }
};

struct ScannedLine {
  std::string_view code;           // the line without a trailing comment
  bool escaped_newline = false;    // ends with a backslash that escapes the line break
  std::size_t escaped_end = 0;     // just past the last backslash-escaped character: `a\ ` keeps
                                   // its blank, and `\|` is no operator
  bool split_redirection = false;  // `<\`, `<<\` or `<<EO\` at the end: the shell joins
                                   // the next line into the operator or its word
};

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view ltrim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  return text;
}

std::string_view rtrim(std::string_view text, std::size_t keep = 0) {
  while (text.size() > keep && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool is_word_end(char c) {
  return is_blank(c) || c == ';' || c == '&' || c == '|' || c == '<' || c == '>' || c == '(' ||
         c == ')';
}

// Reads the delimiter word of a here-document starting at `pos` (after `<<`
// or `<<-`); quotes around or inside it are removed, as the shell does.
// `continued`: the word (or the space before it) ends in a line
// continuation, so the shell would read it on into the next line.
std::size_t read_heredoc_word(std::string_view line, std::size_t pos, std::string& word,
                              bool& continued) {
  while (pos < line.size() && is_blank(line[pos])) ++pos;
  char quote = '\0';
  for (; pos < line.size(); ++pos) {
    const char c = line[pos];
    if (quote != '\0') {
      if (c == quote) {
        quote = '\0';
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\' && pos + 1 == line.size()) {
      continued = true;
      break;
    } else if (c == '\\') {
      word += line[++pos];
    } else if (is_word_end(c)) {
      break;
    } else {
      word += c;
    }
  }
  return pos;
}

// Follows quoting through one line, finds where a comment starts and which
// here-documents the line opens.
ScannedLine scan_line(std::string_view line, QuoteState& state, std::deque<Heredoc>& heredocs) {
  ScannedLine result{line, false};
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (state.escape) {
      state.escape = false;
      result.escaped_end = i + 1;
    } else if (state.single) {
      state.single = c != '\'';
    } else if (state.dollar) {
      if (c == '\\') state.escape = true;
      if (c == '\'') state.dollar = false;
    } else if (state.double_) {
      if (c == '\\') state.escape = true;
      if (c == '"') state.double_ = false;
    } else if (c == '\\') {
      state.escape = true;
    } else if (c == '\'') {
      (i > 0 && line[i - 1] == '$' ? state.dollar : state.single) = true;
    } else if (c == '"') {
      state.double_ = true;
    } else if (c == '#' && (i == 0 || (is_word_end(line[i - 1]) && result.escaped_end != i))) {
      result.code = line.substr(0, i);
      return result;
    } else if (c == '<' && i + 1 < line.size() && line[i + 1] == '<') {
      if (i + 2 < line.size() && line[i + 2] == '<') {  // <<< here-string: no body
        i += 2;
        continue;
      }
      Heredoc heredoc;
      std::size_t pos = i + 2;
      if (pos < line.size() && line[pos] == '-') {
        heredoc.strip_tabs = true;
        ++pos;
      }
      bool continued = false;
      const std::size_t end = read_heredoc_word(line, pos, heredoc.delimiter, continued);
      if (continued) {
        result.split_redirection = true;
        return result;
      }
      if (!heredoc.delimiter.empty()) {
        heredocs.push_back(std::move(heredoc));
        result.escaped_end = end;  // the word is kept whole, an escaped blank (`<<\ `) included
      }
      i = end - 1;
    } else if (c == '<' && i + 2 == line.size() && line[i + 1] == '\\') {
      result.split_redirection = true;  // `<\` + a line starting with '<' reads as `<<`
      return result;
    }
  }
  if (state.escape) {
    // A backslash before the line break: a continuation (not inside '...').
    state.escape = false;
    result.escaped_newline = true;
  }
  return result;
}

std::string preview(std::string_view command) {
  std::string out(command.substr(0, 60));
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  if (command.size() > 60) out += "...";
  return out;
}

// How the next line attaches to the command being built.
enum class Join {
  kStart,         // no command in progress
  kBackslash,     // `\` at the end of an unquoted line
  kQuotedEscape,  // `\` at the end of a line inside "..."
  kNewline,       // a quote is still open: keep the line break
  kOperator,      // the line ended with && || |
};

}  // namespace

Result<std::vector<std::string>> split_script_commands(std::string_view script) {
  std::vector<std::string> commands;
  std::string command;
  Join join = Join::kStart;
  bool space_before_backslash = false;
  QuoteState quotes;
  std::deque<Heredoc> heredocs;
  bool in_heredoc_body = false;
  std::size_t escaped_end = 0;  // in `command`, just past its last backslash-escaped character

  // `at_delimiter`: the command ends with its here-document's delimiter line,
  // kept as it is (a delimiter may be blanks: `cat <<\ `).
  auto finish = [&](bool at_delimiter = false) {
    // Blanks (space and tab, as for sh) trimmed, but one a backslash escapes
    // stays (`a\ `); other white space like '\v' is a word character to sh.
    const std::string_view text =
        ltrim(at_delimiter ? std::string_view(command) : rtrim(command, escaped_end));
    if (!trim(text).empty()) commands.emplace_back(text);  // not only white space ("\v")
    command.clear();
    escaped_end = 0;
    join = Join::kStart;
  };
  // `&&`, `||` or `|` ends the command so far (not an escaped `\|`), blanks
  // aside: `a | \` and a comment line go on like `a |`.
  auto ends_with_operator = [&] {
    const std::string_view text = rtrim(command, escaped_end);
    return text.size() > escaped_end &&
           (ends_with(text, "&&") || ends_with(text, "||") || ends_with(text, "|"));
  };

  std::size_t pos = 0;
  while (pos <= script.size()) {
    std::size_t end = script.find('\n', pos);
    if (end == std::string_view::npos) end = script.size();
    std::string_view line = script.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const bool last_line = end == script.size();
    pos = end + 1;
    if (last_line && line.empty()) break;

    if (in_heredoc_body) {
      command += '\n';
      command += line;
      std::string_view check = line;
      if (heredocs.front().strip_tabs) {
        while (!check.empty() && check.front() == '\t') check.remove_prefix(1);
      }
      if (check == heredocs.front().delimiter) {
        heredocs.pop_front();
        if (heredocs.empty()) {
          in_heredoc_body = false;
          finish(/*at_delimiter=*/true);
        }
      }
      continue;
    }

    std::string_view piece;
    switch (join) {
      case Join::kStart: {
        // Only blanks come before a comment's '#': "\f#" is a word to sh.
        const std::string_view text = ltrim(line);
        if (trim(text).empty() || text.front() == '#') continue;
        piece = text;
        break;
      }
      case Join::kBackslash:
        piece = ltrim(line);
        if (trim(piece).empty()) {  // the continuation joined an empty line
          if (ends_with_operator()) {
            join = Join::kOperator;  // `a &&\` and a blank line: sh reads on
          } else if (!heredocs.empty()) {
            // `cat <<EOF \` and a blank line: the body follows.
            command.resize(rtrim(command, escaped_end).size());
            in_heredoc_body = true;
          } else {
            finish();
          }
          continue;
        }
        if (space_before_backslash || piece.size() != line.size()) command += ' ';
        break;
      case Join::kQuotedEscape:
        piece = line;
        break;
      case Join::kNewline:
        command += '\n';
        piece = line;
        break;
      case Join::kOperator: {
        const std::string_view text = ltrim(line);
        if (trim(text).empty() || text.front() == '#') continue;  // sh skips these too
        command.resize(rtrim(command, escaped_end).size());
        command += ' ';
        piece = ltrim(line);
        break;
      }
    }

    const ScannedLine scanned = scan_line(piece, quotes, heredocs);
    if (scanned.split_redirection) {
      return fail(ErrorCode::kInvalidArgument,
                  "command '" + preview(trim(command + std::string(piece))) +
                      "': a '<' or '<<' broken across lines by '\\' is not supported; write it "
                      "on one line");
    }
    std::string_view code = scanned.code;
    if (scanned.escaped_newline) {
      code.remove_suffix(1);  // the backslash
      if (quotes.open()) {
        join = Join::kQuotedEscape;
      } else {
        space_before_backslash = code.size() > scanned.escaped_end && is_blank(code.back());
        code = rtrim(code, scanned.escaped_end);
        join = Join::kBackslash;
      }
      if (scanned.escaped_end > 0) escaped_end = command.size() + scanned.escaped_end;
      command += code;
      continue;
    }
    if (quotes.open()) {
      command += code;
      join = Join::kNewline;
      continue;
    }
    code = rtrim(code, scanned.escaped_end);
    if (scanned.escaped_end > 0) escaped_end = command.size() + scanned.escaped_end;
    command += code;
    if (ends_with_operator()) {
      join = Join::kOperator;
      continue;
    }
    if (!heredocs.empty()) {
      // The body starts on the next line; blanks before it are nothing
      // (`cat <<EOF \` and a comment line leave one).
      command.resize(rtrim(command, escaped_end).size());
      in_heredoc_body = true;
      continue;
    }
    finish();
  }

  if (!heredocs.empty()) {  // in its body, or the script ended first (`cat <<EOF \`)
    return fail(ErrorCode::kInvalidArgument, "the here-document '" + heredocs.front().delimiter +
                                                 "' of command '" + preview(trim(command)) +
                                                 "' is never ended");
  }
  if (quotes.open()) {
    return fail(ErrorCode::kInvalidArgument,
                "command '" + preview(trim(command)) + "' has a quote that is never closed");
  }
  if (join == Join::kOperator || (join == Join::kBackslash && ends_with_operator())) {
    return fail(ErrorCode::kInvalidArgument, "command '" + preview(trim(command)) +
                                                 "' ends with an operator and nothing follows");
  }
  finish();  // a backslash on the very last line: keep what came before it
  return commands;
}

}  // namespace haul::cards
