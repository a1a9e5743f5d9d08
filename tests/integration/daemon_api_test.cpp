// The daemon's REST API as a client sees it: a real `haul serve` process,
// the test HTTP server as the download source. Covers /api/v1/jobs (add,
// list, get, actions, delete), the seed routes, /healthz and /metrics, bad
// input, the security checks (token, Host, Origin, listen address) and the
// scheduler's rules as they show through the API (limits, priority, pause,
// resume, cancel, retries, dedup, multi-file jobs, hash checks).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "daemon_fixture.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr auto kWait = std::chrono::seconds(20);
const std::vector<std::string> kJsonHeader = {"Content-Type: application/json"};

// A file served slowly enough that a job on it stays running for a while.
Resource slow(std::string body, std::size_t rate = 32 * 1024) {
  return Resource{.body = std::move(body), .rate = rate};
}

std::string canonical_path(const fs::path& path) { return fs::weakly_canonical(path).string(); }

std::vector<std::string> ids_of(const json& list) {
  std::vector<std::string> ids;
  for (const json& job : list.at("jobs")) ids.push_back(job.at("id").get<std::string>());
  return ids;
}

// Every error answer has the contract's shape.
void expect_error_shape(const HttpReply& reply) {
  const json body = reply.json();
  ASSERT_TRUE(body.is_object()) << reply.body;
  ASSERT_TRUE(body.contains("error")) << reply.body;
  EXPECT_TRUE(body["error"]["code"].is_string()) << reply.body;
  EXPECT_FALSE(body["error"]["code"].get<std::string>().empty()) << reply.body;
  EXPECT_TRUE(body["error"]["message"].is_string()) << reply.body;
  EXPECT_FALSE(body["error"]["message"].get<std::string>().empty()) << reply.body;
}

std::string header(const HttpReply& reply, const std::string& name) {
  auto it = reply.headers.find(name);
  return it == reply.headers.end() ? std::string() : it->second;
}

std::string error_message(const HttpReply& reply) {
  const json body = reply.json();
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) return {};
  return body["error"].value("message", "");
}

class DaemonApiTest : public DaemonTest {
 protected:
  // Adds a job and waits until it is running with some bytes written (and,
  // once the server has named the file, its item path known).
  json add_running(const Daemon& daemon, const json& request) {
    const json added = daemon.add(request);
    const std::string id = added.value("id", "");
    json job;
    const bool running = eventually([&] {
      job = daemon.job(id);
      return job.value("state", "") == "running" && job.value("bytes_done", 0) > 0 &&
             job["items"][0]["path"].is_string();
    });
    EXPECT_TRUE(running) << job.dump();
    return job;
  }
  // Waits until the server has seen every response for `path` end (sent in
  // full, or the client went away).
  bool all_responses_ended(const std::string& path) {
    return eventually([&] {
      const auto records = server.requests_for(path);
      return std::all_of(records.begin(), records.end(),
                         [](const RequestRecord& r) { return r.ended; });
    });
  }

  std::size_t count_in_state(const Daemon& daemon, const std::string& state) {
    const json list = daemon.call("GET", "/api/v1/jobs?state=" + state).json();
    return list.is_object() ? list.value("count", std::size_t{0}) : 0;
  }
};

// ---- adding and reading jobs -------------------------------------------------

