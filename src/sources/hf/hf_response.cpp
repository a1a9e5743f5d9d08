#include "sources/hf/hf_response.hpp"

#include <openssl/evp.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/text.hpp"
#include "net/http_head.hpp"

namespace haul::sources::hf {
namespace {

using nlohmann::json;

std::string for_what(std::string_view what) {
  return what.empty() ? std::string("the file") : std::string(what);
}

// A header that is present but empty counts as absent, as Python's
// `headers.get(a) or headers.get(b)` treats "".
std::string_view non_empty_header(const HeaderList& headers, std::string_view name) {
  return find_header(headers, name).value_or(std::string_view{});
}

bool is_lower_hex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A JSON number that fits in 64 bits without sign or fraction.
std::optional<std::uint64_t> as_size(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(value.get<std::int64_t>());
  }
  return std::nullopt;
}

tl::unexpected<Error> bad_tree(std::string_view why) {
  return fail(ErrorCode::kProtocol, "Hugging Face tree listing: " + std::string(why));
}

Result<HfTreeEntry> tree_entry(const json& item, std::size_t index) {
  const std::string where = "entry " + std::to_string(index);
  if (!item.is_object()) return bad_tree(where + " is not an object");
  HfTreeEntry entry;
  const auto path = item.find("path");
  const auto type = item.find("type");
  if (path == item.end() || !path->is_string() || type == item.end() || !type->is_string()) {
    return bad_tree(where + R"( has no string "path" and "type")");
  }
  entry.path = path->get<std::string>();
  entry.type = type->get<std::string>();
  if (const auto size = item.find("size"); size != item.end() && !size->is_null()) {
    const auto value = as_size(*size);
    if (!value) return bad_tree(where + " (" + entry.path + ") has a malformed \"size\"");
    entry.size = *value;
  }
  if (const auto oid = item.find("oid"); oid != item.end() && oid->is_string()) {
    entry.oid = oid->get<std::string>();
  }
  if (const auto xet = item.find("xetHash"); xet != item.end() && xet->is_string()) {
    entry.xet_hash = xet->get<std::string>();
  }
  if (const auto lfs = item.find("lfs"); lfs != item.end() && lfs->is_object()) {
    const auto oid = lfs->find("oid");
    if (oid == lfs->end() || !oid->is_string()) {
      return bad_tree(where + " (" + entry.path + R"() has "lfs" without a string "oid")");
    }
    entry.lfs_sha256 = oid->get<std::string>();
    if (const auto size = lfs->find("size"); size != lfs->end()) entry.lfs_size = as_size(*size);
  }
  return entry;
}

}  // namespace

std::optional<std::string_view> find_header(const HeaderList& headers, std::string_view name) {
  std::optional<std::string_view> found;
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) found = value;
  }
  return found;
}

std::string normalize_etag(std::string_view etag) {
  while (!etag.empty() && (etag.front() == 'W' || etag.front() == '/')) etag.remove_prefix(1);
  while (!etag.empty() && etag.front() == '"') etag.remove_prefix(1);
  while (!etag.empty() && etag.back() == '"') etag.remove_suffix(1);
  return std::string(etag);
}

Result<HfFileMetadata> parse_file_metadata(int status, const HeaderList& headers, bool redirected,
                                           std::string_view what) {
  if (status >= 400) return fail(hf_error(status, headers, "", what));
  const bool redirect = redirected || (status >= 300 && status <= 399);
  HfFileMetadata meta;
  meta.commit = std::string(trim(non_empty_header(headers, "x-repo-commit")));
  if (meta.commit.empty()) {
    return fail(ErrorCode::kProtocol,
                "no X-Repo-Commit header in the answer for " + for_what(what) +
                    ": it does not come from the Hugging Face Hub (check HF_ENDPOINT and any "
                    "proxy or firewall between here and the Hub)",
                status);
  }
  const std::string_view linked_etag = non_empty_header(headers, "x-linked-etag");
  meta.is_lfs = !linked_etag.empty();
  meta.etag = normalize_etag(meta.is_lfs ? linked_etag : non_empty_header(headers, "etag"));
  if (meta.etag.empty()) {
    return fail(ErrorCode::kProtocol,
                "no ETag in the Hugging Face answer for " + for_what(what) +
                    ": the download could not be verified",
                status);
  }
  std::string_view size = non_empty_header(headers, "x-linked-size");
  if (size.empty() && !redirect) size = non_empty_header(headers, "content-length");
  if (!size.empty()) meta.size = net::parse_decimal(size);
  meta.location = std::string(non_empty_header(headers, "location"));
  meta.xet_hash = std::string(non_empty_header(headers, "x-xet-hash"));
  return meta;
}

Result<std::vector<HfTreeEntry>> parse_tree_page(std::string_view json_body) {
  json page;
  try {
    page = json::parse(json_body);
  } catch (const json::exception& error) {
    return bad_tree(std::string("not JSON: ") + error.what());
  }
  if (!page.is_array()) return bad_tree("not a JSON array");
  std::vector<HfTreeEntry> entries;
  entries.reserve(page.size());
  for (std::size_t i = 0; i < page.size(); ++i) {
    auto entry = tree_entry(page[i], i);
    if (!entry) return fail(std::move(entry.error()));
    entries.push_back(std::move(*entry));
  }
  return entries;
}

std::optional<std::string> next_page_url(std::string_view link_header) {
  // link-value = "<" URI ">" *( ";" link-param ), separated by commas. URLs
  // may hold commas and semicolons, so the URL is taken between the brackets.
  std::size_t pos = 0;
  while ((pos = link_header.find('<', pos)) != std::string_view::npos) {
    const std::size_t close = link_header.find('>', pos);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view url = link_header.substr(pos + 1, close - pos - 1);
    std::size_t end = close + 1;
    bool quoted = false;
    while (end < link_header.size() && (quoted || link_header[end] != ',')) {
      if (link_header[end] == '"') quoted = !quoted;
      ++end;
    }
    std::string_view params = link_header.substr(close + 1, end - close - 1);
    while (!params.empty()) {
      const std::size_t semi = params.find(';');
      std::string_view param = trim(params.substr(0, semi));
      params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
      const std::size_t eq = param.find('=');
      if (eq == std::string_view::npos || !iequals(trim(param.substr(0, eq)), "rel")) continue;
      std::string_view value = trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      // rel may list several relation types separated by spaces.
      while (!value.empty()) {
        const std::size_t space = value.find(' ');
        if (iequals(value.substr(0, space), "next")) return std::string(url);
        value = space == std::string_view::npos ? std::string_view{} : trim(value.substr(space));
      }
    }
    pos = end;
  }
  return std::nullopt;
}

Result<std::string> parse_revision_sha(std::string_view json_body) {
  json answer;
  try {
    answer = json::parse(json_body);
  } catch (const json::exception& error) {
    return fail(ErrorCode::kProtocol,
                std::string("Hugging Face revision answer is not JSON: ") + error.what());
  }
  const auto sha = answer.is_object() ? answer.find("sha") : answer.end();
  if (!answer.is_object() || sha == answer.end() || !sha->is_string()) {
    return fail(ErrorCode::kProtocol, "Hugging Face revision answer has no \"sha\"");
  }
  std::string commit = sha->get<std::string>();
  if ((commit.size() != 40 && commit.size() != 64) || !is_lower_hex(commit)) {
    return fail(ErrorCode::kProtocol,
                "Hugging Face revision answer has a malformed \"sha\": '" + commit + "'");
  }
  return commit;
}

}  // namespace haul::sources::hf
