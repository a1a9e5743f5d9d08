#include "sources/hf/hf_ref.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>
#include <vector>

#include "base/text.hpp"
#include "net/file_name.hpp"

namespace haul::sources::hf {
namespace {

using RepoType = HfRef::RepoType;

constexpr std::string_view kHfScheme = "hf://";

bool starts_with_icase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

std::string trim_endpoint(std::string_view endpoint) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.remove_suffix(1);
  return std::string(endpoint);
}

std::string_view url_prefix(RepoType type) {
  switch (type) {
    case RepoType::kDataset:
      return "datasets/";
    case RepoType::kSpace:
      return "spaces/";
    case RepoType::kModel:
      break;
  }
  return "";
}

// The pieces of an absolute http(s) URL this parser needs. Userinfo, query
// and fragment are dropped.
struct UrlParts {
  std::string scheme;  // lower-case
  std::string host;    // lower-case
  int port = 0;        // explicit or the scheme's default
  std::string path;    // raw, "" or starting with '/'
};

std::optional<UrlParts> split_url(std::string_view text) {
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  UrlParts url;
  url.scheme = to_lower(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") return std::nullopt;
  std::string_view rest = text.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("?#"));
  const auto path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  url.path = path_start == std::string_view::npos ? "" : std::string(rest.substr(path_start));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    url.host = to_lower(authority.substr(0, close + 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.find(':');
    url.host = to_lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) return std::nullopt;
  url.port = url.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    int value = 0;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || value > 65535) return std::nullopt;
      value = value * 10 + (c - '0');
    }
    url.port = value;
  }
  return url;
}

bool is_hub_host(const UrlParts& url) {
  const int default_port = url.scheme == "https" ? 443 : 80;
  if (url.port != default_port) return false;
  return url.host == "huggingface.co" || url.host == "www.huggingface.co" || url.host == "hf.co" ||
         url.host == "www.hf.co";
}

tl::unexpected<Error> bad_source(std::string_view source, std::string_view why) {
  return fail(ErrorCode::kInvalidArgument,
              "hf source '" + std::string(source) + "': " + std::string(why));
}

bool is_repo_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// huggingface_hub's validate_repo_id for "namespace/name": ASCII letters,
// digits, '-', '_', '.'; each part starts and ends with a letter, digit or '_'
// (the regex's \b); the name has at most 96 characters; no "--" or ".."; no
// ".git" at the end. Returns why it is invalid, "" when it is valid.
std::string repo_id_problem(std::string_view org, std::string_view name) {
  for (std::string_view part : {org, name}) {
    if (!std::all_of(part.begin(), part.end(), is_repo_name_char) || !is_word_char(part.front()) ||
        !is_word_char(part.back())) {
      return "invalid repository id '" + std::string(org) + "/" + std::string(name) +
             "': use letters, digits, '-', '_' or '.', not starting or ending with '-' or '.'";
    }
  }
  const std::string id = std::string(org) + "/" + std::string(name);
  if (name.size() > 96) return "invalid repository id '" + id + "': the name is longer than 96";
  if (id.find("--") != std::string::npos || id.find("..") != std::string::npos) {
    return "invalid repository id '" + id + "': '--' and '..' are not allowed";
  }
  if (id.ends_with(".git")) return "invalid repository id '" + id + "': it cannot end in '.git'";
  return "";
}

// A path of a source: like check_repo_path, but a trailing '/' (a folder) is
// allowed. Returns why it is unsafe, "" when it is fine.
std::string source_path_problem(std::string_view path) {
  if (path.empty()) return "";
  std::string_view body = path;
  if (body.back() == '/') body.remove_suffix(1);
  if (!check_repo_path(body)) return "unsafe path '" + std::string(path) + "'";
  return "";
}

