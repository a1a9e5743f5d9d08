// A small POSIX shell lexer: enough of sh(1)'s quoting and expansion rules to
// read a resource card's download commands. Unlike the progress parsers'
// splitter (progress/command_tool.cpp), it keeps track of what each part of
// a word was, so that '$UI_HOME' (literal) and "$UI_HOME" (expanded) differ.
#include "remote/shell_words.hpp"

#include <algorithm>
#include <utility>

#include "base/text.hpp"

namespace haul::remote::shell {
namespace {

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_operator(char c) {
  return c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')';
}

class Lexer {
 public:
  explicit Lexer(std::string_view line) : s_(line) {}

  std::vector<Command> run() {
    while (i_ < s_.size()) step();
    end_command("");
    return std::move(commands_);
  }

 private:
  void step() {
    const char c = s_[i_];
    if (is_blank(c)) {
      end_word();
      ++i_;
    } else if (c == '<' || c == '>' || (c == '&' && i_ + 1 < s_.size() && s_[i_ + 1] == '>')) {
      redirection();  // bash's &>file too, before '&' is taken as an operator
    } else if (is_operator(c)) {
      operator_token();
    } else if (c == '#' && !in_word_) {
      while (i_ < s_.size() && s_[i_] != '\n') ++i_;
    } else if (c == '\'') {
      const std::size_t close = s_.find('\'', i_ + 1);
      const std::size_t end = close == std::string_view::npos ? s_.size() : close;
      text(s_.substr(i_ + 1, end - i_ - 1), true);
      i_ = end == s_.size() ? end : end + 1;
    } else if (c == '"') {
      double_quoted();
    } else if (c == '\\') {
      if (i_ + 1 < s_.size() && s_[i_ + 1] != '\n') text(s_.substr(i_ + 1, 1), true);
      i_ += 2;  // backslash-newline joins lines
    } else if (c == '$') {
      dollar(false);
    } else if (c == '`') {
      backquote();
    } else if (c == '~' && !in_word_ &&
               (i_ + 1 == s_.size() || s_[i_ + 1] == '/' || is_blank(s_[i_ + 1]) ||
                is_operator(s_[i_ + 1]))) {
      piece(Piece::Kind::kLogin, "", false);
      ++i_;
    } else {
      if (c == '*' || c == '?' || c == '[' || c == '{') word_.glob = true;
      text(s_.substr(i_, 1), false);
      ++i_;
    }
  }

  void operator_token() {
    end_word();
    std::string op(1, s_[i_]);
    if (i_ + 1 < s_.size() && (op == "&" || op == "|" || op == ";") && s_[i_ + 1] == op[0]) {
      op += op;  // && || ;;
    } else if (op == "|" && i_ + 1 < s_.size() && s_[i_ + 1] == '&') {
      op = "|";  // bash |&: a pipe
      ++i_;
    }
    i_ += op.size();
    if (op == "(" || op == ")") {
      end_command(op);
      commands_.push_back(Command{{}, op, op});
      before_ = op;
      return;
    }
    end_command(op);
  }

  // "2>&1", "> log", ">>log", "<in", "&>f": neither the operator nor its
  // target is a word of the command.
  void redirection() {
    bool fd = in_word_ && !word_.pieces.empty();
    for (const Piece& p : word_.pieces) {
      fd = fd && p.kind == Piece::Kind::kText && !p.quoted && !p.text.empty() &&
           p.text.find_first_not_of("0123456789") == std::string::npos;
    }
    if (fd) {
      word_ = Word{};
      in_word_ = false;
    } else {
      end_word();
    }
    while (i_ < s_.size() && (s_[i_] == '>' || s_[i_] == '<' || s_[i_] == '&' || s_[i_] == '|'))
      ++i_;
    skip_next_word_ = true;
  }

  void double_quoted() {
    in_word_ = true;
    ++i_;
    while (i_ < s_.size() && s_[i_] != '"') {
      const char c = s_[i_];
      if (c == '\\' && i_ + 1 < s_.size() &&
          std::string_view("\"\\$`\n").find(s_[i_ + 1]) != std::string_view::npos) {
        if (s_[i_ + 1] != '\n') text(s_.substr(i_ + 1, 1), true);
        i_ += 2;
      } else if (c == '$') {
        dollar(true);
      } else if (c == '`') {
        backquote();
      } else {
        text(s_.substr(i_, 1), true);
        ++i_;
      }
    }
    ++i_;
  }

