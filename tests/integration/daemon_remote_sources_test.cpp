// Native sources with an instance as target: the daemon resolves the URL, Hub
// repo, CivitAI model or S3 object here and the real curl fetches each file on
// the "instance" (a real sshd on 127.0.0.1), verifying its SHA-256 there.
// Tokens and keys travel in the command's environment: never in any process's
// argv on the instance, never in the daemon's log.
#include <fcntl.h>
#include <unistd.h>

#include <thread>

#include "daemon_fixture.hpp"
#include "support/fake_civitai.hpp"
#include "support/fake_common.hpp"
#include "support/fake_hf.hpp"
#include "support/fake_s3.hpp"
#include "support/test_sshd.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kHfToken = "hf_remotesecret42";
constexpr const char* kAwsSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

class DaemonRemoteSourcesTest : public DaemonTest {
 protected:
  DaemonRemoteSourcesTest() : hub(server, kHfToken, kHfToken), site(server), s3(s3_server) {
    fs::create_directories(ui_home());
    repo.id = "acme/gated-model";
    repo.access = HfFakeRepo::Access::kGated;  // only with the token
    repo.files = {{"model.safetensors", random_bytes(2u << 20, 61), true},
                  {"config.json", R"({"hidden_size": 64})", false},
                  {"vae/vae.safetensors", random_bytes(1u << 20, 62), true}};
    hub.add_repo(repo);

    CivitaiFakeModel lora;
    lora.id = 1678575;
    lora.name = "Some LoRA";
    lora.type = "LORA";
    CivitaiFakeVersion version;
    version.id = 1900322;
    version.name = "v2.0";
    version.files = {{1, "some_lora.safetensors", "Model", random_bytes(1u << 20, 63), true, {}}};
    version.images = {"png bytes"};
    lora.versions = {version};
    site.add_model(lora);
    lora_bytes = version.files[0].content;
  }

  fs::path ui_home() const { return dir / "instance home"; }

  std::vector<std::string> env() const {
    return {"HF_ENDPOINT=" + hub.endpoint(),
            "HF_HOME=" + (dir / "hf-home").string(),
            std::string("HF_TOKEN=") + kHfToken,
            "CIVITAI_ENDPOINT=" + site.endpoint(),
            "CIVITAI_TOKEN=",
            "AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
            std::string("AWS_SECRET_ACCESS_KEY=") + kAwsSecret,
            "AWS_REGION=us-east-1",
            "AWS_ENDPOINT_URL=" + s3.endpoint()};
  }

  std::unique_ptr<Daemon> start() {
    auto daemon = start_daemon({"--known-hosts", sshd.known_hosts().string()}, env());
    const HttpReply registered = daemon->call(
        "POST", "/api/v1/instances",
        json{{"id", "gpu1"}, {"ssh_command", sshd.ssh_command()}, {"ui_home", ui_home().string()}}
            .dump());
    EXPECT_EQ(registered.status, 201) << registered.body;
    return daemon;
  }

  // Every process's command line on this machine (the instance's included).
  static std::string all_command_lines() {
    std::string out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
      // A process may exit while it is read (ESRCH): plain read(2), no throw.
      const int fd = ::open((entry.path() / "cmdline").c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      char buffer[4096];
      for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;)
        out.append(buffer, static_cast<std::size_t>(n));
      ::close(fd);
      out += "\n";
    }
    return out;
  }

  TestSshd sshd;
  TestHttpServer files;      // plain URLs (server is HF_ENDPOINT: its URLs are Hub URLs)
  TestHttpServer s3_server;  // FakeS3 takes every path of its server
  FakeHuggingFace hub;
  FakeCivitai site;
  FakeS3 s3;
  HfFakeRepo repo;
  std::string lora_bytes;
};