// Length of a special ref at the start of `text` that contains '/':
// "refs/pr/<digits>" or "refs/convert/<[A-Za-z0-9_.-]+>" (huggingface_hub's
// _SPECIAL_REFS_REVISION_REGEX), followed by '/' or the end; 0 when none.
std::size_t special_ref_length(std::string_view text) {
  auto run = [&](std::size_t from, auto pred) {
    std::size_t end = from;
    while (end < text.size() && pred(text[end])) ++end;
    return end;
  };
  std::size_t end = 0;
  if (text.starts_with("refs/pr/")) {
    end = run(8, [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
    if (end == 8) return 0;
  } else if (text.starts_with("refs/convert/")) {
    end = run(13, [](char c) { return is_word_char(c) || c == '.' || c == '-'; });
    if (end == 13) return 0;
  } else {
    return 0;
  }
  return end == text.size() || text[end] == '/' ? end : 0;
}

// Splits "REV[/PATH]" (still percent-encoded) into the decoded revision and
// the raw path.
std::pair<std::string, std::string_view> split_revision(std::string_view rev_and_path) {
  std::size_t rev_end = special_ref_length(rev_and_path);
  if (rev_end == 0) rev_end = std::min(rev_and_path.find('/'), rev_and_path.size());
  std::string_view path = rev_and_path.substr(rev_end);
  if (!path.empty()) path.remove_prefix(1);
  return {net::percent_decode(rev_and_path.substr(0, rev_end)), path};
}

// Recognises a type prefix segment. Returns false with `error` set when the
// segment names a type haul cannot fetch.
bool type_prefix(std::string_view segment, RepoType& type, std::string& error) {
  if (segment == "models") {
    type = RepoType::kModel;
  } else if (segment == "datasets") {
    type = RepoType::kDataset;
  } else if (segment == "spaces") {
    type = RepoType::kSpace;
  } else if (segment == "kernels" || segment == "buckets") {
    error = std::string(segment) + " are not supported (models, datasets and spaces are)";
  } else {
    return false;
  }
  return error.empty();
}

Result<HfRef> finish(std::string_view shown, HfRef ref, std::string_view org,
                     std::string_view name) {
  if (org.empty() || name.empty()) {
    return bad_source(shown, "missing repository name (expected ORG/NAME)");
  }
  if (const std::string problem = repo_id_problem(org, name); !problem.empty()) {
    return bad_source(shown, problem);
  }
  if (ref.explicit_revision && ref.revision.empty()) return bad_source(shown, "empty revision");
  if (const std::string problem = source_path_problem(ref.path); !problem.empty()) {
    return bad_source(shown, problem);
  }
  ref.repo_id = std::string(org) + "/" + std::string(name);
  return ref;
}

Result<HfRef> parse_hf_uri(std::string_view source) {
  std::string_view location = source.substr(kHfScheme.size());
  while (!location.empty() && location.front() == '/') location.remove_prefix(1);
  HfRef ref;
  const auto first_slash = location.find('/');
  const std::string_view first = location.substr(0, first_slash);
  std::string error;
  if (first_slash != std::string_view::npos && type_prefix(first, ref.type, error)) {
    location.remove_prefix(first_slash + 1);
  } else if (!error.empty()) {
    return bad_source(source, error);
  } else if (first == "model" || first == "dataset" || first == "space") {
    return bad_source(source, "the type prefix is plural: '" + std::string(first) + "s/'");
  } else if (first_slash == std::string_view::npos &&
             (first == "models" || first == "datasets" || first == "spaces")) {
    return bad_source(source, "missing repository name after '" + std::string(first) + "/'");
  }

  // '@' starts the revision only right after ORG/NAME; deeper, it belongs to a
  // file name ("file@1.txt").
  const auto at = location.find('@');
  std::string_view repo = location;
  std::string_view path;
  if (at != std::string_view::npos &&
      std::count(location.begin(), location.begin() + static_cast<std::ptrdiff_t>(at), '/') <= 1) {
    repo = location.substr(0, at);
    auto [revision, rest] = split_revision(location.substr(at + 1));
    if (revision.empty()) return bad_source(source, "empty revision after '@'");
    ref.revision = std::move(revision);
    ref.explicit_revision = true;
    path = rest;
    if (std::count(repo.begin(), repo.end(), '/') != 1) {
      return bad_source(source, "missing repository name (expected ORG/NAME before '@')");
    }
  } else {
    const auto slash = location.find('/');
    if (slash == std::string_view::npos) {
      return bad_source(source, "missing repository name (expected ORG/NAME)");
    }
    const auto path_slash = location.find('/', slash + 1);
    repo = location.substr(0, path_slash);
    if (path_slash != std::string_view::npos) path = location.substr(path_slash + 1);
  }
  const auto slash = repo.find('/');
  ref.path = std::string(path);
  return finish(source, std::move(ref), repo.substr(0, slash),
                slash == std::string_view::npos ? std::string_view{} : repo.substr(slash + 1));
}

std::vector<std::string_view> split_segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Result<HfRef> parse_hub_url(std::string_view source, std::string_view endpoint) {
  const std::string shown(source.substr(0, source.find_first_of("?#")));
  const auto url = split_url(source);
  if (!url) return bad_source(shown, "not a valid http(s) URL");
  std::string_view path = url->path;
  bool known_host = is_hub_host(*url);
  if (!known_host && !endpoint.empty()) {
    const auto hub = split_url(trim_endpoint(endpoint));
    if (hub && hub->host == url->host && hub->port == url->port) {
      // A mirror mounted under a path prefix serves the same routes below it.
      if (!hub->path.empty() && path.starts_with(hub->path) &&
          (path.size() == hub->path.size() || path[hub->path.size()] == '/')) {
        path.remove_prefix(hub->path.size());
      }
      known_host = true;
    }
  }
  if (!known_host) return bad_source(shown, "not a Hugging Face URL (host " + url->host + ")");

  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  HfRef ref;
  std::string error;
  const std::string_view first = path.substr(0, path.find('/'));
  if (type_prefix(first, ref.type, error)) {
    path.remove_prefix(std::min(path.size(), first.size() + 1));
  } else if (!error.empty()) {
    return bad_source(shown, error);
  }
  const auto segments = split_segments(path);
  const std::string org = segments.size() > 0 ? net::percent_decode(segments[0]) : "";
  const std::string name = segments.size() > 1 ? net::percent_decode(segments[1]) : "";
  if (segments.size() <= 2 || (segments.size() == 3 && segments[2].empty())) {
    return finish(shown, std::move(ref), org, name);  // the repository page
  }
  const std::string_view kind = segments[2];
  const std::size_t rest_start = segments[0].size() + segments[1].size() + kind.size() + 3;
  const std::string_view rest = rest_start <= path.size() ? path.substr(rest_start) : "";
  const bool file = kind == "resolve" || kind == "blob" || kind == "raw";
  if (!file && kind != "tree") {
    return bad_source(shown, "unsupported Hugging Face URL form '/" + std::string(kind) +
                                 "/' (expected a repository, /resolve/, /blob/ or /tree/ URL)");
  }
  auto [revision, raw_path] = split_revision(rest);
  if (revision.empty())
    return bad_source(shown, "missing revision after /" + std::string(kind) + "/");
  ref.revision = std::move(revision);
  ref.explicit_revision = true;
  std::string decoded = net::percent_decode(raw_path);
  if (file) {
    if (decoded.empty() || decoded.back() == '/') {
      return bad_source(shown,
                        "missing file path after /" + std::string(kind) + "/" + ref.revision + "/");
    }
    ref.path = std::move(decoded);
  } else {
    while (!decoded.empty() && decoded.back() == '/') decoded.pop_back();
    ref.path = decoded.empty() ? "" : decoded + "/";
  }
  return finish(shown, std::move(ref), org, name);
}

}  // namespace

Result<HfRef> parse_hf_source(std::string_view source, std::string_view endpoint) {
  source = trim(source);
  if (starts_with_icase(source, kHfScheme)) return parse_hf_uri(source);
  if (starts_with_icase(source, "https://") || starts_with_icase(source, "http://")) {
    return parse_hub_url(source, endpoint);
  }
  return bad_source(source, "expected hf://ORG/NAME[@REV][/PATH] or a huggingface.co URL");
}

bool is_glob(std::string_view path) { return path.find_first_of("*?[") != std::string_view::npos; }

std::string_view api_type_name(HfRef::RepoType type) {
  switch (type) {
    case RepoType::kDataset:
      return "datasets";
    case RepoType::kSpace:
      return "spaces";
    case RepoType::kModel:
      break;
  }
  return "models";
}

std::string url_quote(std::string_view text, std::string_view safe) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '_' || c == '.' || c == '-' || c == '~' ||
        safe.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0F]);
    }
  }
  return out;
}

