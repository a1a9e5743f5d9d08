// Models through the daemon and the CLI (issue 12): manifests of each format
// registered and synced in seed 002's modes against the test server, the S3
// fake and the HF fake; presence (present, missing, partial, corrupt,
// downloading) with a ComfyUI install's folders; duplicates not queued
// twice; cancel by group and model; symlinks made and repaired; the
// progress file in seed 002's shape at every update; model events.
#include <atomic>
#include <set>
#include <thread>

#include "daemon_fixture.hpp"
#include "support/fake_common.hpp"
#include "support/fake_hf.hpp"
#include "support/fake_s3.hpp"
#include "ws_client.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class DaemonModelsTest : public DaemonTest {
 protected:
  DaemonModelsTest() : hub(hub_server), s3(s3_server) {
    a = random_bytes(300000, 1);
    b = random_bytes(200000, 2);
    slow = random_bytes(4u << 20, 3);
    server.add("/m/a.safetensors", Resource{.body = a});
    server.add("/m/b.safetensors", Resource{.body = b});
    server.add("/m/slow.safetensors", Resource{.body = slow, .rate = 256u << 10});
    fs::create_directories(dir / "manifests");
  }

  std::vector<std::string> env() const {
    return {"HF_ENDPOINT=" + hub.endpoint(),
            "HF_HOME=" + (dir / "hf-home").string(),
            "HF_TOKEN=hf_testtoken",
            "AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "AWS_REGION=us-east-1",
            "AWS_ENDPOINT_URL=" + s3.endpoint()};
  }

  // haul's manifest of the test server's files.
  json haul_manifest() const {
    return {{"haul_manifest", 1},
            {"name", "studio"},
            {"models",
             {{{"name", "a"},
               {"group", "checkpoints"},
               {"source", server.url("/m/a.safetensors")},
               {"size", a.size()},
               {"sha256", sha256_of(a)},
               {"symlinks", {"Stable-diffusion/a.safetensors"}}},
              {{"name", "duo"},
               {"group", "diffusion_models"},
               {"files",
                {{{"source", server.url("/m/b.safetensors")}},
                 {{"source", server.url("/m/a.safetensors")},
                  {"group", "vae"},
                  {"path", "a-vae.safetensors"}}}}},
              {{"name", "slow"},
               {"group", "loras"},
               {"source", server.url("/m/slow.safetensors")},
               {"size", slow.size()}}}}};
  }

  // POST /api/v1/manifests of haul_manifest() as "studio"; the status.
  int register_studio(const Daemon& daemon) const {
    return daemon
        .call("POST", "/api/v1/manifests",
              json{{"name", "studio"}, {"content", haul_manifest()}}.dump())
        .status;
  }

  json sync(const Daemon& daemon, json body, int status = 0) const {
    const HttpReply reply = daemon.call("POST", "/api/v1/models/sync", body.dump());
    if (status != 0) EXPECT_EQ(reply.status, status) << reply.body;
    return reply.json();
  }

  json model(const Daemon& daemon, const std::string& id, const std::string& query = "") const {
    return daemon.call("GET", "/api/v1/models/" + id + query).json();
  }

  void wait_all(const Daemon& daemon, const json& reply, const std::string& state = "completed") {
    for (const json& job : reply.at("jobs")) {
      const json done = daemon.wait_for_state(job.at("id"), state);
      EXPECT_EQ(done.at("state"), state) << done.at("error").dump();
    }
  }

  // Apart from `server`: URLs on the hub's host read as Hugging Face URLs.
  TestHttpServer hub_server;
  TestHttpServer s3_server;  // FakeS3 takes every path of its server
  FakeHuggingFace hub;
  FakeS3 s3;
  std::string a, b, slow;
};

