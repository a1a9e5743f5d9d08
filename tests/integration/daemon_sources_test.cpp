// The daemon on Hugging Face, CivitAI and S3 sources: jobs resolve into one
// item per file when they start, land in the folder their type calls for,
// fail with the provider's reason, and survive a daemon crash mid-repo.
#include <signal.h>

#include <thread>

#include "daemon_fixture.hpp"
#include "support/fake_civitai.hpp"
#include "support/fake_hf.hpp"
#include "support/fake_s3.hpp"
#include "ws_client.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class DaemonSourcesTest : public DaemonTest {
 protected:
  DaemonSourcesTest() : hub(server), site(server), s3(s3_server) {
    repo.id = "acme/tiny-model";
    repo.files = {{"model.safetensors", random_bytes(2u << 20, 1), true},
                  {"config.json", R"({"hidden_size": 64})", false},
                  {"vae/vae.safetensors", random_bytes(1u << 20, 2), true}};
    hub.add_repo(repo);
    HfFakeRepo gated = repo;
    gated.id = "acme/gated";
    gated.access = HfFakeRepo::Access::kGated;
    hub.add_repo(gated);

    CivitaiFakeModel lora;
    lora.id = 1678575;
    lora.name = "Some LoRA";
    lora.type = "LORA";
    CivitaiFakeVersion version;
    version.id = 1900322;
    version.name = "v2.0";
    version.files = {{1, "some_lora.safetensors", "Model", random_bytes(1u << 20, 3), true, {}}};
    version.images = {"png bytes"};
    lora.versions = {version};
    site.add_model(lora);
    lora_bytes = version.files[0].content;
  }

  std::vector<std::string> env() const {
    return {"HF_ENDPOINT=" + hub.endpoint(),
            "HF_HOME=" + (dir / "hf-home").string(),
            "HF_HUB_CACHE=" + (dir / "hub").string(),
            "HF_TOKEN=hf_testtoken",
            "CIVITAI_ENDPOINT=" + site.endpoint(),
            "CIVITAI_TOKEN=",
            "AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "AWS_REGION=us-east-1",
            "AWS_ENDPOINT_URL=" + s3.endpoint()};
  }

  TestHttpServer s3_server;  // FakeS3 takes every path of its server
  FakeHuggingFace hub;
  FakeCivitai site;
  FakeS3 s3;
  HfFakeRepo repo;
  std::string lora_bytes;
};

TEST_F(DaemonSourcesTest, AnHfRepoJobGetsOneItemPerFileAndCompletes) {
  auto daemon = start_daemon({}, env());
  const json added = daemon->add({{"source", "hf://acme/tiny-model"}, {"dest", "llm"}});
  EXPECT_EQ(added.at("name"), "hf://acme/tiny-model");
  const json done = daemon->wait_for_state(added.at("id"), "completed");
  ASSERT_EQ(done.at("state"), "completed") << done.dump();
  EXPECT_EQ(done.at("name"), "acme/tiny-model");
  ASSERT_EQ(done.at("items").size(), repo.files.size()) << done.dump();
  const std::string commit = hub.commit_of("acme/tiny-model");
  for (const auto& item : done.at("items"))
    EXPECT_EQ(item.at("source").get<std::string>().rfind("hf://acme/tiny-model@" + commit + "/", 0),
              0u)
        << item.dump();
  for (const auto& file : repo.files)
    EXPECT_EQ(read_file(models() / "llm" / file.path), file.content) << file.path;
}

// Issue 10 items 6 and 7: on the download channel (WebSocket here; SSE and
// Socket.IO carry the same encoded messages), an hf job names its repo and
// method, and a size once known stays a number in every later message.
TEST_F(DaemonSourcesTest, AnHfJobsChannelMessagesNameTheRepoAndKeepSizesOnceKnown) {
  hub.set_cdn_rate(2u << 20);  // 3 MiB over 1.5 s: several progress messages
  auto daemon = start_daemon({}, env());
  WsClient ws(daemon->url());
  ws.send(R"({"subscribe":"download"})");
  ASSERT_EQ(ws.receive()["type"], "subscribed");
  const json added = daemon->add({{"source", "hf://acme/tiny-model"}, {"dest", "llm"}});
  const auto messages = ws.receive_until(
      [&](const json& m) { return m["data"]["jobId"] == added["id"] && m["type"] != "progress"; });
  ASSERT_EQ(messages.back()["type"], "complete");
  bool total_known = false;
  bool file_size_known = false;
  for (const json& m : messages) {
    const json& d = m["data"];
    if (d["jobId"] != added["id"]) continue;
    EXPECT_EQ(d["repo"], "acme/tiny-model") << m.dump();
    EXPECT_EQ(d["method"], "haul") << m.dump();
    if (total_known) EXPECT_TRUE(d["totalBytes"].is_number()) << "went back to null: " << m.dump();
    total_known = total_known || d["totalBytes"].is_number();
    bool all_sized = true;
    for (const json& file : d["files"]) all_sized = all_sized && file["size"].is_number();
    if (file_size_known) EXPECT_TRUE(all_sized) << "a file's size went back to null: " << m.dump();
    file_size_known = file_size_known || (all_sized && !d["files"].empty());
  }
  EXPECT_TRUE(total_known);
  EXPECT_EQ(messages.back()["data"]["totalBytes"], (3u << 20) + repo.files[1].content.size());
}