TEST_F(DaemonRemoteSourcesTest, AUrlIsFetchedOnTheInstanceAndVerifiedThere) {
  const std::string body = random_bytes(1u << 20, 64);
  files.add("/files/flux.safetensors", Resource{.body = body});
  auto daemon = start();
  const json added = daemon->add({{"source", files.url("/files/flux.safetensors")},
                                  {"target", "gpu1"},
                                  {"dest", "models/checkpoints"},
                                  {"sha256", fake::sha256_hex(body)}});
  EXPECT_EQ(added.at("target"), "gpu1");
  EXPECT_EQ(added.at("dest"), "models/checkpoints");
  const json done = daemon->wait_for_state(added.at("id"), "completed");
  ASSERT_EQ(done.at("state"), "completed") << done.dump();
  EXPECT_EQ(read_file(ui_home() / "models/checkpoints/flux.safetensors"), body);
  EXPECT_EQ(done.at("items")[0].at("path"), "models/checkpoints/flux.safetensors");
  EXPECT_FALSE(fs::exists(models() / "flux.safetensors")) << "nothing lands locally";
}

TEST_F(DaemonRemoteSourcesTest, HaulAddToAnInstanceFromTheCli) {
  const std::string body = random_bytes(200000, 67);
  files.add("/files/vae.safetensors", Resource{.body = body});
  auto daemon = start();
  const auto added =
      run_haul({"add", "--to", "gpu1", files.url("/files/vae.safetensors"), "-d", "models/vae",
                "--sha256", fake::sha256_hex(body), "--server", daemon->url()});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string id = added.out.substr(0, added.out.find(' '));
  const json done = daemon->wait_for_state(id, "completed");
  ASSERT_EQ(done.at("state"), "completed") << done.dump();
  EXPECT_EQ(read_file(ui_home() / "models/vae/vae.safetensors"), body);
}

TEST_F(DaemonRemoteSourcesTest, CancelStopsTheFetchAndRemovesItsPartialFile) {
  files.add("/files/big.safetensors",
            Resource{.body = random_bytes(4u << 20, 68), .rate = 512u << 10});  // 8 s
  auto daemon = start();
  const json added = daemon->add(
      {{"source", files.url("/files/big.safetensors")}, {"target", "gpu1"}, {"dest", "models/x"}});
  const std::string id = added.at("id");
  const fs::path part = ui_home() / "models/x/big.safetensors.part";
  ASSERT_TRUE(eventually([&] { return fs::exists(part) && fs::file_size(part) > 0; },
                         std::chrono::seconds(20)));
  const HttpReply cancelled = daemon->call("POST", "/api/v1/jobs/" + id + "/cancel");
  ASSERT_LT(cancelled.status, 300) << cancelled.body;
  const json job = daemon->wait_for_state(id, "cancelled");
  ASSERT_EQ(job.at("state"), "cancelled") << job.dump();
  EXPECT_TRUE(eventually([&] { return !fs::exists(part); }, std::chrono::seconds(10)))
      << "the partial file stayed on the instance";
  EXPECT_FALSE(fs::exists(ui_home() / "models/x/big.safetensors"));
  EXPECT_TRUE(
      eventually([&] { return all_command_lines().find("HAUL_CURL_CONFIG") == std::string::npos; },
                 std::chrono::seconds(5)))
      << "curl still runs on the instance";
}

TEST_F(DaemonRemoteSourcesTest, AShaMismatchOnTheInstanceFailsAndLeavesNoFile) {
  files.add("/files/bad.safetensors", Resource{.body = random_bytes(300000, 65)});
  auto daemon = start();
  const json added = daemon->add({{"source", files.url("/files/bad.safetensors")},
                                  {"target", "gpu1"},
                                  {"dest", "models/loras"},
                                  {"sha256", std::string(64, 'a')},
                                  {"max_attempts", 1}});
  const json failed = daemon->wait_for_state(added.at("id"), "failed");
  ASSERT_EQ(failed.at("state"), "failed") << failed.dump();
  EXPECT_NE(failed.at("error").at("message").get<std::string>().find("SHA-256 mismatch"),
            std::string::npos)
      << failed.dump();
  EXPECT_FALSE(fs::exists(ui_home() / "models/loras/bad.safetensors"));
  EXPECT_FALSE(fs::exists(ui_home() / "models/loras/bad.safetensors.part"));
}