TEST_F(DaemonModelsTest, MissingFetchesWhatIsMissingOnceAndNoMore) {
  auto daemon = start_daemon({}, env());
  const HttpReply registered =
      daemon->call("POST", "/api/v1/manifests",
                   json{{"name", "studio.json"}, {"content", haul_manifest()}}.dump());
  ASSERT_EQ(registered.status, 201) << registered.body;
  EXPECT_EQ(registered.json().at("id"), "studio");
  EXPECT_EQ(registered.json().at("format"), "haul");
  EXPECT_EQ(registered.json().at("models"), 3);
  // a is already there: present, not fetched.
  write_file(models() / "checkpoints" / "a.safetensors", a);
  EXPECT_EQ(model(*daemon, "checkpoints:a").at("state"), "present");
  EXPECT_EQ(model(*daemon, "diffusion_models:duo").at("state"), "missing");

  const json first =
      sync(*daemon, {{"manifest", "studio"}, {"mode", "missing"}, {"models", nullptr}}, 422);
  EXPECT_TRUE(contains(first.dump(), "'models' goes with list or single")) << first.dump();
  const json queued = sync(*daemon, {{"manifest", "studio"}, {"mode", "missing"}}, 201);
  ASSERT_EQ(queued.at("jobs").size(), 2u) << queued.dump();
  EXPECT_EQ(queued.at("skipped"),
            json::array({{{"model", "checkpoints:a"}, {"reason", "present"}}}));
  const json duo = queued.at("jobs").at(0);
  EXPECT_EQ(duo.at("name"), "duo");
  EXPECT_EQ(duo.at("items").size(), 2u) << "one job, one item per file";
  wait_all(*daemon, queued);
  EXPECT_TRUE(read_file(models() / "diffusion_models" / "b.safetensors") == b);
  EXPECT_TRUE(read_file(models() / "vae" / "a-vae.safetensors") == a) << "a file's own folder";
  EXPECT_TRUE(read_file(models() / "loras" / "slow.safetensors") == slow);

  const json again = sync(*daemon, {{"manifest", "studio"}, {"mode", "missing"}}, 200);
  EXPECT_TRUE(again.at("jobs").empty()) << again.dump();
  EXPECT_EQ(again.at("skipped").size(), 3u);
  const json all = daemon->call("GET", "/api/v1/models?manifest=studio&state=present").json();
  EXPECT_EQ(all.at("count"), 3) << all.dump();
}

TEST_F(DaemonModelsTest, ListAndSingleSelectAndAllFetchesNothingPresentAgain) {
  auto daemon = start_daemon({}, env());
  const fs::path file = dir / "manifests" / "studio.json";
  write_file(file, haul_manifest().dump());
  const json listed = sync(
      *daemon, {{"manifest", file.string()}, {"mode", "list"}, {"models", {"a", "nope"}}}, 422);
  EXPECT_EQ(listed.at("error").at("message"), "models[1]: no model named 'nope' in the manifest");
  const json one =
      sync(*daemon, {{"manifest", "studio"}, {"mode", "list"}, {"models", {"checkpoints:a"}}}, 201);
  ASSERT_EQ(one.at("jobs").size(), 1u);
  wait_all(*daemon, one);
  const json single =
      sync(*daemon, {{"manifest", "studio"}, {"mode", "single"}, {"models", "duo"}});
  ASSERT_EQ(single.at("jobs").size(), 1u);
  wait_all(*daemon, single);
  const std::size_t served = server.requests().size();
  const json all = sync(*daemon, {{"manifest", "studio"}, {"mode", "all"}});
  ASSERT_EQ(all.at("jobs").size(), 3u) << "all: every model";
  wait_all(*daemon, all);
  std::size_t fetched_again = 0;
  const auto requests = server.requests();
  for (std::size_t i = served; i < requests.size(); ++i) {
    if (requests[i].path == "/m/a.safetensors" || requests[i].path == "/m/b.safetensors")
      ++fetched_again;
  }
  EXPECT_EQ(fetched_again, 0u) << "present files are skipped without a transfer";
}

