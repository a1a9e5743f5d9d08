// File selection for Hugging Face repositories, the way huggingface_hub's
// filter_repo_objects (allow_patterns / ignore_patterns) selects: Python's
// fnmatch.fnmatchcase on '/'-separated repository paths. Pure.
//
// Semantics worth knowing: matching is case-sensitive; '*' matches any run of
// characters *including* '/', so "data/*.json" selects data/sub/x.json; '?'
// matches one character (one UTF-8 code point); "[seq]" and "[!seq]" match one
// character in or not in seq, with ranges like "a-z"; a '[' without a closing
// ']' is a literal. There is no escape character.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace haul::sources::hf {

// Python's fnmatch.fnmatchcase(name, pattern), exactly (code points, not bytes;
// a byte that is not valid UTF-8 counts as one character).
bool fnmatch_case(std::string_view name, std::string_view pattern);

// The pattern normalisation of filter_repo_objects: every '\' becomes '/',
// then a pattern ending in '/' (a folder) gets '*' appended.
std::string normalize_pattern(std::string_view pattern);

// filter_repo_objects for one path: kept when it matches at least one allow
// pattern (or `allow_patterns` is empty) and no ignore pattern. Patterns and
// the path are normalised as above ('\' -> '/') before matching. An empty
// allow list means "everything", as huggingface_hub's allow_patterns=None.
bool keep_path(std::string_view path, const std::vector<std::string>& allow_patterns,
               const std::vector<std::string>& ignore_patterns);

}  // namespace haul::sources::hf
