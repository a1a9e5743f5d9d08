// What a Hugging Face source string names (repository, revision, file, folder
// or glob) and the Hub URLs built from it. Pure: no network, no filesystem.
//
// Accepted sources (ORG/NAME is the repository id):
//   hf://ORG/NAME[@REV][/PATH]            hf://datasets/ORG/NAME...   hf://spaces/ORG/NAME...
//   hf://models/ORG/NAME...               (the explicit form of a model)
//   https://huggingface.co/ORG/NAME                      the whole repository
//   https://huggingface.co/ORG/NAME/resolve/REV/PATH     one file (also /blob/ and /raw/)
//   https://huggingface.co/ORG/NAME/tree/REV[/DIR]       a folder, or the repository at REV
//   the same with /datasets/ or /spaces/ before ORG, on hf.co, or on HF_ENDPOINT's host.
//
// Revisions containing '/': in hf:// form `@refs/pr/N` and `@refs/convert/NAME`
// are recognised as revisions (as huggingface_hub's parse_hf_uri does); any
// other such revision must be written URL-encoded (`@my%2Fbranch`), since the
// first '/' after '@' otherwise starts the path. The revision is then
// percent-decoded; the path of an hf:// source is taken literally. URL forms
// apply the same rule to the segment after /resolve/, /blob/ and /tree/, and
// percent-decode every path segment; query strings and fragments are ignored.
#pragma once

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace haul::sources::hf {

struct HfRef {
  enum class RepoType { kModel, kDataset, kSpace };
  RepoType type = RepoType::kModel;
  std::string repo_id;            // "org/name"
  std::string revision = "main";  // branch, tag, commit or refs/pr/N; decoded
  // A file path, a glob (see is_glob), "" for the whole repository, or a
  // folder when it ends with '/'. '/'-separated, no empty, "." or ".." segment.
  std::string path;
  bool explicit_revision = false;  // the source named a revision
};

// Parses a source string. `endpoint` is HF_ENDPOINT ("https://huggingface.co",
// "http://127.0.0.1:8080"); URLs on its host and port are accepted besides
// huggingface.co and hf.co. Errors: kInvalidArgument, one line naming the
// source, e.g. "hf source 'hf://gpt2': missing repository name (expected ORG/NAME)".
Result<HfRef> parse_hf_source(std::string_view source, std::string_view endpoint);

// True when `path` contains one of the fnmatch wildcards '*', '?' or '['.
bool is_glob(std::string_view path);

// "models", "datasets" or "spaces": the repo type as the /api/ routes spell it.
std::string_view api_type_name(HfRef::RepoType type);

// Percent-encodes like Python's urllib.parse.quote: letters, digits and
// "_.-~" stay, so do the characters in `safe`; every other byte becomes %XX.
std::string url_quote(std::string_view text, std::string_view safe);

// {endpoint}/{datasets/|spaces/}{repo}/resolve/{quote(revision, safe="")}/{quote(file_path)}
// with '/' kept in the file path. A trailing '/' of `endpoint` is ignored.
std::string resolve_url(std::string_view endpoint, const HfRef& ref, std::string_view revision,
                        std::string_view file_path);

// {endpoint}/api/{type}s/{repo}/tree/{quoted revision}[/{quote(dir, safe="")}]
//   ?recursive=true&expand=false
// as huggingface_hub's list_repo_tree sends it (the directory is quoted whole,
// '/' included). A trailing '/' of `dir` is dropped; "" lists the whole tree.
std::string api_tree_url(std::string_view endpoint, const HfRef& ref, std::string_view revision,
                         std::string_view dir);

// {endpoint}/api/{type}s/{repo}/revision/{quoted revision}: answers {"sha": ...}.
std::string api_revision_url(std::string_view endpoint, const HfRef& ref,
                             std::string_view revision);

// The repository's web page, {endpoint}/{datasets/|spaces/}{repo}, where a
// gated repository's conditions are accepted.
std::string repo_page_url(std::string_view endpoint, const HfRef& ref);

// "model.safetensors in org/name@main", "datasets/org/name@main": names what a
// request was about in error messages. `file` may be empty.
std::string describe(const HfRef& ref, std::string_view revision, std::string_view file);

// Checks a repository file path from a user or a server before it becomes a
// local path: not empty, relative, '/'-separated with no empty, "." or ".."
// segment, no NUL. Errors: kInvalidArgument "unsafe path in repository: '...'"
// (the caller may re-code it when a server sent the path).
Result<void> check_repo_path(std::string_view path);

}  // namespace haul::sources::hf