TEST_F(DaemonModelsTest, ASecondSyncWhileOneRunsQueuesNothingAndCancelByGroupAndModelStopsIt) {
  auto daemon = start_daemon({"-x", "1"}, env());  // one connection: 16 s of download
  const fs::path file = dir / "manifests" / "studio.json";
  write_file(file, haul_manifest().dump());
  const auto first = run_haul({"models", "sync", "--manifest", file.string(), "--mode", "list",
                               "--models", R"(["slow"])", "--server", daemon->url()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string id = first.out.substr(0, 36);
  ASSERT_TRUE(eventually([&] {
    const json m = model(*daemon, "loras:slow");
    return m.at("state") == "downloading" && m.at("files").at(0).at("bytes_done") > 0;
  })) << model(*daemon, "loras:slow").dump();
  const json twice =
      sync(*daemon, {{"manifest", "studio"}, {"mode", "list"}, {"models", {"slow"}}});
  EXPECT_TRUE(twice.at("jobs").empty()) << twice.dump();
  EXPECT_EQ(twice.at("skipped").at(0).at("reason"), "already downloading");

  const auto cancelled =
      run_haul({"cancel", "--group", "loras", "--model", "slow", "--server", daemon->url()});
  ASSERT_EQ(cancelled.exit_code, 0) << cancelled.err;
  EXPECT_EQ(daemon->wait_for_state(id, "cancelled").at("state"), "cancelled");
  EXPECT_FALSE(fs::exists(models() / "loras" / "slow.safetensors"));
  const auto none =
      run_haul({"cancel", "--group", "loras", "--model", "slow", "--server", daemon->url()});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_TRUE(contains(none.err, "no unfinished job is model slow of group loras")) << none.err;
}

TEST_F(DaemonModelsTest, VerificationFindsACorruptFileAndMissingFetchesItAgain) {
  auto daemon = start_daemon({}, env());
  const json manifest = haul_manifest();
  ASSERT_EQ(daemon
                ->call("POST", "/api/v1/manifests",
                       json{{"name", "studio"}, {"content", manifest}}.dump())
                .status,
            201);
  const json fetched = sync(*daemon, {{"manifest", "studio"}, {"mode", "all"}});
  wait_all(*daemon, fetched);
  std::string flipped = a;
  flipped[1000] ^= 0x5a;  // same size: only the hash tells
  write_file(models() / "checkpoints" / "a.safetensors", flipped);
  EXPECT_EQ(model(*daemon, "checkpoints:a").at("state"), "present") << "size alone";
  const json verified = model(*daemon, "checkpoints:a", "?verify=true");
  EXPECT_EQ(verified.at("state"), "corrupt") << verified.dump();
  EXPECT_TRUE(contains(verified.at("files").at(0).value("reason", ""), "sha256"))
      << verified.dump();
  const json again = sync(*daemon, {{"manifest", "studio"}, {"mode", "missing"}, {"verify", true}});
  ASSERT_EQ(again.at("jobs").size(), 1u) << again.dump();
  EXPECT_EQ(again.at("jobs").at(0).at("name"), "a");
  wait_all(*daemon, again);
  EXPECT_TRUE(read_file(models() / "checkpoints" / "a.safetensors") == a);
  EXPECT_EQ(model(*daemon, "checkpoints:a", "?verify=true").at("state"), "present");
}

TEST_F(DaemonModelsTest, APartialFileCountsAsMissingAndIsResumed) {
  auto daemon = start_daemon({}, env());
  ASSERT_EQ(register_studio(*daemon), 201);
  write_file(models() / "loras" / "slow.safetensors.part", slow.substr(0, 1000));
  const json partial = model(*daemon, "loras:slow");
  EXPECT_EQ(partial.at("state"), "partial") << partial.dump();
  const json missing = daemon->call("GET", "/api/v1/models?state=partial").json();
  EXPECT_EQ(missing.at("count"), 1);
}

TEST_F(DaemonModelsTest, SymlinksAreCreatedAfterTheFileAndRepaired) {
  auto daemon = start_daemon({}, env());
  const fs::path file = dir / "manifests" / "studio.json";
  write_file(file, haul_manifest().dump());
  const json fetched =
      sync(*daemon, {{"manifest", file.string()}, {"mode", "list"}, {"models", {"a"}}});
  wait_all(*daemon, fetched);
  const fs::path link = models() / "Stable-diffusion" / "a.safetensors";
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link), fs::path("../checkpoints/a.safetensors"));
  fs::remove(link);
  fs::create_symlink("/nowhere", link);  // a broken link is repaired
  const json all = sync(*daemon, {{"manifest", "studio"}, {"mode", "list"}, {"models", {"a"}}});
  wait_all(*daemon, all);
  EXPECT_EQ(fs::read_symlink(link), fs::path("../checkpoints/a.safetensors"));
  EXPECT_TRUE(read_file(link) == a);
}