TEST_F(DaemonSourcesTest, HaulAddPassesIncludePatternsToTheDaemon) {
  auto daemon = start_daemon({}, env());
  const auto added = run_haul({"add", "hf://acme/tiny-model", "--include", "*.json", "-d", "cfg",
                               "--server", daemon->url(), "--json"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const json jobs = json::parse(added.out);
  ASSERT_EQ(jobs.size(), 1u) << added.out;
  const json done = daemon->wait_for_state(jobs[0].at("id"), "completed");
  ASSERT_EQ(done.at("state"), "completed") << done.dump();
  EXPECT_EQ(read_file(models() / "cfg" / "config.json"), repo.files[1].content);
  EXPECT_FALSE(fs::exists(models() / "cfg" / "model.safetensors"));
  EXPECT_EQ(done.at("items").size(), 1u);
}

TEST_F(DaemonSourcesTest, ACivitaiModelWithoutDestinationGoesToItsTypeFolder) {
  auto daemon = start_daemon({}, env());
  const json added =
      daemon->add({{"source", "https://civitai.com/models/1678575?modelVersionId=1900322"},
                   {"with_preview", true}});
  const json done = daemon->wait_for_state(added.at("id"), "completed");
  ASSERT_EQ(done.at("state"), "completed") << done.dump();
  EXPECT_EQ(read_file(models() / "loras" / "some_lora.safetensors"), lora_bytes);
  EXPECT_TRUE(fs::exists(models() / "loras" / "some_lora.civitai.info"));
  EXPECT_EQ(read_file(models() / "loras" / "some_lora.preview.png"), "png bytes");
  EXPECT_EQ(done.at("name"), "Some LoRA v2.0");
}

TEST_F(DaemonSourcesTest, TheSeedsS3ModelConfigIsAJobSpec) {
  const std::string body = random_bytes(1u << 20, 7);
  s3.put_object("bucket", "path/model.safetensors", body);
  auto daemon = start_daemon({}, env());
  const json config = {{"directoryGroup", "checkpoints"},
                       {"modelName", "model.safetensors"},
                       {"originalS3Path", "s3://bucket/path/model.safetensors"},
                       {"localPath", (models() / "checkpoints" / "renamed.safetensors").string()},
                       {"modelSize", body.size()}};
  const json added = daemon->add(config);
  EXPECT_EQ(added.at("group"), "checkpoints");
  const json done = daemon->wait_for_state(added.at("id"), "completed");
  ASSERT_EQ(done.at("state"), "completed") << done.dump();
  EXPECT_EQ(read_file(models() / "checkpoints" / "renamed.safetensors"), body);
  EXPECT_EQ(s3.signature_failures(), 0);
}

TEST_F(DaemonSourcesTest, AProviderRefusalFailsTheJobAtOnceWithItsReason) {
  auto anonymous = env();
  anonymous[3] = "HF_TOKEN=";
  auto daemon = start_daemon({}, anonymous);
  const json refused = daemon->add({{"source", "hf://acme/gated/vae/vae.safetensors"}});
  const json failed = daemon->wait_for_state(refused.at("id"), "failed");
  ASSERT_EQ(failed.at("state"), "failed") << failed.dump();
  EXPECT_EQ(failed.at("attempts"), 1) << "a gated repo is not worth another attempt";
  const std::string message = failed.at("error").at("message");
  EXPECT_TRUE(contains(message, "gated")) << message;
  EXPECT_TRUE(contains(message, "HF_TOKEN")) << message;
}

TEST_F(DaemonSourcesTest, UnparsableSourcesAreRefusedBeforeQueueing) {
  auto daemon = start_daemon({}, env());
  for (const std::string source : {"hf://just-a-name", "urn:air:sdxl:lora:huggingface:1@2",
                                   "s3://Bad_Bucket/key", "gopher://x/y"}) {
    const HttpReply reply = daemon->call("POST", "/api/v1/jobs", json{{"source", source}}.dump());
    EXPECT_EQ(reply.status, 422) << source << ": " << reply.body;
    EXPECT_FALSE(reply.json().at("error").at("message").get<std::string>().empty());
  }
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs").json().at("count"), 0);
}

// Issue 12: a model whose files come from three repos is one job with one
// item per file; each file keeps the path the request gave, and its links
// point at it.
TEST_F(DaemonSourcesTest, AModelFromThreeReposIsOneJobWithAnItemPerFile) {
  const std::vector<std::pair<std::string, std::string>> repos = {
      {"leejet/Z-Image-Turbo-GGUF", "z_image_turbo-Q8_0.gguf"},
      {"black-forest-labs/FLUX.1-schnell", "ae.safetensors"},
      {"unsloth/Qwen3-4B-Instruct-2507-GGUF", "Qwen3-4B-Instruct-2507-Q8_0.gguf"}};
  std::vector<std::string> contents;
  for (std::size_t i = 0; i < repos.size(); ++i) {
    HfFakeRepo r;
    r.id = repos[i].first;
    contents.push_back(random_bytes((1u << 20) + i, 20 + i));
    r.files = {{repos[i].second, contents.back(), true},
               {"other-" + repos[i].second, random_bytes(1000, 30 + i), true}};
    hub.add_repo(r);
  }
  const std::vector<std::string> paths = {"diffusion_models/z_image_turbo-Q8_0.gguf",
                                          "vae/ae.safetensors",
                                          "text_encoders/Qwen3-4B-Instruct-2507-Q8_0.gguf"};
  json files = json::array();
  for (std::size_t i = 0; i < repos.size(); ++i) {
    json file = {{"source", "hf://" + repos[i].first + "/" + repos[i].second}, {"path", paths[i]}};
    if (i == 1) file["links"] = {"flux/ae.safetensors"};
    files.push_back(file);
  }
  auto daemon = start_daemon({}, env());
  const json added = daemon->add({{"name", "z-image-turbo"}, {"files", files}});
  const json done = daemon->wait_for_state(added.at("id"), "completed");
  ASSERT_EQ(done.at("state"), "completed") << done.dump();
  ASSERT_EQ(done.at("items").size(), 3u) << done.dump();
  for (std::size_t i = 0; i < repos.size(); ++i)
    EXPECT_EQ(read_file(models() / paths[i]), contents[i]) << paths[i];
  const fs::path link = models() / "flux" / "ae.safetensors";
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link), fs::path("../vae/ae.safetensors")) << "relative in one root";
  EXPECT_EQ(read_file(link), contents[1]);
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs").json().at("count"), 1);
  EXPECT_FALSE(fs::exists(models() / "vae" / "other-ae.safetensors")) << "one file per source";
}

