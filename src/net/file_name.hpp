// Where a downloaded file's name comes from when the user gave none: the
// Content-Disposition header (RFC 6266, with RFC 8187 filename*) or the last
// URL path segment; and the sanitising that keeps a hostile server from
// choosing a path. Pure functions, fuzzed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace haul::net {

// The raw (unsanitised) file name in a Content-Disposition value. filename*
// wins over filename. std::nullopt when the header names no file.
std::optional<std::string> parse_content_disposition(std::string_view value);

// A name that is safe as a single path component inside a chosen directory:
// the last component of whatever the server sent, with control characters,
// invalid UTF-8 and leading dots removed, at most 255 bytes. "" when nothing
// usable remains ("..", "/", "\x01").
std::string sanitize_file_name(std::string_view name);

// Sanitised, percent-decoded last path segment of a URL; "" when there is none.
std::string file_name_from_url(std::string_view url);

// Decodes %XX escapes; malformed escapes are kept as they are.
std::string percent_decode(std::string_view text);

}  // namespace haul::net
