#include "sources/s3/s3_list.hpp"

#include <charconv>
#include <pugixml.hpp>
#include <vector>

namespace haul::sources::s3 {

namespace {

// S3 answers in the default namespace "http://s3.amazonaws.com/doc/2006-03-01/";
// some compatible stores use a prefix. Names are compared without it.
std::string_view local_name(const pugi::xml_node& node) {
  std::string_view name = node.name();
  std::size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node child(const pugi::xml_node& node, std::string_view name) {
  for (pugi::xml_node c : node.children()) {
    if (c.type() == pugi::node_element && local_name(c) == name) return c;
  }
  return {};
}

std::string child_text(const pugi::xml_node& node, std::string_view name) {
  return child(node, name).text().as_string();
}

// The document element, or an empty node when `xml` does not parse.
pugi::xml_node root_of(pugi::xml_document& doc, std::string_view xml) {
  if (xml.empty()) return {};
  if (!doc.load_buffer(xml.data(), xml.size())) return {};
  return doc.document_element();
}

// A message must stay on one line whatever the server put in it.
std::string one_line(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// "b.s3.eu-west-1.amazonaws.com", "s3.dualstack.eu-west-1.amazonaws.com",
// "b.s3-eu-west-1.amazonaws.com" -> "eu-west-1". The global endpoint
// ("b.s3.amazonaws.com", "s3-external-1") is where us-east-1 buckets live.
// Labels are read from the right so that a bucket named "s3-x" is not taken
// for the service label. "" when the endpoint is not an AWS one.
std::string region_from_endpoint(std::string_view endpoint) {
  std::vector<std::string_view> labels;
  while (!endpoint.empty()) {
    std::size_t dot = endpoint.find('.');
    labels.push_back(endpoint.substr(0, dot));
    endpoint = dot == std::string_view::npos ? std::string_view{} : endpoint.substr(dot + 1);
  }
  for (std::size_t i = labels.size(); i-- > 0;) {
    std::string_view region;
    if (labels[i].substr(0, 3) == "s3-") {
      region = labels[i].substr(3);
    } else if (labels[i] == "s3") {
      std::size_t next = i + 1;
      if (next < labels.size() && labels[next] == "dualstack") ++next;
      if (next >= labels.size()) return "";
      region = labels[next];
    } else {
      continue;
    }
    if (region == "amazonaws" || region == "external-1") return "us-east-1";
    return std::string(region);
  }
  return "";
}

struct Mapping {
  ErrorCode code;
  std::string advice;  // "" = none
};

Mapping map_code(std::string_view code, int status, const std::string& region,
                 const std::string& endpoint) {
  auto is = [&](std::initializer_list<std::string_view> names) {
    for (std::string_view name : names)
      if (code == name) return true;
    return false;
  };
  std::string where;
  if (!region.empty()) {
    where = "the bucket is in region " + region + ": set AWS_REGION=" + region;
  } else if (!endpoint.empty()) {
    where = "the bucket must be addressed at " + endpoint + ": set AWS_REGION to its region";
  } else {
    where = "the bucket is in another region: set AWS_REGION to its region";
  }

  if (is({"ExpiredToken", "TokenRefreshRequired"}))
    return {ErrorCode::kPermissionDenied, "credentials expired: refresh AWS_SESSION_TOKEN"};
  if (is({"InvalidAccessKeyId"}))
    return {ErrorCode::kPermissionDenied, "the access key is unknown: check AWS_ACCESS_KEY_ID"};
  if (is({"SignatureDoesNotMatch"}))
    return {ErrorCode::kPermissionDenied, "the signature was refused: check AWS_SECRET_ACCESS_KEY"};
  if (is({"RequestTimeTooSkewed"}))
    return {ErrorCode::kPermissionDenied, "this computer's clock is wrong: set it right"};
  if (is({"AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidToken"}))
    return {ErrorCode::kPermissionDenied, ""};
  if (is({"NoSuchKey", "NoSuchBucket", "NoSuchVersion"})) return {ErrorCode::kNotFound, ""};
  if (is({"PreconditionFailed"}))
    return {ErrorCode::kUnavailable, "the object changed on the server during the download"};
  if (is({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"}))
    return {ErrorCode::kUnavailable, ""};
  if (is({"TemporaryRedirect"})) return {ErrorCode::kUnavailable, where};
  if (is({"PermanentRedirect"})) return {ErrorCode::kInvalidArgument, where};
  if (is({"AuthorizationHeaderMalformed"}) && !region.empty())
    return {ErrorCode::kInvalidArgument, where};
  if (is({"InvalidObjectState"}))
    return {ErrorCode::kConflict, "the object is archived: restore it before downloading"};
  if (is({"InvalidRange"})) return {ErrorCode::kProtocol, ""};

  // An unknown code, or no body at all (HEAD): the status decides.
  if (status == 301) return {ErrorCode::kInvalidArgument, where};
  if (status == 307) return {ErrorCode::kUnavailable, where};
  if (status == 412)
    return {ErrorCode::kUnavailable, "the object changed on the server during the download"};
  if (status == 401 || status == 403) return {ErrorCode::kPermissionDenied, ""};
  if (status == 404 || status == 410) return {ErrorCode::kNotFound, ""};
  if (status == 408 || status == 429 || (status >= 500 && status <= 599))
    return {ErrorCode::kUnavailable, ""};
  if (status == 416) return {ErrorCode::kProtocol, ""};
  if (status >= 400 && status <= 499) return {ErrorCode::kInvalidArgument, ""};
  return {ErrorCode::kProtocol, ""};
}

}  // namespace

std::optional<S3ErrorBody> parse_error_body(std::string_view xml) {
  pugi::xml_document doc;
  pugi::xml_node root = root_of(doc, xml);
  if (!root || local_name(root) != "Error") return std::nullopt;
  S3ErrorBody body;
  body.code = one_line(child_text(root, "Code"));
  body.message = one_line(child_text(root, "Message"));
  body.region = one_line(child_text(root, "Region"));
  body.endpoint = one_line(child_text(root, "Endpoint"));
  return body;
}

std::string redirect_region(std::string_view xml_body, std::string_view bucket_region_header) {
  if (!bucket_region_header.empty()) return one_line(bucket_region_header);
  std::optional<S3ErrorBody> body = parse_error_body(xml_body);
  if (!body) return "";
  if (!body->region.empty()) return body->region;
  return region_from_endpoint(body->endpoint);
}

Error s3_error(int status, std::string_view xml_body, std::string_view what,
               std::string_view bucket_region_header) {
  std::optional<S3ErrorBody> body = parse_error_body(xml_body);
  const std::string region = redirect_region(xml_body, bucket_region_header);
  const std::string endpoint = body ? body->endpoint : "";
  Mapping mapping =
      map_code(body ? std::string_view(body->code) : std::string_view{}, status, region, endpoint);

  std::string detail = "HTTP " + std::to_string(status);
  if (body && !body->code.empty()) detail += " " + body->code;
  if (body && !body->message.empty()) detail += ": " + body->message;

  Error error;
  error.code = mapping.code;
  error.http_status = status;
  error.message = std::string(what) + ": ";
  error.message += mapping.advice.empty() ? detail : mapping.advice + " (" + detail + ")";
  return error;
}

Result<S3ListPage> parse_list_objects_v2(std::string_view xml) {
  auto bad = [](const std::string& why) {
    return fail(ErrorCode::kProtocol, "bad ListObjectsV2 response: " + why);
  };
  pugi::xml_document doc;
  pugi::xml_node root = root_of(doc, xml);
  if (!root) return bad("not an XML document");
  if (local_name(root) == "Error") return fail(s3_error(200, xml, "ListObjectsV2"));
  if (local_name(root) != "ListBucketResult")
    return bad("the document is <" + std::string(root.name()) + ">, not <ListBucketResult>");

  S3ListPage page;
  for (pugi::xml_node node : root.children()) {
    if (node.type() != pugi::node_element || local_name(node) != "Contents") continue;
    S3Object object;
    pugi::xml_node key = child(node, "Key");
    if (!key) return bad("a <Contents> has no <Key>");
    object.key = key.text().as_string();
    const std::string size = child_text(node, "Size");
    const char* end = size.data() + size.size();
    auto [ptr, ec] = std::from_chars(size.data(), end, object.size);
    if (size.empty() || ec != std::errc() || ptr != end)
      return bad("the <Size> of '" + object.key + "' is '" + size + "', not a number");
    object.etag = child_text(node, "ETag");
    object.last_modified = child_text(node, "LastModified");
    object.storage_class = child_text(node, "StorageClass");
    page.objects.push_back(std::move(object));
  }

  const std::string truncated = child_text(root, "IsTruncated");
  if (truncated == "true") {
    page.truncated = true;
  } else if (!truncated.empty() && truncated != "false") {
    return bad("<IsTruncated> is '" + truncated + "'");
  }
  page.next_continuation_token = child_text(root, "NextContinuationToken");
  if (page.truncated && page.next_continuation_token.empty())
    return bad("IsTruncated is true but there is no NextContinuationToken");
  return page;
}

}  // namespace haul::sources::s3