TEST_F(DaemonRemoteSourcesTest, AGatedHubRepoUsesTheTokenWithoutItEverReachingArgvOrLogs) {
  hub.set_cdn_rate(1u << 20);  // a couple of seconds: time to look at the process list
  auto daemon = start();
  const json added = daemon->add(
      {{"source", "hf://acme/gated-model"}, {"target", "gpu1"}, {"dest", "models/llm"}});
  const std::string id = added.at("id");
  bool saw_curl = false;
  bool token_in_argv = false;
  bool saw_progress = false;
  ASSERT_TRUE(eventually(
      [&] {
        const std::string lines = all_command_lines();
        if (lines.find("HAUL_CURL_CONFIG") != std::string::npos) saw_curl = true;
        if (lines.find(kHfToken) != std::string::npos) token_in_argv = true;
        const json job = daemon->job(id);
        const double progress = job.at("progress");
        if (progress > 0 && progress < 100) saw_progress = true;
        const std::string state = job.at("state");
        return state == "completed" || state == "failed";
      },
      std::chrono::seconds(60), std::chrono::milliseconds(20)));
  const json done = daemon->job(id);
  ASSERT_EQ(done.at("state"), "completed") << done.dump();
  EXPECT_TRUE(saw_curl) << "the fetch command was never seen running";
  EXPECT_FALSE(token_in_argv) << "the token was in a process's argv";
  EXPECT_TRUE(saw_progress) << "curl's meter on the instance never became job progress";
  for (const auto& file : repo.files)
    EXPECT_EQ(read_file(ui_home() / "models/llm" / file.path), file.content) << file.path;
  EXPECT_EQ(done.at("name"), "acme/gated-model");
  ASSERT_EQ(done.at("items").size(), repo.files.size());
  EXPECT_EQ(daemon->log().find(kHfToken), std::string::npos);
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs/" + id).body.find(kHfToken), std::string::npos);
  // The Hub saw the token (the repo is gated); the CDN, which rejects any
  // Authorization header, served every LFS file.
  bool hub_saw_token = false;
  for (const auto& record : server.requests()) {
    auto auth = record.headers.find("authorization");
    if (record.local_address == "127.0.0.2") EXPECT_EQ(auth, record.headers.end()) << record.path;
    if (auth != record.headers.end() && auth->second == std::string("Bearer ") + kHfToken)
      hub_saw_token = true;
  }
  EXPECT_TRUE(hub_saw_token);
}

TEST_F(DaemonRemoteSourcesTest, ACivitaiModelGoesToItsTypesFolderWithItsMetadata) {
  auto daemon = start();
  const json added = daemon->add({{"source", "https://civitai.com/models/1678575"},
                                  {"target", "gpu1"},
                                  {"with_preview", true}});
  const json done = daemon->wait_for_state(added.at("id"), "completed");
  ASSERT_EQ(done.at("state"), "completed") << done.dump();
  const fs::path loras = ui_home() / "models/loras";
  EXPECT_EQ(read_file(loras / "some_lora.safetensors"), lora_bytes);
  EXPECT_TRUE(fs::exists(loras / "some_lora.civitai.info")) << "metadata sidecar";
  EXPECT_EQ(read_file(loras / "some_lora.preview.png"), "png bytes");
}

TEST_F(DaemonRemoteSourcesTest, AnS3ObjectIsSignedByCurlOnTheInstanceWithKeysFromTheEnvironment) {
  const std::string body = random_bytes(700000, 66);
  s3.put_object("weights", "sdxl/unet v1.safetensors", body);
  auto daemon = start();
  const json added = daemon->add({{"source", "s3://weights/sdxl/unet v1.safetensors"},
                                  {"target", "gpu1"},
                                  {"dest", "models/unet"}});
  const json done = daemon->wait_for_state(added.at("id"), "completed");
  ASSERT_EQ(done.at("state"), "completed") << done.dump();
  EXPECT_EQ(read_file(ui_home() / "models/unet/unet v1.safetensors"), body);
  EXPECT_EQ(s3.signature_failures(), 0);
  EXPECT_EQ(daemon->log().find(kAwsSecret), std::string::npos);
}