// A repo among several sources names many files: the job fails at its start
// saying so (it cannot be known before resolving).
TEST_F(DaemonSourcesTest, ARepoAmongSeveralSourcesFailsNamingIt) {
  auto daemon = start_daemon({}, env());
  const json added =
      daemon->add({{"sources", {"hf://acme/tiny-model", "http://127.0.0.1:1/a.bin"}}});
  const json failed = daemon->wait_for_state(added.at("id"), "failed");
  ASSERT_EQ(failed.at("state"), "failed") << failed.dump();
  EXPECT_TRUE(contains(failed.dump(), "'hf://acme/tiny-model' names 3 files")) << failed.dump();
  EXPECT_EQ(failed.at("attempts"), 1) << "a refusal that cannot change is not retried";
}

TEST_F(DaemonSourcesTest, ARepoJobSurvivesADaemonKillAndFinishesVerified) {
  HfFakeRepo big;
  big.id = "acme/big";
  big.files = {{"a.safetensors", random_bytes(6u << 20, 11), true},
               {"b.safetensors", random_bytes(6u << 20, 12), true}};
  hub.add_repo(big);
  hub.set_cdn_rate(1u << 20);  // per response: 2 files x 2 connections, about 4 MiB/s
  auto daemon = start_daemon({"-x", "2"}, env());
  const json added = daemon->add({{"source", "hf://acme/big"}, {"dest", "big"}});
  const std::string id = added.at("id");
  // Past two checkpoints (one a second), so there is something on disk to keep.
  ASSERT_TRUE(
      eventually([&] { return daemon->job(id).at("bytes_done").get<std::uint64_t>() > (7u << 20); },
                 std::chrono::seconds(30), std::chrono::milliseconds(1)))
      << daemon->job(id).dump();
  daemon->kill(SIGKILL);
  daemon.reset();
  hub.set_cdn_rate(0);
  server.clear_log();
  auto restarted = start_daemon({}, env());
  const json done = restarted->wait_for_state(id, "completed");
  ASSERT_EQ(done.at("state"), "completed") << done.dump();
  for (const auto& file : big.files)
    EXPECT_EQ(read_file(models() / "big" / file.path), file.content);
  EXPECT_EQ(done.at("items").size(), 2u);
  std::uint64_t refetched = 0;
  for (const auto& record : server.requests())
    if (record.local_address == "127.0.0.2") refetched += record.body_bytes;
  EXPECT_LT(refetched, (12u << 20) - (3u << 20)) << "kept bytes were fetched again";
}

}  // namespace
}  // namespace haul::testing
