// `haul get` on CivitAI sources, against the fake CivitAI: page URLs, download
// URLs and AIR URNs resolve to the primary file under its original name,
// verified by the API's SHA256; refusals come back in CivitAI's words.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "support/fake_civitai.hpp"
#include "support/test_http_server.hpp"

namespace haul::testing {
namespace {

namespace fs = std::filesystem;

class CivitaiGetTest : public ::testing::Test {
 protected:
  CivitaiGetTest() : site(server) {
    CivitaiFakeModel lora;
    lora.id = 1678575;
    lora.name = "Some LoRA";
    lora.type = "LORA";
    CivitaiFakeVersion v2;
    v2.id = 1900322;
    v2.name = "v2.0";
    v2.files = {{1, "some_lora_v2.safetensors", "Model", random_bytes(2u << 20, 5), true, {}},
                {2, "some_lora_v2_config.json", "Config", R"({"rank":16})", false, {}}};
    v2.images = {"\x89PNG fake preview"};
    CivitaiFakeVersion v1;
    v1.id = 1800000;
    v1.name = "v1.0";
    v1.files = {{3, "some_lora_v1.safetensors", "Model", random_bytes(1u << 20, 6), true, {}}};
    lora.versions = {v2, v1};
    site.add_model(lora);
    model_v2 = v2.files[0].content;
    config_v2 = v2.files[1].content;
    model_v1 = v1.files[0].content;

    CivitaiFakeModel locked;
    locked.id = 500;
    locked.name = "Locked";
    locked.type = "Checkpoint";
    auto version = [](std::uint64_t id, const std::string& name) {
      CivitaiFakeVersion v;
      v.id = id;
      v.name = name;
      v.files = {{id * 10, name + ".safetensors", "Model", "bytes of " + name, true, {}}};
      return v;
    };
    CivitaiFakeVersion login = version(501, "login");
    login.requires_login = true;
    CivitaiFakeVersion early = version(502, "early");
    early.early_access_deadline = "2099-01-01T00:00:00.000Z";
    CivitaiFakeVersion archived = version(503, "archived");
    archived.archived = true;
    CivitaiFakeVersion disabled = version(504, "disabled");
    disabled.downloads_disabled = true;
    locked.versions = {login, early, archived, disabled};
    site.add_model(locked);

    CivitaiFakeModel broken;
    broken.id = 2300;
    broken.name = "Broken mirror";
    broken.type = "LORA";
    CivitaiFakeVersion served = version(3300, "broken");
    served.files[0].corrupt = true;
    broken.versions = {served};
    site.add_model(broken);
  }

  std::vector<std::string> env(const std::string& token = "") const {
    std::vector<std::string> vars = {"CIVITAI_ENDPOINT=" + site.endpoint()};
    vars.push_back("CIVITAI_TOKEN=" + token);
    return vars;
  }

