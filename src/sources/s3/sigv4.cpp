#include "sources/s3/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "base/text.hpp"
#include "net/file_name.hpp"
#include "net/sha256.hpp"

namespace haul::sources::s3 {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr char kUpperHex[] = "0123456789ABCDEF";
constexpr char kLowerHex[] = "0123456789abcdef";

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Trim, and collapse runs of blanks inside to one space ("a   b" -> "a b").
// Line breaks of an obs-folded value count as blanks too.
std::string normalise_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (is_blank(c) || c == '\r' || c == '\n') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

// (lower-case name, joined value) pairs sorted by name. The sort is stable so
// that the values of a repeated name keep their order ("value4,value1,...").
std::vector<std::pair<std::string, std::string>> grouped_headers(const SigningInput& in) {
  std::vector<std::pair<std::string, std::string>> items;
  items.reserve(in.headers.size());
  for (const auto& [name, value] : in.headers)
    items.emplace_back(to_lower(name), normalise_value(value));
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string, std::string>> grouped;
  for (auto& item : items) {
    if (!grouped.empty() && grouped.back().first == item.first) {
      grouped.back().second += ',';
      grouped.back().second += item.second;
    } else {
      grouped.push_back(std::move(item));
    }
  }
  return grouped;
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  std::string hex;
  hex.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    hex += kLowerHex[data[i] >> 4];
    hex += kLowerHex[data[i] & 0xF];
  }
  return hex;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // HMAC() only fails when OpenSSL cannot allocate: nothing to recover.
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest,
           &length) == nullptr)
    std::abort();
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string scope_date(const SigningInput& in) { return in.amz_date.substr(0, 8); }

std::string_view trim_blanks(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    std::size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

}  // namespace

std::string uri_encode(std::string_view text, bool encode_slash) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (is_unreserved(c) || (c == '/' && !encode_slash)) {
      out += c;
    } else {
      auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kUpperHex[byte >> 4];
      out += kUpperHex[byte & 0xF];
    }
  }
  return out;
}

std::string canonical_query(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!raw_query.empty()) {
    std::size_t amp = raw_query.find('&');
    std::string_view part = raw_query.substr(0, amp);
    raw_query = amp == std::string_view::npos ? std::string_view{} : raw_query.substr(amp + 1);
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    std::string_view name = part.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
    params.emplace_back(uri_encode(net::percent_decode(name), true),
                        uri_encode(net::percent_decode(value), true));
  }
  // Sorting the encoded forms is sorting by byte value, as AWS asks.
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string canonical_headers(const SigningInput& in) {
  std::string out;
  for (const auto& [name, value] : grouped_headers(in)) {
    out += name;
    out += ':';
    out += value;
    out += '\n';
  }
  return out;
}

std::string signed_headers(const SigningInput& in) {
  std::string out;
  for (const auto& [name, value] : grouped_headers(in)) {
    if (!out.empty()) out += ';';
    out += name;
  }
  return out;
}

std::string canonical_request(const SigningInput& in) {
  std::string out = in.method;
  out += '\n';
  out += in.canonical_uri.empty() ? std::string("/") : in.canonical_uri;
  out += '\n';
  out += canonical_query(in.query);
  out += '\n';
  out += canonical_headers(in);
  out += '\n';
  out += signed_headers(in);
  out += '\n';
  out += in.payload_hash;
  return out;
}

std::string credential_scope(const SigningInput& in) {
  return scope_date(in) + '/' + in.region + '/' + in.service + "/aws4_request";
}

std::string string_to_sign(const SigningInput& in) {
  std::string out(kAlgorithm);
  out += '\n';
  out += in.amz_date;
  out += '\n';
  out += credential_scope(in);
  out += '\n';
  out += net::sha256_hex(canonical_request(in));
  return out;
}

std::string signature(const SigningInput& in) {
  std::string key = hmac_sha256("AWS4" + in.secret_key, scope_date(in));
  key = hmac_sha256(key, in.region);
  key = hmac_sha256(key, in.service);
  key = hmac_sha256(key, "aws4_request");
  std::string mac = hmac_sha256(key, string_to_sign(in));
  return to_hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

std::string authorization(const SigningInput& in) {
  std::string out(kAlgorithm);
  out += " Credential=" + in.access_key + '/' + credential_scope(in);
  out += ", SignedHeaders=" + signed_headers(in);
  out += ", Signature=" + signature(in);
  return out;
}

Result<ParsedAuthorization> parse_authorization(std::string_view header_value) {
  auto malformed = [](const std::string& why) {
    return fail(ErrorCode::kInvalidArgument, "malformed SigV4 Authorization header: " + why);
  };
  std::string_view text = trim_blanks(header_value);
  if (text.substr(0, kAlgorithm.size()) != kAlgorithm || text.size() == kAlgorithm.size() ||
      !is_blank(text[kAlgorithm.size()]))
    return malformed("it does not start with \"AWS4-HMAC-SHA256 \"");
  text.remove_prefix(kAlgorithm.size());

  std::optional<std::string_view> credential, headers, sig;
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    std::string_view part = trim_blanks(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    std::size_t eq = part.find('=');
    if (eq == std::string_view::npos)
      return malformed("'" + std::string(part) + "' is not name=value");
    std::string_view name = part.substr(0, eq);
    std::string_view value = part.substr(eq + 1);
    std::optional<std::string_view>* slot = name == "Credential"      ? &credential
                                            : name == "SignedHeaders" ? &headers
                                            : name == "Signature"     ? &sig
                                                                      : nullptr;
    if (slot == nullptr) return malformed("unknown part '" + std::string(name) + "'");
    if (slot->has_value()) return malformed(std::string(name) + " is given twice");
    *slot = value;
  }
  if (!credential) return malformed("Credential is missing");
  if (!headers) return malformed("SignedHeaders is missing");
  if (!sig) return malformed("Signature is missing");

  // Credential=AK/DATE/REGION/SERVICE/aws4_request, read from the right so
  // that a key containing '/' (some S3-compatible stores allow it) survives.
  std::vector<std::string_view> fields = split(*credential, '/');
  if (fields.size() < 5 || fields.back() != "aws4_request")
    return malformed("Credential '" + std::string(*credential) +
                     "' is not KEY/DATE/REGION/SERVICE/aws4_request");
  ParsedAuthorization out;
  std::size_t n = fields.size();
  out.service = fields[n - 2];
  out.region = fields[n - 3];
  out.date = fields[n - 4];
  std::size_t key_end = credential->size() - (out.date.size() + out.region.size() +
                                              out.service.size() + 16);  // 4 '/' + "aws4_request"
  out.access_key = credential->substr(0, key_end);
  if (out.access_key.empty() || out.region.empty() || out.service.empty())
    return malformed("Credential '" + std::string(*credential) + "' has an empty field");
  if (out.date.size() != 8 ||
      !std::all_of(out.date.begin(), out.date.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return malformed("the credential date '" + out.date + "' is not YYYYMMDD");

  for (std::string_view name : split(*headers, ';')) {
    if (name.empty())
      return malformed("SignedHeaders '" + std::string(*headers) + "' has an empty name");
    out.signed_headers.emplace_back(name);
  }
  if (sig->size() != 64 || !std::all_of(sig->begin(), sig->end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      }))
    return malformed("Signature is not 64 lower-case hex digits");
  out.signature = *sig;
  return out;
}

std::string encode_key_path(std::string_view key) { return "/" + uri_encode(key, false); }

}  // namespace haul::sources::s3