TEST_F(DaemonModelsTest, TheProgressFileHasTheSeedsShapeAtEveryUpdate) {
  auto daemon = start_daemon({}, env());
  const fs::path output = dir / "progress.json";
  const fs::path file = dir / "manifests" / "studio.json";
  write_file(file, haul_manifest().dump());
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::string bad;
  std::set<std::string> statuses;
  std::thread reader([&] {
    while (!done) {
      if (!fs::exists(output)) continue;
      const json doc = json::parse(read_file(output), nullptr, false);
      ++reads;
      if (!doc.is_object()) {
        bad = "not a JSON object: " + read_file(output);
        continue;
      }
      for (const auto& [group, models] : doc.items()) {
        for (const auto& [name, entry] : models.items()) {
          const bool shaped = entry.size() == 5 && entry.at("totalSize").is_number_unsigned() &&
                              entry.at("downloaded").is_number_unsigned() &&
                              entry.at("localPath").is_string() &&
                              entry.at("lastUpdated").is_string() && entry.at("status").is_string();
          if (!shaped) bad = "not the seed's entry: " + entry.dump();
          if (name == "slow") statuses.insert(entry.at("status").get<std::string>());
        }
      }
    }
  });
  const auto synced = run_haul({"models", "sync", "--manifest", file.string(), "--mode", "missing",
                                "--output", output.string(), "--server", daemon->url()});
  ASSERT_EQ(synced.exit_code, 0) << synced.err;
  EXPECT_TRUE(contains(synced.out, "progress: " + output.string())) << synced.out;
  const std::string slow_id = lines_of(synced.out).at(2).substr(0, 36);
  EXPECT_EQ(daemon->wait_for_state(slow_id, "completed").at("state"), "completed");
  ASSERT_TRUE(eventually([&] {
    const json doc = json::parse(read_file(output), nullptr, false);
    return doc.is_object() && doc["loras"]["slow"]["status"] == "completed";
  }));
  done = true;
  reader.join();
  EXPECT_TRUE(bad.empty()) << bad;
  EXPECT_GT(reads.load(), 10);
  EXPECT_TRUE(statuses.count("progress")) << "updated while it downloads";
  const json doc = json::parse(read_file(output));
  EXPECT_EQ(doc["loras"]["slow"]["totalSize"], slow.size());
  EXPECT_EQ(doc["loras"]["slow"]["downloaded"], slow.size());
  EXPECT_EQ(doc["loras"]["slow"]["localPath"], (models() / "loras" / "slow.safetensors").string());

  // haul models progress: by group and model, by path, all.
  const auto by_model = run_haul({"models", "progress", "--group", "loras", "--model", "slow",
                                  "--json", "--server", daemon->url()});
  ASSERT_EQ(by_model.exit_code, 0) << by_model.err;
  EXPECT_EQ(json::parse(by_model.out).at("loras").at("slow").at("status"), "completed");
  const auto by_path =
      run_haul({"models", "progress", "--path", (models() / "vae" / "a-vae.safetensors").string(),
                "--json", "--server", daemon->url()});
  EXPECT_EQ(json::parse(by_path.out).at("diffusion_models").at("duo").at("status"), "completed");
  const fs::path all_file = dir / "all.json";
  const auto all = run_haul(
      {"models", "progress", "--all", "--output", all_file.string(), "--server", daemon->url()});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(json::parse(read_file(all_file)).size(), 3u);
  const auto wrong = run_haul({"models", "progress", "--model", "x", "--server", daemon->url()});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
}

