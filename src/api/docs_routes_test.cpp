// The OpenAPI document against the routes the daemon really installs: the
// real Router built by install_routes (Socket.IO included, as `haul serve`
// does), compared path by path and method by method with the embedded
// document, plus the document's own consistency ($refs, responses, path
// parameters, 3.1 style). tests/integration/daemon_openapi_test.cpp calls
// every documented operation on a running daemon.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <cctype>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "api/api.hpp"
#include "api/instance_probe.hpp"
#include "api/model_catalog.hpp"
#include "api/openapi.hpp"
#include "api/progress_files.hpp"
#include "api/socketio/server.hpp"
#include "store/sqlite/sqlite_job_store.hpp"

namespace haul::api {
namespace {

using nlohmann::json;

const std::set<std::string> kHttpMethods = {"get",     "put",  "post",  "delete",
                                            "options", "head", "patch", "trace"};

// The daemon's API objects as serve.cpp wires them, minus the listening
// socket. Nothing is started: installing routes only takes references.
class DaemonRoutes : public ::testing::Test {
 protected:
  DaemonRoutes()
      : db_(std::make_unique<store::sqlite::SqliteJobStore>(
                std::filesystem::temp_directory_path() / "haul-docs-routes-test-never-opened.db"),
            [this](std::function<void()> task) { asio::post(io_, std::move(task)); }),
        clock_(io_),
        scheduler_(db_, bus_, clock_, scheduler::SchedulerOptions{}),
        feed_(bus_, &socketio_.of("/downloads")),
        catalog_(io_.get_executor(), db_, scheduler_, bus_, models::ModelFolders(),
                 std::filesystem::temp_directory_path() / "haul-docs-routes-test-no-cache.txt"),
        progress_files_(io_.get_executor(), io_.get_executor(), scheduler_, bus_),
        probe_(io_.get_executor(), {}),
        context_{scheduler_, bus_, db_, feed_, &socketio_, nullptr} {
    context_.models = &catalog_;
    context_.progress_files = &progress_files_;
    context_.probe = &probe_;
    install_routes(router_, context_);
  }

  // "GET /api/v1/jobs/{id}" for every registered route; duplicates reported.
  std::set<std::string> registered() {
    std::set<std::string> out;
    for (const Router::RouteInfo& route : router_.routes()) {
      const std::string key = std::string(http::to_string(route.method)) + " " + route.pattern;
      EXPECT_TRUE(out.insert(key).second) << "registered twice: " << key;
    }
    return out;
  }

  asio::io_context io_;
  store::DbWorker db_;
  scheduler::EventBus bus_;
  scheduler::AsioClock clock_;
  scheduler::Scheduler scheduler_;
  socketio::Server socketio_{io_};
  LiveFeed feed_;
  ModelCatalog catalog_;
  ProgressFiles progress_files_;
  InstanceProbe probe_;
  ApiContext context_;
  Router router_;
};

json document() { return json::parse(openapi_json()); }

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// "GET /api/v1/jobs/{id}" for every documented operation.
std::set<std::string> documented(const json& doc) {
  std::set<std::string> out;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [method, operation] : item.items()) {
      if (kHttpMethods.contains(method)) out.insert(upper(method) + " " + path);
    }
  }
  return out;
}

// Follows a local "$ref" ("#/components/...").
const json& resolve(const json& doc, const json& node) {
  if (!node.is_object() || !node.contains("$ref")) return node;
  return doc.at(json::json_pointer(node.at("$ref").get<std::string>().substr(1)));
}

// Every "$ref" anywhere in `node`, with where it was found.
void collect_refs(const json& node, const std::string& where,
                  std::vector<std::pair<std::string, std::string>>& out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "$ref" && value.is_string()) out.emplace_back(where, value.get<std::string>());
      collect_refs(value, where + "/" + key, out);
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      collect_refs(node[i], where + "/" + std::to_string(i), out);
  }
}

TEST_F(DaemonRoutes, EveryInstalledRouteIsDocumented) {
  const std::set<std::string> routes = registered();
  ASSERT_TRUE(routes.contains("GET /socket.io/")) << "install_routes must install Socket.IO";
  const std::set<std::string> docs = documented(document());
  std::string undocumented;
  for (const std::string& route : routes) {
    if (!docs.contains(route)) undocumented += "\n  " + route;
  }
  EXPECT_TRUE(undocumented.empty()) << "routes missing from src/api/openapi.json:" << undocumented;
}

TEST_F(DaemonRoutes, EveryDocumentedRouteIsInstalled) {
  const std::set<std::string> routes = registered();
  std::string missing;
  for (const std::string& operation : documented(document())) {
    if (!routes.contains(operation)) missing += "\n  " + operation;
  }
  EXPECT_TRUE(missing.empty()) << "documented but not installed by install_routes:" << missing;
}