  TestHttpServer server;
  FakeCivitai site;
  TempDir dir;
  std::string model_v2, config_v2, model_v1;
};

TEST_F(CivitaiGetTest, EveryUrlFormGetsThePrimaryFileUnderItsOriginalName) {
  const std::vector<std::pair<std::string, std::string>> forms = {
      {"https://civitai.com/models/1678575?modelVersionId=1900322", model_v2},
      {"https://civitai.com/models/1678575/some-lora", model_v2},  // latest version
      {"https://civitai.com/api/download/models/1800000", model_v1},
      {"urn:air:sdxl:lora:civitai:1678575@1800000", model_v1},
  };
  int n = 0;
  for (const auto& [source, content] : forms) {
    const auto out = dir / ("out" + std::to_string(n++));
    const auto outcome = run_haul({"get", source, "-d", out.string()}, env());
    ASSERT_EQ(outcome.exit_code, 0) << source << "\n" << outcome.err;
    const std::string name =
        content == model_v2 ? "some_lora_v2.safetensors" : "some_lora_v1.safetensors";
    EXPECT_EQ(read_file(out / name), content) << source;
    EXPECT_EQ(std::distance(fs::directory_iterator(out), fs::directory_iterator{}), 1) << source;
  }
}

TEST_F(CivitaiGetTest, FileFlagPicksAnotherFileAndPreviewWritesSidecars) {
  const auto out = dir / "out";
  auto outcome = run_haul({"get", "https://civitai.com/models/1678575?modelVersionId=1900322",
                           "--file", "some_lora_v2_config.json", "-d", out.string()},
                          env());
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(read_file(out / "some_lora_v2_config.json"), config_v2);

  outcome = run_haul(
      {"get", "urn:air:sdxl:lora:civitai:1678575@1900322", "--with-preview", "-d", out.string()},
      env());
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const auto info = nlohmann::json::parse(read_file(out / "some_lora_v2.civitai.info"));
  EXPECT_EQ(info.at("id"), 1900322);
  EXPECT_EQ(read_file(out / "some_lora_v2.preview.png"), "\x89PNG fake preview");

  const auto wrong = run_haul({"get", "urn:air:sdxl:lora:civitai:1678575@1900322", "--file",
                               "nope.bin", "-d", out.string()},
                              env());
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_TRUE(contains(wrong.err, "some_lora_v2_config.json"))
      << "names what exists: " << wrong.err;
}

TEST_F(CivitaiGetTest, RefusalsAreReportedInCivitaisWords) {
  struct Case {
    std::string source;
    std::string token;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"https://civitai.com/api/download/models/501", "",
       "requires you to be logged in to download it"},
      {"https://civitai.com/api/download/models/502", "civitai_testtoken", "Early Access"},
      {"https://civitai.com/api/download/models/503", "civitai_testtoken", "archived"},
      {"https://civitai.com/api/download/models/504", "civitai_testtoken", "disabled downloads"},
      {"https://civitai.com/models/999999", "", "999999"},
  };
  for (const Case& c : cases) {
    const auto outcome = run_haul({"get", c.source, "-d", (dir / "x").string()}, env(c.token));
    EXPECT_EQ(outcome.exit_code, 1) << c.source << "\n" << outcome.err;
    EXPECT_EQ(lines_of(outcome.err).size(), 1u) << outcome.err;
    EXPECT_TRUE(contains(outcome.err, c.expected)) << c.source << ": " << outcome.err;
    EXPECT_FALSE(contains(outcome.err, "civitai_testtoken")) << outcome.err;
  }
  EXPECT_TRUE(contains(
      run_haul({"get", "https://civitai.com/api/download/models/502", "-d", (dir / "x").string()},
               env("civitai_testtoken"))
          .err,
      "2099-01-01"))
      << "early access names its deadline";
  EXPECT_FALSE(fs::exists(dir / "x" / "login.safetensors"));
}

// Issue 10 item 4: one error shape, naming the file (not an internal key
// such as "civitai:3300/33000").
TEST_F(CivitaiGetTest, AMismatchIsReportedUnderTheFilesName) {
  const auto out = dir / "out";
  const auto outcome =
      run_haul({"get", "https://civitai.com/api/download/models/3300", "-d", out.string()}, env());
  EXPECT_EQ(outcome.exit_code, 1) << outcome.err;
  const auto lines = lines_of(outcome.err);
  ASSERT_EQ(lines.size(), 1u) << outcome.err;
  EXPECT_EQ(lines[0].rfind("haul get: broken.safetensors: sha256 mismatch", 0), 0u) << lines[0];
  EXPECT_FALSE(contains(outcome.err, "civitai:")) << outcome.err;
  EXPECT_FALSE(fs::exists(out / "broken.safetensors"));
}

TEST_F(CivitaiGetTest, TheTokenGoesToCivitaiOnlyAndUnlocksLoginOnlyModels) {
  const auto out = dir / "out";
  const auto outcome =
      run_haul({"get", "https://civitai.com/api/download/models/501", "-d", out.string()},
               env("civitai_testtoken"));
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(read_file(out / "login.safetensors"), "bytes of login");
  bool sent_to_api = false;
  for (const auto& record : server.requests()) {
    const bool has_token = record.headers.count("authorization") > 0;
    if (record.local_address == "127.0.0.2") {
      EXPECT_FALSE(has_token) << "token sent to the CDN: " << record.path;
    } else if (has_token) {
      sent_to_api = true;
      EXPECT_EQ(record.headers.at("authorization"), "Bearer civitai_testtoken");
      EXPECT_EQ(record.query.find("token="), std::string::npos) << "never in a URL";
    }
  }
  EXPECT_TRUE(sent_to_api);
}

TEST_F(CivitaiGetTest, ARateLimitedDownloadIsTriedAgain) {
  site.rate_limit_next(1);
  const auto out = dir / "out";
  const auto outcome =
      run_haul({"get", "urn:air:sdxl:lora:civitai:1678575@1800000", "-d", out.string()}, env());
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(read_file(out / "some_lora_v1.safetensors"), model_v1);
  EXPECT_TRUE(contains(outcome.err, "unusual amount of downloading")) << outcome.err;
}

}  // namespace
}  // namespace haul::testing