TEST_F(DaemonModelsTest, AComfyUiWorkflowsModelsFoundInTheInstallAreNotFetched) {
  const fs::path comfy = dir / "ComfyUI";
  write_file(comfy / "models" / "loras" / "have.safetensors", b);
  const json workflow = {
      {"last_node_id", 3},
      {"nodes",
       {{{"id", 1},
         {"type", "CheckpointLoaderSimple"},
         {"widgets_values", {"need.safetensors"}},
         {"properties",
          {{"models",
            {{{"name", "need.safetensors"},
              {"url", server.url("/m/a.safetensors")},
              {"directory", "checkpoints"}}}}}}},
        {{"id", 2},
         {"type", "LoraLoader"},
         {"widgets_values", {"have.safetensors", 1.0, 1.0}},
         {"properties",
          {{"models",
            {{{"name", "have.safetensors"},
              {"url", server.url("/m/b.safetensors")},
              {"directory", "loras"}}}}}}},
        {{"id", 3}, {"type", "VAELoader"}, {"widgets_values", {"unknown_vae.safetensors"}}}}}};
  write_file(dir / "manifests" / "flow.json", workflow.dump());
  auto daemon = start_daemon({"--comfyui", comfy.string()}, env());
  const auto status =
      run_haul({"models", "status", "--manifest", (dir / "manifests" / "flow.json").string(),
                "--format", "simple", "--server", daemon->url()});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(contains(status.out, "missing checkpoints need.safetensors")) << status.out;
  EXPECT_TRUE(contains(status.out, "present loras have.safetensors")) << status.out;
  EXPECT_TRUE(contains(status.out, "missing vae unknown_vae.safetensors")) << status.out;
  const json registered = daemon->call("GET", "/api/v1/manifests/flow").json();
  EXPECT_EQ(registered.at("format"), "comfyui_workflow");
  EXPECT_TRUE(contains(registered.at("notices").dump(), "no source known")) << registered.dump();

  const json queued = sync(*daemon, {{"manifest", "flow"}, {"mode", "missing"}});
  ASSERT_EQ(queued.at("jobs").size(), 1u) << queued.dump();
  EXPECT_TRUE(contains(queued.at("skipped").dump(), "no source known")) << queued.dump();
  wait_all(*daemon, queued);
  EXPECT_TRUE(read_file(models() / "checkpoints" / "need.safetensors") == a);
  EXPECT_FALSE(fs::exists(models() / "loras" / "have.safetensors")) << "found in the install";
}

TEST_F(DaemonModelsTest, ASeedConfigFromS3AndAThreeRepoModelFromTheHub) {
  s3.put_object("bucket", "ckpt/model.safetensors", a);
  const std::vector<std::pair<std::string, std::string>> repos = {
      {"leejet/Z-Image-Turbo-GGUF", "z_image_turbo-Q8_0.gguf"},
      {"black-forest-labs/FLUX.1-schnell", "ae.safetensors"},
      {"unsloth/Qwen3-4B-Instruct-2507-GGUF", "Qwen3-4B-Instruct-2507-Q8_0.gguf"}};
  for (std::size_t i = 0; i < repos.size(); ++i) {
    HfFakeRepo repo;
    repo.id = repos[i].first;
    repo.files = {{repos[i].second, random_bytes(100000 + i, 40 + i), true}};
    hub.add_repo(repo);
  }
  auto daemon = start_daemon({}, env());
  const json seed = json::array({{{"directoryGroup", "checkpoints"},
                                  {"modelName", "model.safetensors"},
                                  {"originalS3Path", "s3://bucket/ckpt/model.safetensors"},
                                  {"localPath", ""},
                                  {"modelSize", a.size()}}});
  const json from_s3 = sync(*daemon, {{"entries", seed}, {"name", "seed"}, {"mode", "all"}}, 201);
  wait_all(*daemon, from_s3);
  EXPECT_TRUE(read_file(models() / "checkpoints" / "model.safetensors") == a);

  const json turbo = {
      {"haul_manifest", 1},
      {"models",
       {{{"name", "z-image-turbo"},
         {"group", "diffusion_models"},
         {"files",
          {{{"source", "hf://leejet/Z-Image-Turbo-GGUF/z_image_turbo-Q8_0.gguf"}},
           {{"source", "hf://black-forest-labs/FLUX.1-schnell/ae.safetensors"}, {"group", "vae"}},
           {{"source", "hf://unsloth/Qwen3-4B-Instruct-2507-GGUF/Qwen3-4B-Instruct-2507-Q8_0.gguf"},
            {"group", "text_encoders"}}}}}}}};
  const json queued = sync(*daemon, {{"manifest", turbo}, {"name", "turbo"}});
  ASSERT_EQ(queued.at("jobs").size(), 1u) << queued.dump();
  EXPECT_EQ(queued.at("jobs").at(0).at("items").size(), 3u);
  wait_all(*daemon, queued);
  EXPECT_TRUE(fs::exists(models() / "diffusion_models" / "z_image_turbo-Q8_0.gguf"));
  EXPECT_TRUE(fs::exists(models() / "vae" / "ae.safetensors"));
  EXPECT_TRUE(fs::exists(models() / "text_encoders" / "Qwen3-4B-Instruct-2507-Q8_0.gguf"));
  const json seed004 = model(*daemon, "diffusion_models:z-image-turbo");
  EXPECT_EQ(seed004.at("modelId"), "diffusion_models:z-image-turbo");
  EXPECT_EQ(seed004.at("allPresent"), true);
  for (const json& f : seed004.at("files")) {
    EXPECT_EQ(f.at("exists"), true);
    EXPECT_TRUE(f.at("humanSize").is_string()) << f.dump();
  }
}

