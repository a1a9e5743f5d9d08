#include "sources/hf/hf_patterns.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace haul::sources::hf {
namespace {

// Python matches str, i.e. code points: "?" must eat a whole "é", and ranges
// compare code points. A byte that is not valid UTF-8 becomes U+DC80..U+DCFF,
// as Python's surrogateescape would make it.
std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    int extra = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (lead < 0x80) {
      cp = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      extra = 1, cp = lead & 0x1F, min = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      extra = 2, cp = lead & 0x0F, min = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      extra = 3, cp = lead & 0x07, min = 0x10000;
    } else {
      extra = -1;
    }
    bool valid = extra >= 0 && i + static_cast<std::size_t>(extra) < text.size();
    for (int k = 1; valid && k <= extra; ++k) {
      const auto cont = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
      if ((cont & 0xC0) != 0x80) valid = false;
      cp = (cp << 6) | (cont & 0x3F);
    }
    if (valid && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) valid = false;
    if (!valid) {
      out.push_back(0xDC00 + lead);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<std::size_t>(extra) + 1;
  }
  return out;
}

// One element of a compiled pattern. Every kind but kStar matches exactly one
// character, which is what makes the single-backtrack matcher below exact.
struct Token {
  enum class Kind { kStar, kAny, kLiteral, kSet, kNever };
  Kind kind = Kind::kLiteral;
  char32_t literal = 0;
  bool negated = false;
  std::u32string members;                             // single characters of a set
  std::vector<std::pair<char32_t, char32_t>> ranges;  // inclusive, low <= high

  bool matches(char32_t c) const {
    switch (kind) {
      case Kind::kAny:
        return true;
      case Kind::kLiteral:
        return c == literal;
      case Kind::kNever:
      case Kind::kStar:  // handled by the matcher, never asked
        return false;
      case Kind::kSet:
        break;
    }
    bool in = members.find(c) != std::u32string::npos;
    for (const auto& [low, high] : ranges) in = in || (c >= low && c <= high);
    return in != negated;
  }
};

Token make_token(Token::Kind kind, char32_t literal = 0) {
  Token token;
  token.kind = kind;
  token.literal = literal;
  return token;
}

