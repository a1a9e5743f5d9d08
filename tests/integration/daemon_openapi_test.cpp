// GET /api/v1/openapi.json on a real `haul serve`, and every operation the
// document lists called on it: each must reach a route (not the router's
// 404 `no_route` or 405 `method_not_allowed`) and answer with a status the
// document gives for it, errors in the documented shape. That every route
// the daemon installs is documented is checked against the Router itself
// in src/api/docs_routes_test.cpp.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "daemon_fixture.hpp"

namespace haul::testing {
namespace {

using nlohmann::json;

const std::set<std::string> kHttpMethods = {"get",     "put",  "post",  "delete",
                                            "options", "head", "patch", "trace"};

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// A fresh UUID v4 text: an id no job or instance has.
std::string random_id() {
  std::random_device random;
  std::uniform_int_distribution<int> digit(0, 15);
  std::string id = "xxxxxxxx-xxxx-4xxx-9xxx-xxxxxxxxxxxx";
  for (char& c : id) {
    if (c == 'x') c = "0123456789abcdef"[digit(random)];
  }
  return id;
}

struct Probe {
  int status = 0;
  std::string content_type;
  std::string body;
};

struct ProbeState {
  Probe* probe;
  bool stream = false;  // an endless event stream: stop at its first bytes
};

std::size_t probe_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* state = static_cast<ProbeState*>(user);
  const std::string line(data, size * count);
  static const std::regex content_type("content-type:\\s*([^\\r\\n]*)", std::regex::icase);
  std::smatch match;
  if (std::regex_search(line, match, content_type)) {
    state->probe->content_type = match[1];
    state->stream = state->probe->content_type.rfind("text/event-stream", 0) == 0;
  }
  return size * count;
}

std::size_t probe_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* state = static_cast<ProbeState*>(user);
  state->probe->body.append(data, size * count);
  return state->stream ? 0 : size * count;  // 0 ends the transfer; the status stays known
}

// One request that also returns from endless streams (SSE) once they start.
Probe probe(const std::string& method, const std::string& url, const std::string& body,
            const std::string& content_type) {
  Probe result;
  ProbeState state{&result};
  CURL* curl = curl_easy_init();
  curl_slist* headers = nullptr;
  if (!content_type.empty())
    headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (method == "POST" || method == "PUT" || method == "PATCH" || !body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, probe_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &state);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, probe_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  const CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && state.stream)) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    result.status = static_cast<int>(status);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return result;
}

// Follows a local "$ref" ("#/components/...").
const json& resolve(const json& doc, const json& node) {
  if (!node.is_object() || !node.contains("$ref")) return node;
  return doc.at(json::json_pointer(node.at("$ref").get<std::string>().substr(1)));
}

std::string error_code(const Probe& reply) {
  const json body = json::parse(reply.body, nullptr, false);
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) return {};
  return body["error"].value("code", "");
}

bool has_error_shape(const Probe& reply) {
  const json body = json::parse(reply.body, nullptr, false);
  return body.is_object() && body.contains("error") && body["error"].is_object() &&
         body["error"].value("code", "") != "" && body["error"].value("message", "") != "";
}

// Whether the documented response's JSON body is the API's Error.
bool documents_error(const json& doc, const json& response) {
  const json& resolved = resolve(doc, response);
  const json::json_pointer schema("/content/application~1json/schema/$ref");
  return resolved.contains(schema) && resolved.at(schema) == "#/components/schemas/Error";
}

class DaemonOpenApiTest : public DaemonTest {};

TEST_F(DaemonOpenApiTest, ServesTheCheckedInDocument) {
  auto daemon = start_daemon();
  const HttpReply reply = daemon->call("GET", "/api/v1/openapi.json");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.headers.at("content-type"), "application/json");
  const json doc = reply.json();
  ASSERT_TRUE(doc.is_object()) << "not JSON: " << reply.body.substr(0, 200);
  EXPECT_EQ(doc.at("openapi").get<std::string>().rfind("3.1", 0), 0u) << doc.at("openapi");
  std::ifstream file(std::string(HAUL_SOURCE_DIR) + "/src/api/openapi.json");
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_EQ(doc, json::parse(text.str())) << "the binary embeds another version of the file";
}

// The router's two refusals carry their own codes, so a missing route is not
// mistaken for a missing job.
TEST_F(DaemonOpenApiTest, TellsUnknownRoutesFromUnknownResources) {
  auto daemon = start_daemon();
  const Probe unknown_path = probe("GET", daemon->url() + "/api/v1/nothing-here", "", "");
  EXPECT_EQ(unknown_path.status, 404);
  EXPECT_EQ(error_code(unknown_path), "no_route") << unknown_path.body;
  const Probe unknown_method = probe("PUT", daemon->url() + "/api/v1/jobs", "", "");
  EXPECT_EQ(unknown_method.status, 405);
  EXPECT_EQ(error_code(unknown_method), "method_not_allowed") << unknown_method.body;
  const Probe unknown_job = probe("GET", daemon->url() + "/api/v1/jobs/" + random_id(), "", "");
  EXPECT_EQ(unknown_job.status, 404);
  EXPECT_EQ(error_code(unknown_job), "not_found") << unknown_job.body;
}

TEST_F(DaemonOpenApiTest, EveryDocumentedOperationAnswers) {
  auto daemon = start_daemon();
  const json doc = daemon->call("GET", "/api/v1/openapi.json").json();
  ASSERT_TRUE(doc.is_object());
  const std::regex placeholder("\\{[^}]+\\}");
  std::string no_route;
  std::string undocumented;
  int calls = 0;
  for (const auto& [path, item] : doc.at("paths").items()) {
    // Path parameters get ids nothing has: a not_found about the job is an answer.
    const std::string target = std::regex_replace(path, placeholder, random_id());
    for (const auto& [method, operation] : item.items()) {
      if (!kHttpMethods.contains(method)) continue;
      const std::string where = upper(method) + " " + path;
      // A body of the documented type that no operation accepts as valid:
      // every call is refused or answered without side effects.
      std::string body;
      std::string content_type;
      if (operation.contains("requestBody")) {
        const json& content = resolve(doc, operation.at("requestBody")).at("content");
        content_type = content.begin().key();
        if (content_type == "application/json") body = "{}";
      }
      const Probe reply = probe(upper(method), daemon->url() + target, body, content_type);
      ++calls;
      const std::string code = error_code(reply);
      if ((reply.status == 404 && code == "no_route") ||
          (reply.status == 405 && code == "method_not_allowed")) {
        no_route += "\n  " + where + " -> " + std::to_string(reply.status) + " " + code;
        continue;
      }
      const json& responses = operation.at("responses");
      const std::string status = std::to_string(reply.status);
      if (!responses.contains(status)) {
        undocumented += "\n  " + where + " -> " + status + " " + reply.body.substr(0, 200);
        continue;
      }
      if (documents_error(doc, responses.at(status))) {
        EXPECT_TRUE(has_error_shape(reply)) << where << " -> " << status << " " << reply.body;
      }
    }
  }
  EXPECT_GE(calls, 20);
  EXPECT_TRUE(no_route.empty()) << "documented operations the daemon has no route for:" << no_route;
  EXPECT_TRUE(undocumented.empty())
      << "answers with a status the document does not list:" << undocumented;
}

}  // namespace
}  // namespace haul::testing