TEST_F(DaemonModelsTest, InvalidManifestsAreNamedPreciselyAndManifestsOutliveARestart) {
  auto daemon = start_daemon({}, env());
  json manifest = haul_manifest();
  manifest["models"][1]["files"][0]["sha256"] = "abc";
  const HttpReply bad = daemon->call("POST", "/api/v1/manifests",
                                     json{{"name", "studio.json"}, {"content", manifest}}.dump());
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.json().at("error").at("message"),
            "studio.json: models[1] (\"duo\"): files[0].sha256: expected 64 hex digits, got "
            "\"abc\"");
  const HttpReply missing = daemon->call("POST", "/api/v1/manifests",
                                         json{{"path", (dir / "nope.json").string()}}.dump());
  EXPECT_EQ(missing.status, 422);
  EXPECT_TRUE(contains(missing.body, "nope.json")) << missing.body;
  ASSERT_EQ(daemon
                ->call("POST", "/api/v1/manifests",
                       json{{"name", "studio.json"}, {"content", haul_manifest()}}.dump())
                .status,
            201);
  daemon->stop();
  daemon = start_daemon({}, env());
  const json listed = daemon->call("GET", "/api/v1/manifests").json();
  ASSERT_EQ(listed.at("count"), 1) << listed.dump();
  EXPECT_EQ(listed.at("manifests").at(0).at("id"), "studio");
  EXPECT_EQ(daemon->call("DELETE", "/api/v1/manifests/studio").status, 204);
  EXPECT_EQ(daemon->call("GET", "/api/v1/manifests/studio").status, 404);
}

TEST_F(DaemonModelsTest, ModelEventsTellWhenAModelsPresenceChanges) {
  auto daemon = start_daemon({}, env());
  ASSERT_EQ(register_studio(*daemon), 201);
  WsClient ws(daemon->url());
  ws.send(R"({"subscribe": "models"})");
  EXPECT_EQ(ws.receive().at("type"), "subscribed");
  sync(*daemon, {{"manifest", "studio"}, {"mode", "list"}, {"models", {"a"}}});
  std::vector<std::string> states;
  ws.receive_until([&](const json& message) {
    if (message.at("channel") != "models") return false;
    EXPECT_EQ(message.at("type"), "model");
    EXPECT_EQ(message.at("data").at("id"), "checkpoints:a");
    states.push_back(message.at("data").at("state"));
    return states.back() == "present";
  });
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.back(), "present");
}

TEST_F(DaemonModelsTest, StatusDebugSaysWhichCredentialsAreSetNeverTheirValues) {
  std::vector<std::string> environment = env();
  environment.push_back("CIVITAI_TOKEN=civitai-secret-value");
  auto daemon = start_daemon({}, environment);
  const auto status = run_haul(
      {"status", "--debug", "--data-dir", (dir / "data").string(), "--server", daemon->url()});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(contains(status.out, "CIVITAI_TOKEN: set")) << status.out;
  EXPECT_TRUE(contains(status.out, "CIVITAI_API_KEY: not set")) << status.out;
  EXPECT_FALSE(contains(status.out, "civitai-secret-value"));
  EXPECT_FALSE(contains(status.out, "wJalrXUtnFEMI"));
  EXPECT_TRUE(contains(status.out, "models_roots: " + models().string())) << status.out;
  EXPECT_TRUE(contains(status.out, "queue:")) << status.out;
  EXPECT_TRUE(contains(status.out, ", running")) << status.out;
  daemon->stop();
  const auto stopped = run_haul({"status", "--debug", "--data-dir", (dir / "data").string(),
                                 "--server", "http://127.0.0.1:1"});
  EXPECT_EQ(stopped.exit_code, 1);
  EXPECT_TRUE(contains(stopped.out, "daemon: not answering")) << stopped.out;
}

}  // namespace
}  // namespace haul::testing
