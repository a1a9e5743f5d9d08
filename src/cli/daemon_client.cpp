#include "cli/daemon_client.hpp"

#include <curl/curl.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/version.hpp"

namespace haul::cli {

namespace {

// Where a reply's body goes: a successful one to `sink` as it arrives (when
// set), anything else into `body`.
struct BodyTarget {
  CURL* curl = nullptr;
  std::string* body = nullptr;
  const std::function<void(std::string_view)>* sink = nullptr;
};

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
  auto* target = static_cast<BodyTarget*>(user);
  long status = 0;
  curl_easy_getinfo(target->curl, CURLINFO_RESPONSE_CODE, &status);
  if (target->sink != nullptr && *target->sink && status > 0 && status < 400) {
    (*target->sink)(std::string_view(data, size * count));
  } else {
    target->body->append(data, size * count);
  }
  return size * count;
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

}  // namespace

DaemonAddress resolve_address(std::string server_flag, const std::string& token_flag) {
  DaemonAddress address;
  if (server_flag.empty()) server_flag = env("HAUL_SERVER");
  if (!server_flag.empty()) address.url = server_flag;
  while (!address.url.empty() && address.url.back() == '/') address.url.pop_back();
  if (address.url.find("://") == std::string::npos) address.url = "http://" + address.url;
  address.token = token_flag.empty() ? env("HAUL_TOKEN") : token_flag;
  return address;
}

DaemonClient::DaemonClient(DaemonAddress address) : address_(std::move(address)) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

Result<Reply> DaemonClient::request(std::string_view method, std::string_view path,
                                    std::string_view body) {
  return perform(method, path, body, {});
}

Result<void> DaemonClient::stream(std::string_view path,
                                  const std::function<void(std::string_view)>& on_body) {
  auto reply = perform("GET", path, {}, on_body);
  if (!reply) return fail(reply.error());
  if (reply->status >= 400) return fail(ErrorCode::kNotFound, error_message(*reply), reply->status);
  return {};
}

Result<Reply> DaemonClient::perform(std::string_view method, std::string_view path,
                                    std::string_view body,
                                    const std::function<void(std::string_view)>& sink) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  const std::string url = address_.url + std::string(path);
  Reply reply;
  char error[CURL_ERROR_SIZE] = {};
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  if (!address_.token.empty()) {
    headers = curl_slist_append(headers, ("Authorization: Bearer " + address_.token).c_str());
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers,
                                                                           curl_slist_free_all);
  const std::string method_text(method);
  const std::string body_text(body);
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method_text.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
  if (method_text == "POST" || !body_text.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body_text.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body_text.size()));
  }
  BodyTarget target{curl.get(), &reply.body, &sink};
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &target);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  // A stream lasts as long as what it follows.
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, sink ? 0L : 60000L);
  curl_easy_setopt(curl.get(), CURLOPT_NOPROXY,
                   "*");  // the daemon is never behind the user's proxy
  curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, ("haul/" + std::string(kVersion)).c_str());
  const CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) {
    return fail(ErrorCode::kUnavailable,
                "no haul daemon at " + address_.url + " (" +
                    (error[0] != '\0' ? std::string(error) : curl_easy_strerror(code)) +
                    "); start one with 'haul worker start' or 'haul serve'");
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  reply.status = static_cast<int>(status);
  return reply;
}

Result<std::string> DaemonClient::call(std::string_view method, std::string_view path,
                                       std::string_view body) {
  auto reply = request(method, path, body);
  if (!reply) return fail(reply.error());
  if (reply->status >= 400) {
    const ErrorCode code = reply->status == 404   ? ErrorCode::kNotFound
                           : reply->status == 409 ? ErrorCode::kConflict
                           : reply->status == 401 ? ErrorCode::kPermissionDenied
                                                  : ErrorCode::kInvalidArgument;
    return fail(code, error_message(*reply), reply->status);
  }
  return std::move(reply->body);
}

std::string error_message(const Reply& reply) {
  const auto body = nlohmann::json::parse(reply.body, nullptr, false);
  if (body.is_object() && body.contains("error")) {
    const auto& error = body["error"];
    if (error.is_object() && error.contains("message") && error["message"].is_string()) {
      return error["message"].get<std::string>();
    }
    if (error.is_string()) return error.get<std::string>();
  }
  return "HTTP " + std::to_string(reply.status) +
         (reply.body.empty() ? "" : ": " + reply.body.substr(0, 200));
}

}  // namespace haul::cli
