// The YAML-ish front matter of a resource card: the `---` fenced block of
// `key: value` lines at the very top of the markdown file. It is not
// markdown, so it is split off before md4c sees the document. Pure.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace haul::cards {

struct FrontMatter {
  // Keys as written; values unquoted and trimmed.
  std::map<std::string, std::string> values;
  // The markdown after the closing fence (the whole input when there is none).
  std::string_view body;
  bool present = false;

  // The value of `key`, compared ignoring ASCII case; "" when absent.
  std::string get(std::string_view key) const;
};

// Splits front matter off `markdown`. Front matter exists only when the first
// line (after an optional UTF-8 BOM) is `---`; it ends at a line `---` or `...`.
// Inside it: blank lines and `#` comments are skipped; `key: value` lines set a
// key; `"..."` and `'...'` values are unquoted; ` #` starts a comment in a
// plain value. Indented lines and `- item` lines continue the previous key:
// after `key: |` they are joined with '\n', after `key: >` or a plain value
// with ' ', after an empty value (a YAML list) with '\n'.
// Errors (kInvalidArgument, without the card's path; the caller adds it): the
// block is never closed; a line is not `key: value`; a key appears twice.
Result<FrontMatter> split_front_matter(std::string_view markdown);

}  // namespace haul::cards
