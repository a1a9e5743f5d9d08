#include "net/file_name.hpp"

#include <cctype>
#include <vector>

#include "base/text.hpp"

namespace haul::net {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct Param {
  std::string name;
  std::string value;
};

// Splits "attachment; a=b; c=\"d;e\"" into parameters, honouring quotes and
// backslash escapes inside them.
std::vector<Param> split_params(std::string_view value) {
  std::vector<Param> params;
  std::size_t i = value.find(';');
  while (i != std::string_view::npos && i < value.size()) {
    ++i;  // past ';'
    const std::size_t eq = value.find('=', i);
    const std::size_t semi = value.find(';', i);
    if (eq == std::string_view::npos || (semi != std::string_view::npos && semi < eq)) {
      i = semi;
      continue;
    }
    Param param;
    param.name = std::string(trim(value.substr(i, eq - i)));
    std::size_t j = eq + 1;
    while (j < value.size() && value[j] == ' ') ++j;
    if (j < value.size() && value[j] == '"') {
      ++j;
      while (j < value.size() && value[j] != '"') {
        if (value[j] == '\\' && j + 1 < value.size()) ++j;
        param.value += value[j];
        ++j;
      }
      i = value.find(';', j);
    } else {
      const std::size_t end = value.find(';', j);
      param.value =
          std::string(trim(value.substr(j, end == std::string_view::npos ? end : end - j)));
      i = end;
    }
    params.push_back(std::move(param));
  }
  return params;
}

// RFC 8187 ext-value: charset'language'pct-encoded. UTF-8 and ISO-8859-1 only.
std::optional<std::string> decode_ext_value(std::string_view value) {
  const std::size_t q1 = value.find('\'');
  if (q1 == std::string_view::npos) return std::nullopt;
  const std::size_t q2 = value.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  const std::string_view charset = value.substr(0, q1);
  const std::string decoded = percent_decode(value.substr(q2 + 1));
  if (iequals(charset, "utf-8")) return decoded;
  if (iequals(charset, "iso-8859-1")) {
    std::string utf8;
    for (unsigned char c : decoded) {
      if (c < 0x80) {
        utf8 += static_cast<char>(c);
      } else {
        utf8 += static_cast<char>(0xC0 | (c >> 6));
        utf8 += static_cast<char>(0x80 | (c & 0x3F));
      }
    }
    return utf8;
  }
  return std::nullopt;
}

// Length of the valid UTF-8 sequence at s[i], 0 when invalid: no overlong
// forms, no surrogates, nothing above U+10FFFF (RFC 3629).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = byte(0);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned char low = 0x80;  // allowed range of the second byte
  unsigned char high = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) low = 0xA0;   // overlong
    if (c == 0xED) high = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) low = 0x90;   // overlong
    if (c == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
  }
  return len;
}

// C1 controls (U+0080..U+009F) are encoded C2 80..C2 9F.
bool is_c1_control(std::string_view s, std::size_t i, std::size_t len) {
  return len == 2 && static_cast<unsigned char>(s[i]) == 0xC2 &&
         static_cast<unsigned char>(s[i + 1]) <= 0x9F;
}

void strip_dots_and_spaces(std::string& name) {
  std::size_t start = 0;
  while (start < name.size() && (name[start] == '.' || name[start] == ' ')) ++start;
  name.erase(0, start);
  while (!name.empty() && (name.back() == '.' || name.back() == ' ')) name.pop_back();
}

}  // namespace

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::optional<std::string> parse_content_disposition(std::string_view value) {
  std::optional<std::string> plain;
  std::optional<std::string> extended;
  for (const Param& param : split_params(value)) {
    if (iequals(param.name, "filename*")) {
      if (auto decoded = decode_ext_value(param.value)) extended = std::move(decoded);
    } else if (iequals(param.name, "filename")) {
      plain = param.value;
    }
  }
  if (extended && !extended->empty()) return extended;
  if (plain && !plain->empty()) return plain;
  return std::nullopt;
}

std::string sanitize_file_name(std::string_view name) {
  // Only the last path component counts, whichever separator the server used.
  const std::size_t cut = name.find_last_of("/\\");
  if (cut != std::string_view::npos) name = name.substr(cut + 1);

  std::string clean;
  for (std::size_t i = 0; i < name.size();) {
    const auto c = static_cast<unsigned char>(name[i]);
    const std::size_t len = utf8_sequence_length(name, i);
    // Invalid UTF-8, and characters harmless on Linux but fatal on the
    // Windows shares models often live on, become '_'.
    const bool replace = len == 0 || (len == 1 && (c == ':' || c == '*' || c == '?' || c == '"' ||
                                                   c == '<' || c == '>' || c == '|'));
    if (replace) {
      clean += '_';
      ++i;
    } else if ((len == 1 && (c < 0x20 || c == 0x7F)) || is_c1_control(name, i, len)) {
      i += len;  // control characters vanish
    } else {
      clean.append(name.substr(i, len));
      i += len;
    }
  }
  // No hidden files, no "." or "..", no trailing dots or spaces.
  strip_dots_and_spaces(clean);

  constexpr std::size_t kMaxBytes = 255;
  if (clean.size() > kMaxBytes) {
    // Keep a short extension and cut on a UTF-8 boundary.
    const std::size_t dot = clean.rfind('.');
    std::string ext =
        (dot != std::string::npos && clean.size() - dot <= 16) ? clean.substr(dot) : "";
    std::size_t keep = kMaxBytes - ext.size();
    while (keep > 0 && (static_cast<unsigned char>(clean[keep]) & 0xC0) == 0x80) --keep;
    clean = clean.substr(0, keep) + ext;
    strip_dots_and_spaces(clean);  // the cut may have exposed one
  }
  return clean;
}

std::string file_name_from_url(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  const std::size_t end = url.find_first_of("?#");
  if (end != std::string_view::npos) url = url.substr(0, end);
  const std::size_t slash = url.find('/');
  if (slash == std::string_view::npos) return "";  // host only
  url.remove_prefix(slash);
  const std::size_t last = url.find_last_of('/');
  return sanitize_file_name(percent_decode(url.substr(last + 1)));
}

}  // namespace haul::net
