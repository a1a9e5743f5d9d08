#include "sources/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <memory>

#include "base/text.hpp"
#include "base/version.hpp"
#include "net/url.hpp"
#include "transfer/curl_error.hpp"

namespace haul::sources {
namespace {

struct Exchange {
  HttpResponse response;
  std::size_t max_body = 0;
  bool too_large = false;
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  std::string_view line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    exchange->response.headers.clear();  // a 100 Continue came first
    return size * count;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  exchange->response.headers.emplace_back(to_lower(line.substr(0, colon)),
                                          std::string(trim(line.substr(colon + 1))));
  return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  if (exchange->response.body.size() + size * count > exchange->max_body) {
    exchange->too_large = true;
    return 0;
  }
  exchange->response.body.append(data, size * count);
  return size * count;
}

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return std::nullopt;
}

std::string user_agent() { return "haul/" + std::string(kVersion); }

Result<HttpResponse> http_fetch(const HttpRequest& request) {
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) return fail(ErrorCode::kInternal, "cannot create a libcurl handle");
  std::unique_ptr<curl_slist, ListDeleter> headers;
  for (const std::string& header : request.headers)
    headers.reset(curl_slist_append(headers.release(), header.c_str()));
  Exchange exchange;
  exchange.max_body = request.max_body;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};
  const std::string agent = user_agent();
  std::string credentials;
  CURL* e = easy.get();
  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<std::int64_t>(request.timeout.count(), 10'000)));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error_buffer.data());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &exchange);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &exchange);
  // Uncompressed answers: the Hub's Content-Length must be the file's length.
  if (request.method == "HEAD") curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  if (request.aws) {
    credentials = request.aws->access_key + ":" + request.aws->secret_key;
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, request.aws->provider.c_str());
    curl_easy_setopt(e, CURLOPT_USERPWD, credentials.c_str());
  }
  const CURLcode code = curl_easy_perform(e);
  if (exchange.too_large) {
    return fail(ErrorCode::kProtocol, request.method + " " + net::redact_url(request.url) +
                                          ": answer larger than " +
                                          std::to_string(request.max_body >> 20) + " MiB");
  }
  if (code != CURLE_OK) {
    Error error = transfer::error_from_curl(code, error_buffer.data());
    error.message = request.method + " " + net::redact_url(request.url) + ": " + error.message;
    return fail(std::move(error));
  }
  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  exchange.response.status = static_cast<int>(status);
  return std::move(exchange.response);
}

}  // namespace haul::sources