TEST_F(DaemonRemoteSourcesTest, BadRemoteRequestsAreRefusedBeforeQueueing) {
  auto daemon = start();
  const auto refused = [&](const json& body) {
    const HttpReply reply = daemon->call("POST", "/api/v1/jobs", body.dump());
    EXPECT_EQ(reply.status, 422) << body.dump() << " -> " << reply.body;
    return reply.json().at("error").at("message").get<std::string>();
  };
  EXPECT_NE(refused({{"source", "hf://acme/gated-model"}, {"target", "gpu1"}, {"dest", "../x"}})
                .find("UI_HOME"),
            std::string::npos);
  EXPECT_NE(refused({{"source", "hf://acme/gated-model"}, {"target", "gpu1"}, {"hf_cache", true}})
                .find("local jobs only"),
            std::string::npos);
  EXPECT_NE(refused({{"sources", {"loras/x.md", server.url("/a.bin")}}, {"target", "gpu1"}})
                .find("cannot share a job"),
            std::string::npos);
  EXPECT_EQ(daemon->call("GET", "/api/v1/jobs").json().at("count"), 0);
}

// Issue 12: presence on an instance is checked there in one batched command,
// and a sync to the instance fetches only what is missing there, to its
// UI_HOME/models folders, links included.
TEST_F(DaemonRemoteSourcesTest, ModelsArePresentOrMissingOnTheInstanceAndSyncFetchesTheMissing) {
  const std::string have = random_bytes(100000, 70);
  const std::string need = random_bytes(150000, 71);
  files.add("/files/have.safetensors", Resource{.body = have});
  files.add("/files/need.safetensors", Resource{.body = need});
  write_file(ui_home() / "models/checkpoints/have.safetensors", have);
  const json manifest = {{"haul_manifest", 1},
                         {"models",
                          {{{"name", "have"},
                            {"group", "checkpoints"},
                            {"source", files.url("/files/have.safetensors")},
                            {"size", have.size()}},
                           {{"name", "need"},
                            {"group", "loras"},
                            {"source", files.url("/files/need.safetensors")},
                            {"sha256", fake::sha256_hex(need)},
                            {"symlinks", {"Lora/need.safetensors"}}}}}};
  auto daemon = start();
  ASSERT_EQ(daemon
                ->call("POST", "/api/v1/manifests",
                       json{{"name", "remote"}, {"content", manifest}}.dump())
                .status,
            201);
  const json there = daemon->call("GET", "/api/v1/models?manifest=remote&target=gpu1").json();
  ASSERT_EQ(there.at("count"), 2) << there.dump();
  EXPECT_EQ(there.at("models").at(0).at("state"), "present") << there.dump();
  EXPECT_EQ(there.at("models").at(1).at("state"), "missing") << there.dump();
  EXPECT_EQ(there.at("models").at(1).at("files").at(0).at("path"),
            (ui_home() / "models/loras/need.safetensors").string());
  const json here = daemon->call("GET", "/api/v1/models?manifest=remote").json();
  EXPECT_EQ(here.at("models").at(0).at("state"), "missing") << "this machine has neither";
  EXPECT_EQ(daemon->call("GET", "/api/v1/models?target=nowhere").status, 404);

  const HttpReply synced =
      daemon->call("POST", "/api/v1/models/sync",
                   json{{"manifest", "remote"}, {"mode", "missing"}, {"target", "gpu1"}}.dump());
  ASSERT_EQ(synced.status, 201) << synced.body;
  const json reply = synced.json();
  ASSERT_EQ(reply.at("jobs").size(), 1u) << reply.dump();
  const json done = daemon->wait_for_state(reply.at("jobs").at(0).at("id"), "completed");
  ASSERT_EQ(done.at("state"), "completed") << done.dump();
  EXPECT_TRUE(read_file(ui_home() / "models/loras/need.safetensors") == need);
  const fs::path link = ui_home() / "models/Lora/need.safetensors";
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_TRUE(read_file(link) == need);
  EXPECT_EQ(daemon->call("GET", "/api/v1/models/loras:need?target=gpu1").json().at("state"),
            "present");
  EXPECT_FALSE(fs::exists(models() / "loras")) << "nothing lands locally";
}

}  // namespace
}  // namespace haul::testing