std::string resolve_url(std::string_view endpoint, const HfRef& ref, std::string_view revision,
                        std::string_view file_path) {
  return trim_endpoint(endpoint) + "/" + std::string(url_prefix(ref.type)) + ref.repo_id +
         "/resolve/" + url_quote(revision, "") + "/" + url_quote(file_path, "/");
}

std::string api_tree_url(std::string_view endpoint, const HfRef& ref, std::string_view revision,
                         std::string_view dir) {
  while (!dir.empty() && dir.back() == '/') dir.remove_suffix(1);
  std::string url = trim_endpoint(endpoint) + "/api/" + std::string(api_type_name(ref.type)) + "/" +
                    ref.repo_id + "/tree/" + url_quote(revision, "");
  if (!dir.empty()) url += "/" + url_quote(dir, "");
  return url + "?recursive=true&expand=false";
}

std::string api_revision_url(std::string_view endpoint, const HfRef& ref,
                             std::string_view revision) {
  return trim_endpoint(endpoint) + "/api/" + std::string(api_type_name(ref.type)) + "/" +
         ref.repo_id + "/revision/" + url_quote(revision, "");
}

std::string repo_page_url(std::string_view endpoint, const HfRef& ref) {
  return trim_endpoint(endpoint) + "/" + std::string(url_prefix(ref.type)) + ref.repo_id;
}

std::string describe(const HfRef& ref, std::string_view revision, std::string_view file) {
  std::string repo = std::string(url_prefix(ref.type)) + ref.repo_id + "@" + std::string(revision);
  if (file.empty()) return repo;
  return std::string(file) + " in " + repo;
}

Result<void> check_repo_path(std::string_view path) {
  auto unsafe = [&] {
    return fail(ErrorCode::kInvalidArgument,
                "unsafe path in repository: '" + std::string(path) + "'");
  };
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string_view::npos) {
    return unsafe();
  }
  for (std::string_view segment : split_segments(path)) {
    if (segment.empty() || segment == "." || segment == "..") return unsafe();
  }
  return {};
}

}  // namespace haul::sources::hf
