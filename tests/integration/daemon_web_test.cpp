// The web UI as the daemon serves it, seen by a client: the page and its
// assets without the token while the API keeps asking for it, every file the
// page and its modules load answering 200 (the embedded copy is complete),
// ETags and gzip, `--web-dir` for UI work, and the two routes the UI added:
// GET /api/v1/folders and POST /api/v1/instances/{id}/check. The page itself
// in a browser: web_ui_test.cpp.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>

#include "daemon_fixture.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kBearer = {"Authorization: Bearer s3cret-token"};

// "/assets/js/main.js" for each script and style sheet a page names.
std::set<std::string> assets_of_page(const std::string& html) {
  std::set<std::string> out;
  const std::regex ref(R"re((?:src|href)="(/assets/[^"]+)")re");
  for (std::sregex_iterator it(html.begin(), html.end(), ref), end; it != end; ++it)
    out.insert((*it)[1].str());
  return out;
}

// The modules a script imports, resolved against its own URL path.
std::set<std::string> imports_of(const std::string& script, const std::string& url_path) {
  std::set<std::string> out;
  const std::regex from(R"re((?:from|import)\s*\(?\s*['"](\.{1,2}/[^'"]+)['"])re");
  const fs::path base = fs::path(url_path).parent_path();
  for (std::sregex_iterator it(script.begin(), script.end(), from), end; it != end; ++it)
    out.insert((base / (*it)[1].str()).lexically_normal().string());
  return out;
}

TEST_F(DaemonTest, ThePageAndItsAssetsNeedNoTokenButTheApiDoes) {
  auto daemon = start_daemon({"--token", "s3cret-token"});
  const HttpReply page = daemon->call("GET", "/");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.headers.at("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.headers.at("content-security-policy").find("script-src 'self'"),
            std::string::npos);
  EXPECT_EQ(page.body.find("s3cret-token"), std::string::npos);
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs").status, 401);
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs", {}, kBearer).status, 200);
  EXPECT_EQ(daemon->call("GET", "/assets/no-such-file.js").status, 404);

  // Everything the page loads, and everything those modules import, is there.
  std::set<std::string> pending = assets_of_page(page.body);
  ASSERT_FALSE(pending.empty()) << page.body;
  std::set<std::string> seen;
  while (!pending.empty()) {
    const std::string path = *pending.begin();
    pending.erase(pending.begin());
    if (!seen.insert(path).second) continue;
    const HttpReply asset = daemon->call("GET", path);
    ASSERT_EQ(asset.status, 200) << path << " (named by the page or a module)";
    if (path.ends_with(".js")) {
      EXPECT_EQ(asset.headers.at("content-type"), "text/javascript; charset=utf-8") << path;
      for (const std::string& import : imports_of(asset.body, path)) pending.insert(import);
    }
  }
  EXPECT_GE(seen.size(), 5u);  // page script, styles, the views
}

TEST_F(DaemonTest, AssetsComeWithEtagsAndGzip) {
  auto daemon = start_daemon();
  // Without a token only loopback names are served, the page included: a
  // page whose name was rebound to 127.0.0.1 is refused.
  EXPECT_EQ(daemon->call("GET", "/", {}, {"Host: evil.example:5000"}).status, 403);
  const HttpReply first = daemon->call("GET", "/assets/js/main.js");
  ASSERT_EQ(first.status, 200);
  const std::string etag = first.headers.at("etag");
  const HttpReply again = daemon->call("GET", "/assets/js/main.js", {}, {"If-None-Match: " + etag});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());

  const HttpReply compressed = daemon->call("GET", "/", {}, {"Accept-Encoding: gzip, br"});
  ASSERT_EQ(compressed.status, 200);
  EXPECT_EQ(compressed.headers.at("content-encoding"), "gzip");
  ASSERT_GE(compressed.body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(compressed.body[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(compressed.body[1]), 0x8b);
}

TEST_F(DaemonTest, WebDirServesTheFilesAsTheyAreNow) {
  const fs::path web = dir / "web";
  fs::create_directories(web / "js");
  std::ofstream(web / "index.html") << "<!doctype html><title>one</title>";
  auto daemon = start_daemon({"--web-dir", web.string()});
  EXPECT_NE(daemon->call("GET", "/").body.find("one"), std::string::npos);
  std::ofstream(web / "index.html") << "<!doctype html><title>two</title>";
  std::ofstream(web / "js" / "new.js") << "export const x = 1;";
  EXPECT_NE(daemon->call("GET", "/").body.find("two"), std::string::npos);
  EXPECT_EQ(daemon->call("GET", "/assets/js/new.js").status, 200);
  daemon.reset();

  HaulProcess wrong({"serve", "--listen", "127.0.0.1:0", "--data-dir", (dir / "d2").string(),
                     "--web-dir", (dir / "nowhere").string()});
  const auto outcome = wrong.wait(std::chrono::seconds(30));
  EXPECT_EQ(outcome.exit_code, 2) << outcome.err;
  EXPECT_NE(outcome.err.find("--web-dir"), std::string::npos) << outcome.err;
  EXPECT_NE(outcome.err.find("index.html"), std::string::npos) << outcome.err;
}

TEST_F(DaemonTest, FoldersListComfyUisModelFolders) {
  auto daemon = start_daemon();
  const HttpReply reply = daemon->call("GET", "/api/v1/folders");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const json folders = reply.json().at("folders");
  ASSERT_TRUE(folders.is_array());
  EXPECT_EQ(folders.at(0), "checkpoints");
  EXPECT_NE(std::find(folders.begin(), folders.end(), "loras"), folders.end());
}

TEST_F(DaemonTest, AnInstanceNobodyAnswersIsReportedUnreachable) {
  auto daemon = start_daemon();
  // Port 1: nothing listens there.
  const HttpReply added =
      daemon->call("POST", "/api/v1/instances",
                   json{{"id", "dead"}, {"ssh_command", "ssh -p 1 root@127.0.0.1"}}.dump(),
                   {"Content-Type: application/json"});
  ASSERT_LT(added.status, 300) << added.body;
  const HttpReply check = daemon->call("POST", "/api/v1/instances/dead/check");
  ASSERT_EQ(check.status, 200) << check.body;
  const json result = check.json();
  EXPECT_FALSE(result.at("reachable").get<bool>());
  EXPECT_NE(result.at("error").get<std::string>().find("127.0.0.1:1"), std::string::npos)
      << result.dump();
  EXPECT_EQ(daemon->call("POST", "/api/v1/instances/nobody/check").status, 404);
}

}  // namespace
}  // namespace haul::testing