// The body of "[...]" as fnmatch.translate reads it: split into chunks at the
// hyphens that make ranges (a hyphen right after '[' or '[!' is literal, and
// the search skips the character after a range's end), drop reversed ranges
// together with their bounds, then the last character of each chunk and the
// first of the next are a range's bounds and everything else is literal.
Token compile_set(const std::u32string& stuff) {
  std::vector<std::u32string> chunks;
  if (stuff.find(U'-') == std::u32string::npos) {
    chunks.push_back(stuff);
  } else {
    std::size_t start = 0;
    std::size_t k = stuff[0] == U'!' ? 2 : 1;
    while (k < stuff.size()) {
      const std::size_t hyphen = stuff.find(U'-', k);
      if (hyphen == std::u32string::npos) break;
      chunks.push_back(stuff.substr(start, hyphen - start));
      start = hyphen + 1;
      k = hyphen + 3;
    }
    std::u32string last = stuff.substr(std::min(start, stuff.size()));
    if (!last.empty()) {
      chunks.push_back(std::move(last));
    } else {
      chunks.back() += U'-';
    }
    for (std::size_t i = chunks.size() - 1; i > 0; --i) {
      if (!chunks[i - 1].empty() && !chunks[i].empty() && chunks[i - 1].back() > chunks[i][0]) {
        chunks[i - 1] = chunks[i - 1].substr(0, chunks[i - 1].size() - 1) + chunks[i].substr(1);
        chunks.erase(chunks.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
  }

  Token token;
  token.kind = Token::Kind::kSet;
  std::size_t total = 0;
  for (const auto& chunk : chunks) total += chunk.size();
  total += chunks.size() - 1;  // the range hyphens
  if (total == 0) return make_token(Token::Kind::kNever);
  if (total == 1 && chunks[0] == U"!") return make_token(Token::Kind::kAny);
  if (!chunks[0].empty() && chunks[0][0] == U'!') {
    token.negated = true;
    chunks[0].erase(0, 1);
  }
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    const std::u32string& chunk = chunks[c];
    for (std::size_t p = 0; p < chunk.size(); ++p) {
      const bool range_high = c > 0 && p == 0 && !chunks[c - 1].empty();
      const bool range_low = c + 1 < chunks.size() && p + 1 == chunk.size();
      if (range_low) {
        token.ranges.emplace_back(chunk[p], chunks[c + 1].empty() ? chunk[p] : chunks[c + 1][0]);
      } else if (!range_high) {
        token.members.push_back(chunk[p]);
      }
    }
    // A range hyphen with no low bound (only possible after "[!" lost its
    // chunk) reads as a literal '-' in the regex fnmatch builds.
    if (c > 0 && chunks[c - 1].empty()) token.members.push_back(U'-');
  }
  return token;
}

std::vector<Token> compile(const std::u32string& pat) {
  std::vector<Token> tokens;
  const std::size_t n = pat.size();
  std::size_t i = 0;
  while (i < n) {
    const char32_t c = pat[i++];
    if (c == U'*') {
      if (tokens.empty() || tokens.back().kind != Token::Kind::kStar) {
        tokens.push_back(make_token(Token::Kind::kStar));
      }
    } else if (c == U'?') {
      tokens.push_back(make_token(Token::Kind::kAny));
    } else if (c == U'[') {
      std::size_t j = i;
      if (j < n && pat[j] == U'!') ++j;
      if (j < n && pat[j] == U']') ++j;
      while (j < n && pat[j] != U']') ++j;
      if (j >= n) {
        tokens.push_back(make_token(Token::Kind::kLiteral, U'['));
      } else {
        tokens.push_back(compile_set(pat.substr(i, j - i)));
        i = j + 1;
      }
    } else {
      tokens.push_back(make_token(Token::Kind::kLiteral, c));
    }
  }
  return tokens;
}

std::string slashes(std::string_view text) {
  std::string out(text);
  std::replace(out.begin(), out.end(), '\\', '/');
  return out;
}

}  // namespace

bool fnmatch_case(std::string_view name, std::string_view pattern) {
  const std::u32string text = decode_utf8(name);
  const std::vector<Token> tokens = compile(decode_utf8(pattern));
  // Greedy with one backtrack point: since every other token eats exactly one
  // character, retrying from the last '*' is enough for a full match.
  std::size_t t = 0;
  std::size_t s = 0;
  std::size_t star = tokens.size();
  std::size_t star_s = 0;
  while (s < text.size()) {
    if (t < tokens.size() && tokens[t].kind == Token::Kind::kStar) {
      star = t++;
      star_s = s;
    } else if (t < tokens.size() && tokens[t].matches(text[s])) {
      ++t;
      ++s;
    } else if (star != tokens.size()) {
      t = star + 1;
      s = ++star_s;
    } else {
      return false;
    }
  }
  while (t < tokens.size() && tokens[t].kind == Token::Kind::kStar) ++t;
  return t == tokens.size();
}

std::string normalize_pattern(std::string_view pattern) {
  std::string out = slashes(pattern);
  if (!out.empty() && out.back() == '/') out.push_back('*');
  return out;
}

bool keep_path(std::string_view path, const std::vector<std::string>& allow_patterns,
               const std::vector<std::string>& ignore_patterns) {
  const std::string name = slashes(path);
  auto matches = [&](const std::string& pattern) {
    return fnmatch_case(name, normalize_pattern(pattern));
  };
  if (!allow_patterns.empty() &&
      std::none_of(allow_patterns.begin(), allow_patterns.end(), matches)) {
    return false;
  }
  return std::none_of(ignore_patterns.begin(), ignore_patterns.end(), matches);
}

}  // namespace haul::sources::hf