  // At a '$': a variable, or something unpredictable (consumed whole).
  void dollar(bool quoted) {
    const std::size_t start = i_++;
    if (i_ >= s_.size()) {
      text("$", quoted);
      return;
    }
    const char c = s_[i_];
    if (is_name_start(c)) {
      while (i_ < s_.size() && is_name_char(s_[i_])) ++i_;
      piece(Piece::Kind::kVar, std::string(s_.substr(start + 1, i_ - start - 1)), quoted);
    } else if (c == '{') {
      const std::size_t close = s_.find('}', i_);
      const std::size_t end = close == std::string_view::npos ? s_.size() : close;
      const std::string_view inside = s_.substr(i_ + 1, end - i_ - 1);
      i_ = end == s_.size() ? end : end + 1;
      bool plain = !inside.empty() && is_name_start(inside.front());
      for (char k : inside) plain = plain && is_name_char(k);
      if (plain) {
        piece(Piece::Kind::kVar, std::string(inside), quoted);
      } else {
        piece(Piece::Kind::kUnknown, std::string(s_.substr(start, i_ - start)), quoted);
      }
    } else if (c == '(') {
      int depth = 0;
      while (i_ < s_.size()) {
        const char k = s_[i_++];
        if (k == '(') ++depth;
        if (k == ')' && --depth == 0) break;
      }
      piece(Piece::Kind::kUnknown, std::string(s_.substr(start, i_ - start)), quoted);
    } else if (c == '\'' && !quoted) {  // bash $'...'
      const std::size_t close = s_.find('\'', i_ + 1);
      i_ = close == std::string_view::npos ? s_.size() : close + 1;
      piece(Piece::Kind::kUnknown, std::string(s_.substr(start, i_ - start)), quoted);
    } else if ((c >= '0' && c <= '9') || std::string_view("@*#?$!-").find(c) != std::string::npos) {
      ++i_;
      piece(Piece::Kind::kUnknown, std::string(s_.substr(start, i_ - start)), quoted);
    } else {
      text("$", quoted);
    }
  }

  void backquote() {
    const std::size_t start = i_++;
    while (i_ < s_.size() && s_[i_] != '`') i_ += s_[i_] == '\\' ? 2 : 1;
    i_ = std::min(i_ + 1, s_.size());
    piece(Piece::Kind::kUnknown, std::string(s_.substr(start, i_ - start)), true);
  }

  void text(std::string_view t, bool quoted) {
    in_word_ = true;
    if (!word_.pieces.empty() && word_.pieces.back().kind == Piece::Kind::kText &&
        word_.pieces.back().quoted == quoted) {
      word_.pieces.back().text.append(t);
    } else {
      word_.pieces.push_back(Piece{Piece::Kind::kText, std::string(t), quoted});
    }
  }

  void piece(Piece::Kind kind, std::string t, bool quoted) {
    in_word_ = true;
    word_.pieces.push_back(Piece{kind, std::move(t), quoted});
  }

  void end_word() {
    if (!in_word_) return;
    if (skip_next_word_) {
      skip_next_word_ = false;
    } else {
      current_.push_back(std::move(word_));
    }
    word_ = Word{};
    in_word_ = false;
  }

  void end_command(const std::string& op) {
    end_word();
    skip_next_word_ = false;
    if (!current_.empty()) commands_.push_back(Command{std::move(current_), before_, op});
    current_.clear();
    before_ = op;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  Word word_;
  bool in_word_ = false;
  bool skip_next_word_ = false;
  std::vector<Word> current_;
  std::string before_;
  std::vector<Command> commands_;
};

}  // namespace

std::vector<Command> split_commands(std::string_view line) { return Lexer(line).run(); }

std::optional<std::string> expand(const Word& word, const Vars& vars) {
  std::string out;
  for (std::size_t k = 0; k < word.pieces.size(); ++k) {
    const Piece& p = word.pieces[k];
    switch (p.kind) {
      case Piece::Kind::kText:
        if (has_control_char(p.text)) return std::nullopt;
        out += p.text;
        break;
      case Piece::Kind::kLogin:
        if (k != 0) return std::nullopt;
        out += kLoginDir;
        break;
      case Piece::Kind::kVar: {
        if (p.text == "HOME") {
          if (k != 0) return std::nullopt;
          out += kLoginDir;
          break;
        }
        const auto it = vars.find(p.text);
        if (it == vars.end() || !it->second || has_control_char(*it->second)) return std::nullopt;
        // Unquoted, a value with blanks would become several words, and one
        // with glob characters might match files.
        if (!p.quoted && it->second->find_first_of(" \t\n*?[") != std::string::npos)
          return std::nullopt;
        out += *it->second;
        break;
      }
      case Piece::Kind::kUnknown:
        return std::nullopt;
    }
  }
  return out;
}

std::string spelled(const Word& word) {
  std::string out;
  for (const Piece& p : word.pieces) {
    switch (p.kind) {
      case Piece::Kind::kText:
      case Piece::Kind::kUnknown:
        out += p.text;
        break;
      case Piece::Kind::kLogin:
        out += '~';
        break;
      case Piece::Kind::kVar:
        out += "$" + p.text;
        break;
    }
  }
  return out;
}

std::optional<std::pair<std::string, Word>> as_assignment(const Word& word) {
  if (word.pieces.empty()) return std::nullopt;
  const Piece& first = word.pieces.front();
  if (first.kind != Piece::Kind::kText || first.quoted) return std::nullopt;
  const std::size_t eq = first.text.find('=');
  if (eq == 0 || eq == std::string::npos || !is_name_start(first.text.front())) return std::nullopt;
  for (std::size_t k = 0; k < eq; ++k) {
    if (!is_name_char(first.text[k])) return std::nullopt;
  }
  Word value;
  std::string rest = first.text.substr(eq + 1);
  if (rest == "~" || rest.rfind("~/", 0) == 0) {
    value.pieces.push_back(Piece{Piece::Kind::kLogin, "", true});
    rest.erase(0, 1);
  }
  if (!rest.empty()) value.pieces.push_back(Piece{Piece::Kind::kText, rest, true});
  for (std::size_t k = 1; k < word.pieces.size(); ++k) {
    Piece p = word.pieces[k];
    p.quoted = true;  // no field splitting in an assignment
    value.pieces.push_back(std::move(p));
  }
  return std::make_pair(first.text.substr(0, eq), std::move(value));
}

}  // namespace haul::remote::shell
