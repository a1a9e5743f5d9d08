// libFuzzer target for the source parsers: what users paste (hf://, CivitAI
// URLs and AIRs, s3://) and what the Hub, CivitAI and S3 answer (tree pages,
// file metadata headers, model-version JSON, ListObjectsV2 XML, errors,
// SigV4 Authorization headers).
//
// Input: one selector byte, then the text. Selector ('0' + n, taken mod 10):
//   0 hf source                1 tree page, Link, revision JSON
//   2 file metadata headers    3 fnmatch (pattern, '\n', name)
//   4 CivitAI source           5 model-version / model JSON, CivitAI error
//   6 s3 source                7 ListObjectsV2 XML, S3 error
//   8 Authorization header, canonical query
//   9 source classification, safe relative paths
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/text.hpp"
#include "sources/civitai/civitai_api.hpp"
#include "sources/civitai/civitai_ref.hpp"
#include "sources/hf/hf_patterns.hpp"
#include "sources/hf/hf_ref.hpp"
#include "sources/hf/hf_response.hpp"
#include "sources/plan_transfer.hpp"
#include "sources/s3/s3_list.hpp"
#include "sources/s3/s3_ref.hpp"
#include "sources/s3/sigv4.hpp"
#include "sources/source_kind.hpp"

namespace {

using namespace haul::sources;

void check(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "source_parsers_fuzz: %s (input %zu bytes)\n", what, input.size());
  std::abort();
}

// A path accepted as relative must stay inside its folder: no empty, "."
// or ".." segment, not absolute.
void check_confined(std::string_view path, std::string_view input) {
  check(!path.empty() && path.front() != '/', "accepted path is empty or absolute", input);
  while (!path.empty()) {
    const auto slash = path.find('/');
    const std::string_view segment = path.substr(0, slash);
    check(!segment.empty() && segment != "." && segment != "..", "accepted path climbs out", input);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    check(slash == std::string_view::npos || !path.empty(), "accepted path ends with /", input);
  }
}

void fuzz_hf_source(std::string_view text) {
  auto ref = hf::parse_hf_source(text, "http://127.0.0.1:8080");
  if (!ref) return;
  check(!ref->repo_id.empty(), "hf source without a repository", text);
  (void)hf::resolve_url("http://127.0.0.1:8080", *ref, ref->revision, ref->path);
  (void)hf::api_tree_url("http://127.0.0.1:8080", *ref, ref->revision, ref->path);
}

void fuzz_tree(std::string_view text) {
  auto page = hf::parse_tree_page(text);
  if (page) {
    for (const auto& entry : *page) {
      if (hf::check_repo_path(entry.path)) check_confined(entry.path, text);
    }
  }
  (void)hf::next_page_url(text);
  (void)hf::parse_revision_sha(text);
}

hf::HeaderList header_lines(std::string_view text) {
  hf::HeaderList headers;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos)
      headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
  }
  return headers;
}

void fuzz_file_metadata(std::string_view text) {
  const auto headers = header_lines(text);
  for (int status : {200, 302, 401, 404, 429}) {
    (void)hf::parse_file_metadata(status, headers, status == 302, "fuzz");
    const haul::Error error = hf::hf_error(status, headers, text, "fuzz", "");
    check(error.message.find('\n') == std::string::npos, "hf error spans lines", text);
  }
  (void)hf::parse_rate_limit(headers);
}

void fuzz_fnmatch(std::string_view text) {
  const auto split = text.find('\n');
  const std::string_view pattern = text.substr(0, split);
  const std::string_view name = split == std::string_view::npos ? "" : text.substr(split + 1);
  (void)hf::fnmatch_case(name, pattern);
  (void)hf::keep_path(name, {std::string(pattern)}, {hf::normalize_pattern(pattern)});
}

void fuzz_civitai_source(std::string_view text) {
  auto ref = civitai::parse_civitai_source(text);
  if (ref) check(ref->model_id || ref->version_id, "civitai source without an id", text);
}

void fuzz_civitai_json(std::string_view text) {
  if (auto version = civitai::parse_model_version(text)) {
    (void)civitai::choose_file(*version, "", {});
    (void)civitai::choose_file(*version, "model.safetensors", {{"type", "Model"}});
  }
  (void)civitai::latest_version_id(text);
  for (int status : {401, 403, 404, 429, 500}) {
    const haul::Error error = civitai::civitai_error(status, text, "fuzz", "120");
    check(error.message.find('\n') == std::string::npos, "civitai error spans lines", text);
  }
}

void fuzz_s3_source(std::string_view text) {
  auto ref = s3::parse_s3_source(text);
  if (!ref) return;
  check(s3::bucket_name_problem(ref->bucket).empty(), "accepted a bad bucket name", text);
  s3::S3Config config;
  config.endpoint = "http://127.0.0.1:9000";
  config.path_style = true;
  (void)s3::object_url(config, *ref, ref->key);
  const std::string list = s3::list_url(config, ref->bucket, ref->key, text);
  const auto query = list.substr(list.find('?') + 1);
  check(s3::canonical_query(query) == query, "list query not in canonical order", text);
}

void fuzz_s3_xml(std::string_view text) {
  (void)s3::parse_list_objects_v2(text);
  (void)s3::parse_error_body(text);
  for (int status : {200, 301, 403, 404, 412, 503}) {
    const haul::Error error = s3::s3_error(status, text, "fuzz");
    check(error.message.find('\n') == std::string::npos, "s3 error spans lines", text);
  }
}

void fuzz_signing(std::string_view text) {
  (void)s3::parse_authorization(text);
  const std::string canonical = s3::canonical_query(text);
  check(s3::canonical_query(canonical) == canonical, "canonical query is not stable", text);
  s3::SigningInput input;
  input.method = "GET";
  input.canonical_uri = s3::encode_key_path(text);
  input.query = std::string(text);
  input.headers = {{"host", "127.0.0.1"}, {"x-amz-date", "20130524T000000Z"}};
  input.payload_hash = "UNSIGNED-PAYLOAD";
  input.amz_date = "20130524T000000Z";
  input.region = "us-east-1";
  input.access_key = "AKIDEXAMPLE";
  input.secret_key = "secret";
  check(s3::signature(input).size() == 64, "signature is not 32 bytes of hex", text);
}

void fuzz_misc(std::string_view text) {
  (void)classify_source(text, "http://127.0.0.1:8080");
  if (haul::is_safe_relative_path(text)) check_confined(text, text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned selector = static_cast<unsigned char>(data[0] - '0') % 10;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  void (*const targets[])(std::string_view) = {
      fuzz_hf_source,    fuzz_tree,      fuzz_file_metadata, fuzz_fnmatch, fuzz_civitai_source,
      fuzz_civitai_json, fuzz_s3_source, fuzz_s3_xml,        fuzz_signing, fuzz_misc};
  targets[selector](text);
  return 0;
}