TEST_F(DaemonRoutes, ServesTheDocumentAsJson) {
  const Router::Match match = router_.match(http::verb::get, "/api/v1/openapi.json");
  ASSERT_NE(match.handler, nullptr);
  Request request{http::verb::get, "/api/v1/openapi.json", 11};
  Stream stream(io_);
  RouteParams params;
  HandlerResult response;
  asio::co_spawn(
      io_,
      [&]() -> Awaitable<void> { response = co_await (*match.handler)(request, stream, params); },
      asio::detached);
  io_.run();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result(), http::status::ok);
  EXPECT_EQ((*response)[http::field::content_type], "application/json");
  EXPECT_EQ(response->body(), openapi_json());
}

TEST(OpenApiDocument, IsOpenApi31) {
  const json doc = document();
  EXPECT_EQ(doc.at("openapi").get<std::string>().rfind("3.1.", 0), 0u);
  EXPECT_FALSE(doc.at("info").at("title").get<std::string>().empty());
  EXPECT_TRUE(doc.at("info").at("version").is_string());
  EXPECT_TRUE(doc.at("components").at("securitySchemes").contains("bearerAuth"));
  for (const char* schema : {"Job", "Item", "Error", "Instance", "DownloadMessage"})
    EXPECT_TRUE(doc.at("components").at("schemas").contains(schema)) << schema;
}

TEST(OpenApiDocument, EveryRefResolves) {
  const json doc = document();
  std::vector<std::pair<std::string, std::string>> refs;
  collect_refs(doc, "", refs);
  EXPECT_GT(refs.size(), 50u);
  for (const auto& [where, ref] : refs) {
    ASSERT_EQ(ref.rfind("#/", 0), 0u) << where << ": only local refs: " << ref;
    EXPECT_TRUE(doc.contains(json::json_pointer(ref.substr(1)))) << where << ": " << ref;
  }
}

TEST(OpenApiDocument, EveryOperationHasResponsesAndAUniqueId) {
  const json doc = document();
  const std::regex status("[1-5][0-9][0-9]|[1-5]XX|default");
  std::set<std::string> ids;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [method, operation] : item.items()) {
      if (!kHttpMethods.contains(method)) continue;
      const std::string where = upper(method) + " " + path;
      ASSERT_TRUE(operation.contains("responses")) << where;
      const json& responses = operation.at("responses");
      ASSERT_TRUE(responses.is_object()) << where;
      EXPECT_FALSE(responses.empty()) << where;
      for (const auto& [code, response] : responses.items()) {
        EXPECT_TRUE(std::regex_match(code, status)) << where << ": " << code;
        EXPECT_TRUE(resolve(doc, response).contains("description")) << where << " " << code;
      }
      ASSERT_TRUE(operation.contains("operationId")) << where;
      EXPECT_TRUE(ids.insert(operation.at("operationId").get<std::string>()).second)
          << where << ": operationId used twice";
    }
  }
}

TEST(OpenApiDocument, PathParametersMatchTheTemplates) {
  const json doc = document();
  const std::regex placeholder("\\{([^}]+)\\}");
  for (const auto& [path, item] : doc.at("paths").items()) {
    std::set<std::string> in_template;
    for (std::sregex_iterator it(path.begin(), path.end(), placeholder), end; it != end; ++it)
      in_template.insert((*it)[1]);
    for (const auto& [method, operation] : item.items()) {
      if (!kHttpMethods.contains(method)) continue;
      std::set<std::string> declared;
      for (const json* list : {&item, &operation}) {
        if (!list->contains("parameters")) continue;
        for (const json& parameter : list->at("parameters")) {
          const json& p = resolve(doc, parameter);
          if (p.at("in") != "path") continue;
          declared.insert(p.at("name").get<std::string>());
          EXPECT_EQ(p.value("required", false), true) << path << " " << p.at("name");
        }
      }
      EXPECT_EQ(declared, in_template) << upper(method) << " " << path;
    }
  }
}

// OpenAPI 3.1 schemas are JSON Schema 2020-12: `type: [T, "null"]`, not 3.0's
// `nullable`.
TEST(OpenApiDocument, UsesNoOpenApi30Nullable) {
  std::vector<std::string> found;
  std::function<void(const json&, const std::string&)> walk = [&](const json& node,
                                                                  const std::string& where) {
    if (node.is_object()) {
      for (const auto& [key, value] : node.items()) {
        if (key == "nullable") found.push_back(where);
        walk(value, where + "/" + key);
      }
    } else if (node.is_array()) {
      for (const json& value : node) walk(value, where + "/[]");
    }
  };
  walk(document(), "");
  EXPECT_EQ(found, std::vector<std::string>{});
}

}  // namespace
}  // namespace haul::api