TEST_F(DaemonApiTest, AddedJobCompletesWithEveryRequestedField) {
  const std::string body = random_bytes(300'000, 1);
  server.add("/models/lora.safetensors", {.body = body});
  auto daemon = start_daemon();

  const json request = {{"source", server.url("/models/lora.safetensors")},
                        {"dest", "loras/sd15"},
                        {"sha256", sha256_of(body)},
                        {"priority", 7},
                        {"group", "loras"},
                        {"name", "My LoRA"},
                        {"max_attempts", 2},
                        {"labels", {{"base", "sd15"}}}};
  const HttpReply reply = daemon->call("POST", "/api/v1/jobs", request.dump(), kJsonHeader);
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_TRUE(contains(header(reply, "content-type"), "application/json"));
  const json added = reply.json();
  const std::string id = added.value("id", "");
  EXPECT_TRUE(std::regex_match(
      id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << id;
  EXPECT_TRUE(added["state"] == "queued" || added["state"] == "running") << added.dump();
  EXPECT_EQ(added["source"], server.url("/models/lora.safetensors"));
  EXPECT_EQ(added["target"], "local");
  EXPECT_EQ(added["dest"], canonical_path(models() / "loras" / "sd15"));
  EXPECT_EQ(added["group"], "loras");
  EXPECT_EQ(added["name"], "My LoRA");
  EXPECT_EQ(added["priority"], 7);
  EXPECT_EQ(added["max_attempts"], 2);
  EXPECT_EQ(added["labels"], json({{"base", "sd15"}}));
  EXPECT_TRUE(added["created_at"].is_string());
  ASSERT_EQ(added["items"].size(), 1u);

  const json done = daemon->wait_for_state(id, "completed");
  const fs::path file = models() / "loras" / "sd15" / "lora.safetensors";
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(read_file(file), body);
  EXPECT_FALSE(fs::exists(file.string() + ".part"));
  EXPECT_EQ(done["progress"], 100.0);
  EXPECT_EQ(done["bytes_done"], body.size());
  EXPECT_EQ(done["bytes_total"], body.size());
  EXPECT_EQ(done["attempts"], 1);
  EXPECT_TRUE(done["error"].is_null()) << done.dump();
  EXPECT_TRUE(done["started_at"].is_string());
  EXPECT_TRUE(done["finished_at"].is_string());
  EXPECT_EQ(done["items"][0]["path"], canonical_path(file));
  EXPECT_EQ(done["items"][0]["state"], "completed");
  EXPECT_EQ(done["items"][0]["sha256"], sha256_of(body));
  // The log names the job on each of its lines (started, file done, completed).
  const std::string log = daemon->log();
  std::istringstream lines(log);
  int lines_with_id = 0;
  for (std::string line; std::getline(lines, line);) lines_with_id += contains(line, id) ? 1 : 0;
  EXPECT_GE(lines_with_id, 2) << log;
}

TEST_F(DaemonApiTest, ListFiltersByStateTargetAndGroup) {
  server.add("/a.bin", {.body = random_bytes(10'000, 2)});
  server.add("/b.bin", {.body = random_bytes(10'000, 3)});
  server.add("/c.bin", {.body = "x", .fail_status = 404, .fail_times = -1});
  auto daemon = start_daemon();
  const std::string a = daemon->add({{"source", server.url("/a.bin")}, {"group", "loras"}})["id"];
  const std::string b = daemon->add({{"source", server.url("/b.bin")}, {"group", "vae"}})["id"];
  const std::string c = daemon->add({{"source", server.url("/c.bin")}, {"group", "loras"}})["id"];
  daemon->wait_for_state(a, "completed");
  daemon->wait_for_state(b, "completed");
  daemon->wait_for_state(c, "failed");

  const json all = daemon->call("GET", "/api/v1/jobs").json();
  EXPECT_EQ(all["count"], 3);
  EXPECT_EQ(ids_of(all), (std::vector<std::string>{a, b, c}));  // oldest first
  EXPECT_EQ(ids_of(daemon->call("GET", "/api/v1/jobs?group=loras").json()),
            (std::vector<std::string>{a, c}));
  EXPECT_EQ(ids_of(daemon->call("GET", "/api/v1/jobs?state=failed").json()),
            (std::vector<std::string>{c}));
  EXPECT_EQ(ids_of(daemon->call("GET", "/api/v1/jobs?state=completed&group=loras").json()),
            (std::vector<std::string>{a}));
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs?target=local").json()["count"], 3);
  const json none = daemon->call("GET", "/api/v1/jobs?target=gpu-7").json();
  EXPECT_EQ(none["count"], 0);
  EXPECT_TRUE(none["jobs"].is_array() && none["jobs"].empty());
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs?state=").json()["count"], 3);  // empty = any

  const HttpReply bad = daemon->call("GET", "/api/v1/jobs?state=sleeping");
  EXPECT_EQ(bad.status, 400) << bad.body;
  expect_error_shape(bad);

  // Issue 10 item 11: name and path filter (seed 002), combined with the
  // others; a path is relative to the models root like `dest`, or absolute;
  // a folder covers the files in it. An unknown parameter is an error, not
  // a filter that matches everything.
  EXPECT_EQ(ids_of(daemon->call("GET", "/api/v1/jobs?name=b.bin").json()),
            (std::vector<std::string>{b}));
  EXPECT_EQ(ids_of(daemon->call("GET", "/api/v1/jobs?path=a.bin").json()),
            (std::vector<std::string>{a}));
  EXPECT_EQ(
      ids_of(daemon->call("GET", "/api/v1/jobs?path=" + (models() / "b.bin").string()).json()),
      (std::vector<std::string>{b}));
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs?path=.").json()["count"], 3);  // the root folder
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs?path=elsewhere.bin").json()["count"], 0);
  EXPECT_EQ(
      ids_of(daemon->call("GET", "/api/v1/jobs?group=loras&path=a.bin&state=completed").json()),
      (std::vector<std::string>{a}));
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs?group=vae&name=a.bin").json()["count"], 0);
  for (const char* query : {"paht=a.bin", "name=a.bin&colour=red"}) {
    const HttpReply unknown = daemon->call("GET", std::string("/api/v1/jobs?") + query);
    EXPECT_EQ(unknown.status, 400) << query << " -> " << unknown.body;
    expect_error_shape(unknown);
    EXPECT_TRUE(contains(error_message(unknown), "unknown query parameter")) << unknown.body;
  }

  // Paging: count stays the number of matching jobs.
  const json page = daemon->call("GET", "/api/v1/jobs?limit=1&offset=1").json();
  EXPECT_EQ(ids_of(page), (std::vector<std::string>{b}));
  EXPECT_EQ(page["count"], 3);
  EXPECT_EQ(ids_of(daemon->call("GET", "/api/v1/jobs?offset=2&limit=5").json()),
            (std::vector<std::string>{c}));
  EXPECT_TRUE(daemon->call("GET", "/api/v1/jobs?offset=9").json()["jobs"].empty());
  EXPECT_TRUE(daemon->call("GET", "/api/v1/jobs?limit=0").json()["jobs"].empty());
  for (const char* query : {"limit=-1", "limit=ten", "offset=1x"}) {
    const HttpReply wrong = daemon->call("GET", std::string("/api/v1/jobs?") + query);
    EXPECT_EQ(wrong.status, 400) << query;
    expect_error_shape(wrong);
  }
  EXPECT_EQ(daemon->call("GET", "/api/models/download/jobs").json().size(), 3u);
}

TEST_F(DaemonApiTest, BatchAddTakesAnArrayOrAJobsObject) {
  server.add("/x.bin", slow(random_bytes(400'000, 4)));
  server.add("/y.bin", {.body = random_bytes(5'000, 5)});
  server.add("/z.bin", {.body = random_bytes(5'000, 6)});
  auto daemon = start_daemon();

  const json array = json::array(
      {{{"source", server.url("/x.bin")}, {"priority", 1}}, {{"source", server.url("/y.bin")}}});
  const HttpReply first = daemon->call("POST", "/api/v1/jobs", array.dump(), kJsonHeader);
  ASSERT_EQ(first.status, 201) << first.body;
  const json jobs = first.json()["jobs"];
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0]["existing"], false);
  EXPECT_EQ(jobs[1]["existing"], false);
  EXPECT_EQ(jobs[0]["priority"], 1);
  const std::string x = jobs[0]["id"];
  daemon->wait_for_state(jobs[1]["id"], "completed");

  // x is still downloading: a batch naming it again gets the same job back.
  const json object = {{"jobs", json::array({{{"source", server.url("/x.bin")}},
                                             {{"source", server.url("/z.bin")}}})}};
  const HttpReply second = daemon->call("POST", "/api/v1/jobs", object.dump(), kJsonHeader);
  ASSERT_EQ(second.status, 201) << second.body;
  const json again = second.json()["jobs"];
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0]["id"], x);
  EXPECT_EQ(again[0]["existing"], true);
  EXPECT_EQ(again[1]["existing"], false);
  daemon->wait_for_state(again[1]["id"], "completed");

  const json only_old = {{"jobs", json::array({{{"source", server.url("/x.bin")}}})}};
  const HttpReply third = daemon->call("POST", "/api/v1/jobs", only_old.dump(), kJsonHeader);
  EXPECT_EQ(third.status, 200) << third.body;
  EXPECT_EQ(third.json()["jobs"][0]["id"], x);
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs").json()["count"], 3);
}

TEST_F(DaemonApiTest, BatchNamingTheSameDownloadTwiceAnswersForEachEntry) {
  server.add("/twice.bin", slow(random_bytes(400'000, 15)));
  auto daemon = start_daemon();
  const json entry = {{"source", server.url("/twice.bin")}, {"dest", "d"}};
  const HttpReply reply =
      daemon->call("POST", "/api/v1/jobs", json::array({entry, entry}).dump(), kJsonHeader);
  ASSERT_EQ(reply.status, 201) << reply.body;
  const json jobs = reply.json()["jobs"];
  // One job is made; the answer still has one entry per requested job, in
  // order, so a client can match them up.
  ASSERT_EQ(jobs.size(), 2u) << reply.body;
  EXPECT_EQ(jobs[0]["id"], jobs[1]["id"]);
  EXPECT_EQ(jobs[0]["existing"], false);
  EXPECT_EQ(jobs[1]["existing"], true);
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs").json()["count"], 1);
}

TEST_F(DaemonApiTest, DuplicateOfAnUnfinishedJobReturnsTheExistingJob) {
  server.add("/big.bin", slow(random_bytes(400'000, 7)));
  auto daemon = start_daemon();
  const json request = {{"source", server.url("/big.bin")}, {"dest", "checkpoints"}};
  const HttpReply first = daemon->call("POST", "/api/v1/jobs", request.dump(), kJsonHeader);
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string id = first.json()["id"];

  // Queued or running: the same source and destination is the same job.
  const HttpReply second = daemon->call("POST", "/api/v1/jobs", request.dump(), kJsonHeader);
  EXPECT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.json()["id"], id);
  add_running(*daemon, request);
  const HttpReply third = daemon->call("POST", "/api/v1/jobs", request.dump(), kJsonHeader);
  EXPECT_EQ(third.status, 200) << third.body;
  EXPECT_EQ(third.json()["id"], id);

  // Another destination is another job.
  const HttpReply elsewhere =
      daemon->call("POST", "/api/v1/jobs",
                   json{{"source", server.url("/big.bin")}, {"dest", "other"}}.dump(), kJsonHeader);
  EXPECT_EQ(elsewhere.status, 201) << elsewhere.body;
  EXPECT_NE(elsewhere.json()["id"], id);

  // Once finished, the same request makes a new job.
  EXPECT_EQ(daemon->act(id, "cancel")["state"], "cancelled");
  const HttpReply after = daemon->call("POST", "/api/v1/jobs", request.dump(), kJsonHeader);
  EXPECT_EQ(after.status, 201) << after.body;
  EXPECT_NE(after.json()["id"], id);
}

TEST_F(DaemonApiTest, JobIsReadableByIdAndDeleteRemovesIt) {
  server.add("/done.bin", {.body = random_bytes(20'000, 8)});
  server.add("/slow.bin", slow(random_bytes(400'000, 9)));
  auto daemon = start_daemon();
  const std::string done = daemon->add({{"source", server.url("/done.bin")}})["id"];
  daemon->wait_for_state(done, "completed");
  const HttpReply got = daemon->call("GET", "/api/v1/jobs/" + done);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.json()["id"], done);

  const HttpReply removed = daemon->call("DELETE", "/api/v1/jobs/" + done);
  EXPECT_EQ(removed.status, 204) << removed.body;
  EXPECT_TRUE(removed.body.empty());
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs/" + done).status, 404);

  // Deleting a running job stops it and removes its partial file.
  const json running = add_running(*daemon, {{"source", server.url("/slow.bin")}});
  const std::string part = running["items"][0]["path"].get<std::string>() + ".part";
  EXPECT_TRUE(eventually([&] { return fs::exists(part); })) << part;
  const HttpReply removed_running =
      daemon->call("DELETE", "/api/v1/jobs/" + running["id"].get<std::string>());
  EXPECT_EQ(removed_running.status, 204) << removed_running.body;
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs/" + running["id"].get<std::string>()).status, 404);
  EXPECT_FALSE(fs::exists(part));
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs").json()["count"], 0);
}

// ---- bad input ------------------------------------------------------------------

// Issue 10 item 12: a body that is not JSON is 400 bad_json on every route
// that reads one; well-formed JSON asking for something invalid is 422.
TEST_F(DaemonApiTest, MalformedJsonGets400AndWrongTypes422WithTheParserMessage) {
  auto daemon = start_daemon();
  const std::string url = server.url("/f.bin");

  for (const char* route : {"/api/v1/jobs", "/api/v1/instances", "/downloads/queue",
                            "/resources/install", "/api/v1/instances/prune"}) {
    const HttpReply broken = daemon->call("POST", route, "{\"source\": ", kJsonHeader);
    EXPECT_EQ(broken.status, 400) << route << " -> " << broken.body;
    EXPECT_TRUE(contains(broken.body, "parse error")) << route << " -> " << broken.body;
    if (std::string(route) != "/resources/install") {  // seed 001 answers {success, message}
      expect_error_shape(broken);
      EXPECT_EQ(broken.json()["error"]["code"], "bad_json") << route;
    } else {
      EXPECT_EQ(broken.json()["success"], false);
    }
  }

  const std::vector<std::pair<json, std::string>> cases = {
      {{{"source", 42}}, "'source' must be a string"},
      {{{"source", url}, {"priority", "high"}}, "'priority' must be an integer"},
      {{{"source", url}, {"max_attempts", 1.5}}, "'max_attempts' must be an integer"},
      {{{"source", url}, {"dest", json::array()}}, "'dest' must be a string"},
      {{{"sources", url}}, "'sources'"},
      {{{"sources", json::array({url, 3})}}, "'sources'"},
      {{{"source", url}, {"labels", {{"a", 1}}}}, "label 'a'"},
      {json::object(), "'source' (or 'sources') is required"},
      {{{"source", url}, {"colour", "red"}}, "unknown field 'colour'"},
      {json("just a string"), "JSON object"},
      {{{"jobs", "nope"}}, "'jobs' must be an array"},
      {json::array({{{"source", url}}, {{"source", false}}}), "job 1"},
  };
  for (const auto& [body, message] : cases) {
    const HttpReply reply = daemon->call("POST", "/api/v1/jobs", body.dump(), kJsonHeader);
    EXPECT_EQ(reply.status, 422) << body.dump() << " -> " << reply.body;
    expect_error_shape(reply);
    EXPECT_TRUE(contains(error_message(reply), message))
        << body.dump() << " -> " << reply.body << " (wanted '" << message << "')";
  }
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs").json()["count"], 0);  // nothing was added
}

TEST_F(DaemonApiTest, BodiesOverOneMebibyteGet413) {
  auto daemon = start_daemon();
  // Valid JSON, but too big: the size is refused before the content is read.
  const std::string name(1u << 20, 'n');
  const std::string body = json{{"source", server.url("/f.bin")}, {"name", name}}.dump();
  const HttpReply reply = daemon->call("POST", "/api/v1/jobs", body, kJsonHeader);
  EXPECT_EQ(reply.status, 413) << reply.body.substr(0, 300);
  expect_error_shape(reply);
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs").json()["count"], 0);

  // Just under the limit is fine.
  const std::string fits(1000u * 1000u, 'n');
  server.add("/f.bin", {.body = "tiny"});
  const HttpReply ok =
      daemon->call("POST", "/api/v1/jobs",
                   json{{"source", server.url("/f.bin")}, {"name", fits}}.dump(), kJsonHeader);
  EXPECT_EQ(ok.status, 201) << ok.body.substr(0, 300);
}

TEST_F(DaemonApiTest, UnknownJobIdGets404OnEveryRoute) {
  auto daemon = start_daemon();
  const std::string id = "0b0e4b8e-6c1f-4d2a-9a51-1f6f7a2b3c4d";
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", "/api/v1/jobs/" + id},
      {"POST", "/api/v1/jobs/" + id + "/pause"},
      {"POST", "/api/v1/jobs/" + id + "/resume"},
      {"POST", "/api/v1/jobs/" + id + "/retry"},
      {"POST", "/api/v1/jobs/" + id + "/cancel"},
      {"DELETE", "/api/v1/jobs/" + id},
      {"GET", "/api/v1/jobs/not-even-an-id"},
      {"GET", "/api/v1/nothing-here"},
  };
  for (const auto& [method, path] : routes) {
    const HttpReply reply = daemon->call(method, path);
    EXPECT_EQ(reply.status, 404) << method << " " << path << " -> " << reply.body;
    expect_error_shape(reply);
  }
  const HttpReply wrong_method = daemon->call("PUT", "/api/v1/jobs");
  EXPECT_EQ(wrong_method.status, 405) << wrong_method.body;
  expect_error_shape(wrong_method);
}

TEST_F(DaemonApiTest, ImpossibleTransitionsGet409) {
  server.add("/done.bin", {.body = random_bytes(10'000, 10)});
  server.add("/slow.bin", slow(random_bytes(400'000, 11)));
  auto daemon = start_daemon();
  const std::string done = daemon->add({{"source", server.url("/done.bin")}})["id"];
  daemon->wait_for_state(done, "completed");
  for (const char* action : {"pause", "resume", "retry", "cancel"}) {
    const HttpReply reply = daemon->call("POST", "/api/v1/jobs/" + done + "/" + action);
    EXPECT_EQ(reply.status, 409) << action << " -> " << reply.body;
    expect_error_shape(reply);
    EXPECT_TRUE(contains(error_message(reply), "completed")) << reply.body;
  }
  EXPECT_EQ(daemon->job(done)["state"], "completed");  // untouched

  const std::string id = add_running(*daemon, {{"source", server.url("/slow.bin")}})["id"];
  EXPECT_EQ(daemon->call("POST", "/api/v1/jobs/" + id + "/resume").status, 409);  // running
  EXPECT_EQ(daemon->call("POST", "/api/v1/jobs/" + id + "/retry").status, 409);   // running
  EXPECT_EQ(daemon->act(id, "pause")["state"], "paused");
  EXPECT_EQ(daemon->call("POST", "/api/v1/jobs/" + id + "/pause").status, 409);  // paused
  EXPECT_EQ(daemon->act(id, "cancel")["state"], "cancelled");
  EXPECT_EQ(daemon->call("POST", "/api/v1/jobs/" + id + "/cancel").status, 409);
  EXPECT_EQ(daemon->call("POST", "/api/v1/jobs/" + id + "/pause").status, 409);
  EXPECT_EQ(daemon->call("POST", "/api/v1/jobs/" + id + "/resume").status, 409);
}

TEST_F(DaemonApiTest, DestinationsOutsideTheRootsAndUnparsableSourcesGet422) {
  const fs::path outside = dir / "outside";
  fs::create_directories(outside);
  fs::create_directories(models());
  fs::create_directory_symlink(outside, models() / "escape");
  server.add("/ok.bin", {.body = "ok"});
  auto daemon = start_daemon();
  const std::string url = server.url("/ok.bin");

  for (const std::string& dest :
       {std::string("/etc"), std::string("/tmp"), outside.string(), std::string("../outside"),
        std::string("loras/../../outside"), (models() / ".." / "outside").string(),
        std::string("escape"), std::string("escape/deeper")}) {
    const HttpReply reply = daemon->call("POST", "/api/v1/jobs",
                                         json{{"source", url}, {"dest", dest}}.dump(), kJsonHeader);
    EXPECT_EQ(reply.status, 422) << dest << " -> " << reply.body;
    expect_error_shape(reply);
  }
  for (const std::string& source :
       {std::string("not a url"), std::string("ftp://example.com/model.bin"),
        std::string("http://"), std::string("")}) {
    const HttpReply reply =
        daemon->call("POST", "/api/v1/jobs", json{{"source", source}}.dump(), kJsonHeader);
    EXPECT_EQ(reply.status, 422) << "'" << source << "' -> " << reply.body;
    expect_error_shape(reply);
  }
  // One bad job in a batch refuses the whole batch.
  const json batch = json::array({{{"source", url}}, {{"source", url}, {"dest", "/etc"}}});
  const HttpReply reply = daemon->call("POST", "/api/v1/jobs", batch.dump(), kJsonHeader);
  EXPECT_EQ(reply.status, 422) << reply.body;
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs").json()["count"], 0);
  EXPECT_TRUE(fs::is_empty(outside));

  // An absolute path inside the root is fine.
  const HttpReply inside = daemon->call(
      "POST", "/api/v1/jobs", json{{"source", url}, {"dest", (models() / "vae").string()}}.dump(),
      kJsonHeader);
  EXPECT_EQ(inside.status, 201) << inside.body;
}

// ---- seed routes, health, metrics -------------------------------------------------

TEST_F(DaemonApiTest, SeedDownloadRoutesReportJobsInTheirShape) {
  const std::string body = random_bytes(50'000, 12);
  server.add("/seed/model.gguf", {.body = body});
  auto daemon = start_daemon();
  const std::string id = daemon->add({{"source", server.url("/seed/model.gguf")}})["id"];
  daemon->wait_for_state(id, "completed");

  const HttpReply status = daemon->call("GET", "/api/models/download/status/" + id);
  ASSERT_EQ(status.status, 200) << status.body;
  const json s = status.json();
  EXPECT_EQ(s["jobId"], id);
  EXPECT_EQ(s["status"], "completed");
  EXPECT_EQ(s["totalFiles"], 1);
  EXPECT_EQ(s["fileName"], "model.gguf");
  EXPECT_EQ(s["overallProgress"], 100.0);
  EXPECT_EQ(s["bytesDownloaded"], body.size());
  EXPECT_EQ(s["totalBytes"], body.size());

  const HttpReply missing =
      daemon->call("GET", "/api/models/download/status/0b0e4b8e-6c1f-4d2a-9a51-1f6f7a2b3c4d");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json(), json({{"error", "Download job not found"}}));

  const HttpReply jobs = daemon->call("GET", "/api/models/download/jobs");
  ASSERT_EQ(jobs.status, 200);
  ASSERT_TRUE(jobs.json().is_array()) << jobs.body;
  ASSERT_EQ(jobs.json().size(), 1u);
  EXPECT_EQ(jobs.json()[0]["jobId"], id);
}

TEST_F(DaemonApiTest, HealthzAndMetricsCountJobsByState) {
  const std::string body = random_bytes(30'000, 13);
  server.add("/ok.bin", {.body = body});
  server.add("/gone.bin", {.body = "x", .fail_status = 404, .fail_times = -1});
  auto daemon = start_daemon();
  daemon->wait_for_state(daemon->add({{"source", server.url("/ok.bin")}})["id"], "completed");
  daemon->wait_for_state(daemon->add({{"source", server.url("/gone.bin")}})["id"], "failed");

  const HttpReply health = daemon->call("GET", "/healthz");
  ASSERT_EQ(health.status, 200);
  const json h = health.json();
  EXPECT_EQ(h["status"], "ok");
  EXPECT_TRUE(h["version"].is_string());
  EXPECT_EQ(h["jobs"]["completed"], 1);
  EXPECT_EQ(h["jobs"]["failed"], 1);
  EXPECT_EQ(h["jobs"]["running"], 0);

  const HttpReply metrics = daemon->call("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_TRUE(contains(header(metrics, "content-type"), "text/plain"))
      << header(metrics, "content-type");
  const std::string& text = metrics.body;
  EXPECT_TRUE(contains(text, "# TYPE haul_jobs gauge")) << text;
  EXPECT_TRUE(contains(text, "haul_jobs{state=\"completed\"} 1\n")) << text;
  EXPECT_TRUE(contains(text, "haul_jobs{state=\"failed\"} 1\n")) << text;
  EXPECT_TRUE(contains(text, "haul_jobs{state=\"queued\"} 0\n")) << text;
  EXPECT_TRUE(contains(text, "haul_downloaded_bytes_total " + std::to_string(body.size()) + "\n"))
      << text;
  // Every sample line is "name{labels} value" or "name value".
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_TRUE(std::regex_match(line, std::regex(R"([a-z_]+(\{[a-z_]+="[^"]*"\})? [0-9.e+-]+)")))
        << line;
  }
}

// ---- security -----------------------------------------------------------------------

TEST_F(DaemonApiTest, SecretsInSourceUrlsAreRedactedInResponsesAndTheLog) {
  const std::string body = random_bytes(20'000, 14);
  server.add("/private/model.bin", {.body = body});
  server.add("/private/gone.bin", {.body = "x", .fail_status = 404, .fail_times = -1});
  auto daemon = start_daemon();
  const std::string secret = "s3cr3t-Value-9981";
  const json added = daemon->add(
      {{"source", server.url("/private/model.bin") + "?token=" + secret + "&rev=main"}});
  const std::string id = added["id"];
  const json failed_added =
      daemon->add({{"source", server.url("/private/gone.bin") + "?token=" + secret}});
  daemon->wait_for_state(id, "completed");
  daemon->wait_for_state(failed_added["id"], "failed");

  // The real URL was used for the download.
  const auto requests = server.requests_for("/private/model.bin");
  ASSERT_FALSE(requests.empty());
  EXPECT_TRUE(contains(requests.front().query, "token=" + secret));
  EXPECT_EQ(read_file(models() / "model.bin"), body);

  EXPECT_TRUE(contains(added.dump(), "token=REDACTED")) << added.dump();
  const std::vector<std::string> paths = {
      "/api/v1/jobs", "/api/v1/jobs/" + id, "/api/v1/jobs/" + failed_added["id"].get<std::string>(),
      "/api/models/download/status/" + id, "/api/models/download/jobs"};
  for (const std::string& path : paths) {
    const HttpReply reply = daemon->call("GET", path);
    EXPECT_EQ(reply.status, 200) << path;
    EXPECT_FALSE(contains(reply.body, secret)) << path << ": " << reply.body;
  }
  EXPECT_TRUE(contains(daemon->job(id)["source"].get<std::string>(), "token=REDACTED"));
  EXPECT_TRUE(contains(daemon->job(id)["items"][0]["source"].get<std::string>(), "token=REDACTED"));
  const std::string log = daemon->log();
  EXPECT_TRUE(contains(log, id)) << log;
  EXPECT_FALSE(contains(log, secret)) << log;

  // A password in the URL's authority is hidden the same way.
  const std::string password = "hunter2-pw-0042";
  const std::string with_user = "http://alice:" + password +
                                "@127.0.0.1:" + std::to_string(server.port()) +
                                "/private/model.bin";
  const json user_added = daemon->add({{"source", with_user}, {"dest", "again"}});
  EXPECT_FALSE(contains(user_added.dump(), password)) << user_added.dump();
  daemon->wait_for_state(user_added["id"], "completed");
  EXPECT_FALSE(contains(daemon->call("GET", "/api/v1/jobs").body, password));
  EXPECT_FALSE(contains(daemon->log(), password)) << daemon->log();
}

TEST_F(DaemonApiTest, TokenFromTheEnvironmentGuardsEveryRoute) {
  server.add("/ok.bin", {.body = "payload"});
  const std::string token = "tok-5f2e9a1c";
  auto daemon = start_daemon({}, {"HAUL_TOKEN=" + token});
  const std::string job = json{{"source", server.url("/ok.bin")}}.dump();
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", "/healthz"},
      {"GET", "/metrics"},
      {"GET", "/api/v1/jobs"},
      {"POST", "/api/v1/jobs"},
      {"GET", "/api/v1/jobs/0b0e4b8e-6c1f-4d2a-9a51-1f6f7a2b3c4d"},
      {"DELETE", "/api/v1/jobs/0b0e4b8e-6c1f-4d2a-9a51-1f6f7a2b3c4d"},
      {"GET", "/api/models/download/jobs"},
      {"GET", "/no/such/route"},
  };
  for (const auto& [method, path] : routes) {
    const std::string body = method == "POST" ? job : "";
    for (const std::vector<std::string>& headers :
         {std::vector<std::string>{}, std::vector<std::string>{"Authorization: Bearer wrong"},
          std::vector<std::string>{"Authorization: " + token},
          std::vector<std::string>{"Authorization: Bearer " + token + "x"}}) {
      const HttpReply reply = daemon->call(method, path, body, headers);
      EXPECT_EQ(reply.status, 401)
          << method << " " << path << " with " << ::testing::PrintToString(headers);
      EXPECT_FALSE(contains(reply.body, token));
    }
    const HttpReply ok = daemon->call(method, path, body, {"Authorization: Bearer " + token});
    EXPECT_NE(ok.status, 401) << method << " " << path;
    EXPECT_NE(ok.status, 403) << method << " " << path;
  }
  EXPECT_EQ(daemon->call("GET", "/healthz", "", {"Authorization: Bearer " + token}).status, 200);
  EXPECT_FALSE(contains(daemon->log(), token));
}

TEST_F(DaemonApiTest, ForeignHostAndOriginHeadersAreRefused) {
  auto daemon = start_daemon();
  const std::string port = daemon->url().substr(daemon->url().rfind(':') + 1);

  for (const std::vector<std::string>& headers :
       {std::vector<std::string>{"Host: evil.example"},
        std::vector<std::string>{"Host: evil.example:" + port},
        std::vector<std::string>{"Origin: https://evil.example"},
        std::vector<std::string>{"Origin: http://evil.example:" + port},
        std::vector<std::string>{"Origin: http://127.0.0.1:1"}}) {
    for (const char* path : {"/api/v1/jobs", "/healthz"}) {
      const HttpReply reply = daemon->call("GET", path, "", headers);
      EXPECT_EQ(reply.status, 403) << path << " with " << headers[0] << ": " << reply.body;
      expect_error_shape(reply);
    }
  }
  // A POST from a foreign page is refused and adds nothing.
  server.add("/ok.bin", {.body = "x"});
  const HttpReply post =
      daemon->call("POST", "/api/v1/jobs", json{{"source", server.url("/ok.bin")}}.dump(),
                   {"Content-Type: application/json", "Origin: https://evil.example"});
  EXPECT_EQ(post.status, 403);
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs").json()["count"], 0);

  // The daemon's own names and origin are fine.
  EXPECT_EQ(daemon->call("GET", "/healthz", "", {"Host: localhost:" + port}).status, 200);
  EXPECT_EQ(daemon->call("GET", "/healthz", "", {"Origin: " + daemon->url()}).status, 200);
}

TEST_F(DaemonApiTest, ListeningBeyondLoopbackNeedsAToken) {
  std::vector<std::string> args = {
      "serve",         "--listen",       "0.0.0.0:0", "--data-dir", (dir / "data").string(),
      "--models-root", models().string()};
  HaulProcess refused(args, {"HAUL_TOKEN="});
  const auto outcome = refused.wait(std::chrono::seconds(10));
  EXPECT_EQ(outcome.exit_code, 2) << outcome.err;
  EXPECT_TRUE(contains(outcome.err, "token")) << outcome.err;
  EXPECT_EQ(std::count(outcome.err.begin(), outcome.err.end(), '\n'), 1) << outcome.err;

  // With HAUL_TOKEN it starts, and wants the token.
  const std::string token = "beyond-loopback-token";
  HaulProcess served(args, {"HAUL_TOKEN=" + token});
  std::smatch match;
  const std::regex serving("serving on http://[^:]+:([0-9]+)");
  std::string out;
  ASSERT_TRUE(eventually([&] {
    out = served.stdout_so_far();
    return std::regex_search(out, match, serving) || served.exited();
  })) << served.stderr_so_far();
  ASSERT_TRUE(std::regex_search(out, match, serving)) << out << served.stderr_so_far();
  const std::string url = "http://127.0.0.1:" + match[1].str();
  EXPECT_EQ(http_call("GET", url + "/healthz").status, 401);
  EXPECT_EQ(http_call("GET", url + "/healthz", "", {"Authorization: Bearer " + token}).status, 200);
  served.signal(SIGTERM);
  EXPECT_EQ(served.wait(std::chrono::seconds(20)).exit_code, 0);
}

// ---- scheduling -----------------------------------------------------------------------

TEST_F(DaemonApiTest, MaxActiveLimitsRunningJobsAndAFreedSlotIsReused) {
  for (int i = 0; i < 4; ++i)
    server.add("/m" + std::to_string(i) + ".bin", slow(random_bytes(400'000, 20 + i)));
  auto daemon = start_daemon({"--max-active", "2"});
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i)
    ids.push_back(daemon->add({{"source", server.url("/m" + std::to_string(i) + ".bin")}})["id"]);

  ASSERT_TRUE(eventually([&] { return count_in_state(*daemon, "running") == 2; }));
  // Every add ran a scheduling pass before it answered, so the two queued jobs
  // were already held back; a short window shows that no later pass starts them.
  const auto until = steady_clock::now() + milliseconds(600);
  while (steady_clock::now() < until) {
    EXPECT_LE(count_in_state(*daemon, "running"), 2u);
    std::this_thread::sleep_for(milliseconds(30));
  }
  EXPECT_EQ(daemon->job(ids[0])["state"], "running");
  EXPECT_EQ(daemon->job(ids[1])["state"], "running");
  EXPECT_EQ(daemon->job(ids[2])["state"], "queued");
  EXPECT_EQ(daemon->job(ids[3])["state"], "queued");
  EXPECT_TRUE(server.requests_for("/m2.bin").empty());

  // Cancelling one frees its slot for the next in line.
  EXPECT_EQ(daemon->act(ids[0], "cancel")["state"], "cancelled");
  daemon->wait_for_state(ids[2], "running", kWait);
  EXPECT_EQ(daemon->job(ids[3])["state"], "queued");
  EXPECT_EQ(count_in_state(*daemon, "running"), 2u);
}

TEST_F(DaemonApiTest, MaxPerHostLimitsJobsOnOneHost) {
  for (const char* name : {"/h1.bin", "/h2.bin", "/h3.bin"})
    server.add(name, slow(random_bytes(400'000, 30)));
  auto daemon = start_daemon({"--max-per-host", "1"});
  const std::string first = daemon->add({{"source", server.url("/h1.bin")}})["id"];
  const std::string second = daemon->add({{"source", server.url("/h2.bin")}})["id"];
  const std::string other_host =
      daemon->add({{"source", server.url("/h3.bin", "127.0.0.2")}})["id"];

  daemon->wait_for_state(first, "running", kWait);
  daemon->wait_for_state(other_host, "running", kWait);
  // other_host, added after second, started: the pass that started it held
  // second back. A short window shows that no later pass starts it either.
  std::this_thread::sleep_for(milliseconds(400));
  EXPECT_EQ(daemon->job(second)["state"], "queued");
  EXPECT_TRUE(server.requests_for("/h2.bin").empty());

  EXPECT_EQ(daemon->act(first, "pause")["state"], "paused");
  daemon->wait_for_state(second, "running", kWait);
}

TEST_F(DaemonApiTest, HigherPriorityStartsFirstThenOldestFirst) {
  server.add("/blocker.bin", slow(random_bytes(400'000, 40)));
  for (const char* name : {"/low1.bin", "/low2.bin", "/mid.bin", "/high.bin"})
    server.add(name, {.body = random_bytes(4'000, 41)});
  auto daemon = start_daemon({"--max-active", "1"});
  const std::string blocker = add_running(*daemon, {{"source", server.url("/blocker.bin")}})["id"];
  std::vector<std::string> ids;
  ids.push_back(daemon->add({{"source", server.url("/low1.bin")}})["id"]);
  ids.push_back(daemon->add({{"source", server.url("/low2.bin")}, {"priority", 0}})["id"]);
  ids.push_back(daemon->add({{"source", server.url("/mid.bin")}, {"priority", 2}})["id"]);
  ids.push_back(daemon->add({{"source", server.url("/high.bin")}, {"priority", 5}})["id"]);
  // A negative priority goes after the default.
  server.add("/last.bin", {.body = random_bytes(4'000, 42)});
  ids.push_back(daemon->add({{"source", server.url("/last.bin")}, {"priority", -1}})["id"]);

  EXPECT_EQ(daemon->act(blocker, "cancel")["state"], "cancelled");
  for (const std::string& id : ids) daemon->wait_for_state(id, "completed");

  std::vector<std::string> order;
  for (const RequestRecord& record : server.requests()) {
    if (record.path == "/blocker.bin") continue;
    if (std::find(order.begin(), order.end(), record.path) == order.end())
      order.push_back(record.path);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"/high.bin", "/mid.bin", "/low1.bin", "/low2.bin",
                                             "/last.bin"}));
}

TEST_F(DaemonApiTest, PauseKeepsThePartialFileAndResumeContinuesFromIt) {
  const std::string body = random_bytes(600'000, 50);
  server.add("/resume/model.bin", slow(body, 128 * 1024));
  auto daemon = start_daemon();
  const json running = add_running(*daemon, {{"source", server.url("/resume/model.bin")}});
  const std::string id = running["id"];
  const std::string path = running["items"][0]["path"];
  ASSERT_TRUE(eventually([&] { return daemon->job(id).value("bytes_done", 0) >= 100'000; }));

  const json paused = daemon->act(id, "pause");
  EXPECT_EQ(paused["state"], "paused");
  for (const json& item : paused["items"]) EXPECT_EQ(item["state"], "paused") << paused.dump();
  const std::uint64_t sent_before = server.bytes_sent("/resume/model.bin");
  // The bytes the paused job reports as done are the ones kept in the .part.
  const std::uint64_t kept = paused.value("bytes_done", std::uint64_t{0});
  EXPECT_GE(kept, 100'000u) << paused.dump();
  ASSERT_TRUE(fs::exists(path + ".part")) << path;
  EXPECT_GT(fs::file_size(path + ".part"), 0u);
  EXPECT_FALSE(fs::exists(path));

  // Paused means nothing moves: the server sees the transfer end at once
  // (it would go on for seconds otherwise), having sent little more.
  EXPECT_TRUE(all_responses_ended("/resume/model.bin"))
      << "the paused transfer still runs on the server";
  EXPECT_EQ(daemon->job(id)["state"], "paused");
  EXPECT_LE(server.bytes_sent("/resume/model.bin"), sent_before + 64 * 1024);
  const std::uint64_t paused_bytes = server.bytes_sent("/resume/model.bin");
  const std::size_t requests_before = server.requests_for("/resume/model.bin").size();

  // The same file at full speed, so the rest comes quickly.
  server.add("/resume/model.bin", {.body = body});
  const HttpReply resumed = daemon->call("POST", "/api/v1/jobs/" + id + "/resume");
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_TRUE(resumed.json()["state"] == "queued" || resumed.json()["state"] == "running");
  const json done = daemon->wait_for_state(id, "completed");
  EXPECT_EQ(read_file(path), body);
  EXPECT_FALSE(fs::exists(path + ".part"));
  EXPECT_EQ(done["bytes_done"], body.size());

  const std::uint64_t after_resume = server.bytes_sent("/resume/model.bin") - paused_bytes;
  EXPECT_LT(after_resume, body.size()) << "the resumed job fetched the whole file again";
  EXPECT_LE(after_resume, body.size() - kept + 64 * 1024) << "kept " << kept;
  const auto requests = server.requests_for("/resume/model.bin");
  ASSERT_GT(requests.size(), requests_before);
  bool ranged = false;
  for (std::size_t i = requests_before; i < requests.size(); ++i) {
    auto range = requests[i].headers.find("range");
    if (range != requests[i].headers.end() && range->second != "bytes=0-") ranged = true;
  }
  EXPECT_TRUE(ranged) << "no ranged request after resume";
}

TEST_F(DaemonApiTest, CancelStopsARunningTransferWithinOneSecondAndDeletesThePart) {
  server.add("/cancel/model.bin", slow(random_bytes(1'000'000, 60), 64 * 1024));
  auto daemon = start_daemon();
  const json running = add_running(*daemon, {{"source", server.url("/cancel/model.bin")}});
  const std::string id = running["id"];
  const std::string path = running["items"][0]["path"];
  ASSERT_TRUE(eventually([&] { return fs::exists(path + ".part"); })) << path;

  // The API answers at once (202, the stop under way); the outcome follows.
  const auto started = steady_clock::now();
  const HttpReply answer = daemon->call("POST", "/api/v1/jobs/" + id + "/cancel");
  EXPECT_LT(steady_clock::now() - started, std::chrono::seconds(1));
  ASSERT_EQ(answer.status, 202) << answer.body;
  EXPECT_EQ(answer.json()["pending_action"], "cancel");
  const json cancelled = daemon->wait_for_state(id, "cancelled", std::chrono::seconds(5));
  EXPECT_TRUE(cancelled["finished_at"].is_string());
  EXPECT_TRUE(cancelled["pending_action"].is_null());
  for (const json& item : cancelled["items"]) EXPECT_EQ(item["state"], "cancelled");
  EXPECT_FALSE(fs::exists(path + ".part"));
  EXPECT_FALSE(fs::exists(path + ".part.state"));
  EXPECT_FALSE(fs::exists(path));

  // The transfer is really over: the server saw it end long before the whole
  // file (15 s at this rate) went out.
  EXPECT_TRUE(all_responses_ended("/cancel/model.bin"))
      << "the cancelled transfer still runs on the server";
  EXPECT_LT(server.bytes_sent("/cancel/model.bin"), 1'000'000u);
  EXPECT_EQ(daemon->job(id)["state"], "cancelled");
}

TEST_F(DaemonApiTest, CancelAndPauseOfAQueuedJob) {
  server.add("/blocker.bin", slow(random_bytes(400'000, 61)));
  server.add("/waiting.bin", {.body = random_bytes(8'000, 62)});
  server.add("/waiting2.bin", {.body = random_bytes(8'000, 63)});
  auto daemon = start_daemon({"--max-active", "1"});
  const std::string blocker = add_running(*daemon, {{"source", server.url("/blocker.bin")}})["id"];
  const std::string waiting = daemon->add({{"source", server.url("/waiting.bin")}})["id"];
  const std::string paused = daemon->add({{"source", server.url("/waiting2.bin")}})["id"];

  const HttpReply cancel = daemon->call("POST", "/api/v1/jobs/" + waiting + "/cancel");
  EXPECT_EQ(cancel.status, 200);
  EXPECT_EQ(cancel.json()["state"], "cancelled");
  const HttpReply pause = daemon->call("POST", "/api/v1/jobs/" + paused + "/pause");
  EXPECT_EQ(pause.status, 200);
  EXPECT_EQ(pause.json()["state"], "paused");

  EXPECT_EQ(daemon->act(blocker, "cancel")["state"], "cancelled");
  // The freed slot would have taken them by now if they were runnable.
  ASSERT_TRUE(eventually([&] { return count_in_state(*daemon, "running") == 0; }));
  EXPECT_EQ(daemon->job(waiting)["state"], "cancelled");
  EXPECT_EQ(daemon->job(paused)["state"], "paused");
  EXPECT_TRUE(server.requests_for("/waiting.bin").empty());
  EXPECT_TRUE(server.requests_for("/waiting2.bin").empty());

  // Resume puts it back in line; a cancelled job comes back with retry.
  EXPECT_EQ(daemon->call("POST", "/api/v1/jobs/" + paused + "/resume").status, 200);
  daemon->wait_for_state(paused, "completed");
  EXPECT_EQ(daemon->call("POST", "/api/v1/jobs/" + waiting + "/retry").status, 200);
  daemon->wait_for_state(waiting, "completed");
}

// ---- failures and retries --------------------------------------------------------------

TEST_F(DaemonApiTest, PermanentFailureEndsFailedAndRetryRunsItAgain) {
  const std::string body = random_bytes(25'000, 70);
  server.add("/later.bin", {.body = body, .fail_status = 404, .fail_times = 1});
  auto daemon = start_daemon();
  const std::string id = daemon->add({{"source", server.url("/later.bin")}})["id"];
  const json failed = daemon->wait_for_state(id, "failed");
  ASSERT_TRUE(failed["error"].is_object()) << failed.dump();
  EXPECT_EQ(failed["error"]["code"], "not_found");
  EXPECT_TRUE(contains(failed["error"]["message"].get<std::string>(), "404")) << failed.dump();
  EXPECT_EQ(failed["attempts"], 1);  // a 404 is not worth another attempt
  EXPECT_TRUE(failed["next_attempt_at"].is_null());
  EXPECT_TRUE(failed["finished_at"].is_string());
  EXPECT_EQ(server.requests_for("/later.bin").size(), 1u);
  EXPECT_TRUE(contains(daemon->log(), id));

  const HttpReply retried = daemon->call("POST", "/api/v1/jobs/" + id + "/retry");
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_TRUE(retried.json()["state"] == "queued" || retried.json()["state"] == "running");
  EXPECT_TRUE(retried.json()["error"].is_null()) << retried.body;
  const json done = daemon->wait_for_state(id, "completed");
  EXPECT_TRUE(done["error"].is_null());
  EXPECT_EQ(read_file(models() / "later.bin"), body);
}

// Issue 16: an error says which file, stage and attempt, in the job JSON,
// the download channel, a restart later, and the JSON log.
TEST_F(DaemonApiTest, AnErrorSaysWhereItHappenedInTheJobEventsAndAJsonLog) {
  const std::string body = random_bytes(25'000, 72);
  server.add("/gone.bin", {.body = body, .fail_status = 404, .fail_times = -1});
  server.add("/bad.bin", {.body = body});
  auto daemon = start_daemon({"--log-format", "json"});
  const std::string gone = daemon->add({{"source", server.url("/gone.bin")}})["id"];
  const std::string bad = daemon->add({{"source", server.url("/bad.bin")},
                                       {"sha256", std::string(64, 'a')},
                                       {"max_attempts", 1}})["id"];
  const json failed = daemon->wait_for_state(gone, "failed");
  EXPECT_EQ(failed["error"]["file"], "gone.bin") << failed.dump();
  EXPECT_EQ(failed["error"]["stage"], "connect") << failed.dump();
  EXPECT_EQ(failed["error"]["attempt"], 1);
  EXPECT_EQ(failed["items"][0]["error"]["stage"], "connect") << failed.dump();
  const json mismatch = daemon->wait_for_state(bad, "failed");
  EXPECT_EQ(mismatch["error"]["code"], "data_loss") << mismatch.dump();
  EXPECT_EQ(mismatch["error"]["stage"], "verify") << mismatch.dump();
  const json status = daemon->call("GET", "/api/models/download/status/" + gone).json();
  EXPECT_EQ(status["errorStage"], "connect") << status.dump();
  EXPECT_EQ(status["errorFile"], "gone.bin");

  // One JSON object per line, the failure's fields lifted out.
  bool found = false;
  for (const std::string& line : lines_of(daemon->log())) {
    const json entry = json::parse(line, nullptr, false);
    ASSERT_TRUE(entry.is_object()) << line;
    if (entry.value("job", "") == gone && entry.value("level", "") == "error") {
      found = true;
      EXPECT_EQ(entry.value("stage", ""), "connect") << line;
      EXPECT_EQ(entry.value("file", ""), "gone.bin") << line;
      EXPECT_EQ(entry.value("code", ""), "not_found") << line;
      EXPECT_EQ(entry.value("attempt", 0), 1) << line;
    }
  }
  EXPECT_TRUE(found) << daemon->log();

  daemon->stop();
  daemon = start_daemon();
  EXPECT_EQ(daemon->job(gone)["error"]["stage"], "connect") << "kept across a restart";
}

TEST_F(DaemonApiTest, TransientFailuresGoThroughRetryingAndThenComplete) {
  const std::string body = random_bytes(25'000, 71);
  // With --max-retry-after 0 each Retry-After ends the attempt at once; the job
  // then waits in state retrying for the server's 1 s, not its own 20/320 ms.
  server.add("/flaky.bin", {.body = body, .fail_status = 503, .fail_times = 2, .retry_after = "1"});
  auto daemon = start_daemon({"--max-retry-after", "0"});
  const auto added_at = steady_clock::now();
  const std::string id = daemon->add({{"source", server.url("/flaky.bin")}})["id"];

  bool saw_retrying = false;
  bool retrying_had_next_attempt = false;
  json last;
  const auto deadline = steady_clock::now() + kWait;
  while (steady_clock::now() < deadline) {
    last = daemon->job(id);
    if (last["state"] == "retrying") {
      saw_retrying = true;
      retrying_had_next_attempt = retrying_had_next_attempt || last["next_attempt_at"].is_string();
    }
    if (last["state"] == "completed" || last["state"] == "failed") break;
    std::this_thread::sleep_for(milliseconds(3));
  }
  EXPECT_EQ(last["state"], "completed") << last.dump();
  EXPECT_TRUE(saw_retrying) << "the job never showed state 'retrying': " << last.dump();
  EXPECT_TRUE(retrying_had_next_attempt) << "no next_attempt_at while retrying";
  EXPECT_EQ(last["attempts"].get<int>(), 3) << last.dump();
  EXPECT_GE(steady_clock::now() - added_at, milliseconds(1900)) << "Retry-After was not honoured";
  EXPECT_TRUE(last["error"].is_null()) << last.dump();
  EXPECT_EQ(read_file(models() / "flaky.bin"), body);
}

TEST_F(DaemonApiTest, ExhaustedAttemptsEndFailed) {
  // Retry-After beyond what a transfer waits out makes each attempt fail at once.
  server.add("/down.bin",
             {.body = "x", .fail_status = 503, .fail_times = -1, .retry_after = "3600"});
  auto daemon = start_daemon();
  const std::string id =
      daemon->add({{"source", server.url("/down.bin")}, {"max_attempts", 1}})["id"];
  const json failed = daemon->wait_for_state(id, "failed", std::chrono::seconds(30));
  EXPECT_EQ(failed["attempts"], 1);
  EXPECT_TRUE(failed["next_attempt_at"].is_null()) << failed.dump();
  ASSERT_TRUE(failed["error"].is_object()) << failed.dump();
  EXPECT_EQ(failed["error"]["code"], "unavailable") << failed.dump();
  EXPECT_TRUE(contains(failed["error"]["message"].get<std::string>(), "503")) << failed.dump();
}

TEST_F(DaemonApiTest, Sha256MismatchFailsWithBothHashesInTheMessage) {
  const std::string body = random_bytes(40'000, 72);
  server.add("/wrong.bin", {.body = body});
  auto daemon = start_daemon();
  const std::string expected = sha256_of("something else entirely");
  const std::string id =
      daemon->add({{"source", server.url("/wrong.bin")}, {"sha256", expected}})["id"];
  const json failed = daemon->wait_for_state(id, "failed");
  ASSERT_TRUE(failed["error"].is_object()) << failed.dump();
  const std::string message = failed["error"]["message"];
  EXPECT_TRUE(contains(message, expected)) << message;
  EXPECT_TRUE(contains(message, sha256_of(body))) << message;
  EXPECT_FALSE(fs::exists(models() / "wrong.bin"));

  const HttpReply both = daemon->call(
      "POST", "/api/v1/jobs",
      json{{"sources", {server.url("/wrong.bin"), server.url("/x.bin")}}, {"sha256", expected}}
          .dump(),
      kJsonHeader);
  EXPECT_EQ(both.status / 100, 4) << "sha256 with several sources: " << both.body;
}

// ---- multi-file jobs ---------------------------------------------------------------------

TEST_F(DaemonApiTest, MultiFileJobCompletesEveryFileWithByteWeightedProgress) {
  const std::string small = random_bytes(20'000, 80);
  const std::string medium = random_bytes(120'000, 81);
  const std::string large = random_bytes(200'000, 82);
  server.add("/repo/small.json", {.body = small});
  server.add("/repo/medium.bin", slow(medium, 100 * 1024));
  server.add("/repo/large.bin", slow(large, 160 * 1024));
  auto daemon = start_daemon();
  const json added = daemon->add({{"sources",
                                   {server.url("/repo/small.json"), server.url("/repo/medium.bin"),
                                    server.url("/repo/large.bin")}},
                                  {"dest", "repo"},
                                  {"name", "three files"}});
  const std::string id = added["id"];
  ASSERT_EQ(added["items"].size(), 3u);

  // While running, the job's progress is its bytes over all bytes, not the
  // share of files done.
  bool checked_mid_run = false;
  json job;
  eventually(
      [&] {
        job = daemon->job(id);
        if (job["state"] != "running" || !job["bytes_total"].is_number()) return false;
        const double total = job["bytes_total"].get<double>();
        const double done = job["bytes_done"].get<double>();
        if (job["items"][0]["state"] != "completed" || done >= total) return false;
        EXPECT_EQ(job["bytes_total"], small.size() + medium.size() + large.size());
        EXPECT_NEAR(job["progress"].get<double>(), 100.0 * done / total, 0.01) << job.dump();
        checked_mid_run = true;
        return true;
      },
      kWait, milliseconds(5));
  EXPECT_TRUE(checked_mid_run) << job.dump();

  const json done = daemon->wait_for_state(id, "completed");
  EXPECT_EQ(done["progress"], 100.0);
  EXPECT_EQ(done["bytes_done"], small.size() + medium.size() + large.size());
  EXPECT_EQ(read_file(models() / "repo" / "small.json"), small);
  EXPECT_EQ(read_file(models() / "repo" / "medium.bin"), medium);
  EXPECT_EQ(read_file(models() / "repo" / "large.bin"), large);
  for (const json& item : done["items"]) EXPECT_EQ(item["state"], "completed") << item.dump();

  const json seed = daemon->call("GET", "/api/models/download/status/" + id).json();
  EXPECT_EQ(seed["totalFiles"], 3);
  EXPECT_EQ(seed["files"].size(), 3u);
}

}  // namespace
}  // namespace haul::testing
