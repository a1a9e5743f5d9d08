// The fetch command, run by a local /bin/sh with the real curl against the
// test HTTP server: resume, size and SHA-256 checks, nothing at the final path
// unless it is right, secrets only in the environment.
#include "remote/fetch_script.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "remote/output_tail.hpp"
#include "remote/progress/progress_parser.hpp"
#include "support/fake_common.hpp"
#include "support/test_http_server.hpp"

namespace haul::remote {
namespace {

namespace fs = std::filesystem;
using haul::testing::Resource;
using haul::testing::TestHttpServer;

std::string random_body(std::size_t size, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(gen());
  return out;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class FetchScriptTest : public ::testing::Test {
 protected:
  FetchScriptTest() {
    home = fs::temp_directory_path() /
           ("haul-fetch-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(home);
    fs::create_directories(home);
    body = random_body(300000, 7);
    server.add("/model.safetensors", Resource{.body = body});
  }
  ~FetchScriptTest() override { fs::remove_all(home); }

  RemoteFetch fetch_of(const std::string& path) const {
    RemoteFetch fetch;
    fetch.url = server.url(path);
    fetch.directory = "models/checkpoints";
    fetch.relative_path = "model.safetensors";
    fetch.size = body.size();
    fetch.sha256 = haul::testing::fake::sha256_hex(body);
    return fetch;
  }

  // Runs the command as the remote wrapper would: its env exported, UI_HOME
  // set, through sh -c. Returns the exit status; output in `output`.
  int run(const FetchCommand& command) {
    const fs::path script = home / "run.sh";
    {
      std::ofstream out(script);
      out << "export UI_HOME='" << home.string() << "'\n";
      for (const auto& [name, value] : command.env) {
        std::string quoted;
        for (char c : value) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
        out << "export " << name << "='" << quoted << "'\n";
      }
      out << command.command << "\n";
    }
    FILE* pipe = ::popen(("sh " + script.string() + " 2>&1").c_str(), "r");
    output.clear();
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
      output.append(buffer, n);
    const int rc = ::pclose(pipe);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  fs::path final_path() const { return home / "models/checkpoints/model.safetensors"; }

  TestHttpServer server;
  fs::path home;
  std::string body;
  std::string output;
};

TEST_F(FetchScriptTest, FetchesVerifiesAndRenamesIntoPlace) {
  auto command = build_fetch_command(fetch_of("/model.safetensors"));
  ASSERT_TRUE(command) << command.error().message;
  EXPECT_EQ(progress::parser_for_command(command->command)->tool(), "curl")
      << "curl's meter becomes progress";
  ASSERT_EQ(run(*command), 0) << output;
  EXPECT_EQ(read_file(final_path()), body);
  EXPECT_FALSE(fs::exists(final_path().string() + ".part"));
  EXPECT_NE(output.find("haul: saved"), std::string::npos) << output;
}

TEST_F(FetchScriptTest, SecretsTravelInTheEnvironmentNotTheCommand) {
  RemoteFetch fetch = fetch_of("/model.safetensors");
  fetch.headers = {"Authorization: Bearer hf_secret\"quoted\\token"};
  fetch.aws_sigv4 = "aws:amz:us-east-1:s3";
  fetch.aws_user = "AKID:s3cr3t/key";
  auto command = build_fetch_command(fetch);
  ASSERT_TRUE(command);
  for (const char* secret : {"hf_secret", "s3cr3t", "AKID"})
    EXPECT_EQ(command->command.find(secret), std::string::npos) << secret;
  EXPECT_NE(command->env.at("HAUL_CURL_CONFIG").find("user = \"AKID:s3cr3t/key\""),
            std::string::npos);
  // The header reaches the server intact through curl's config quoting.
  fetch.aws_sigv4.clear();
  ASSERT_EQ(run(*build_fetch_command(fetch)), 0) << output;
  const auto requests = server.requests_for("/model.safetensors");
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.back().headers.at("authorization"), "Bearer hf_secret\"quoted\\token");
}

// Issue 16: a command printing its own secrets (curl -v shows headers) keeps
// none of them in the output haul keeps.
TEST_F(FetchScriptTest, TheKeptOutputMasksEverySecretTheFetchCarries) {
  RemoteFetch fetch = fetch_of("/model.safetensors");
  fetch.url += "?X-Amz-Signature=abcdef0123456789";
  fetch.headers = {"Authorization: Bearer hf_printedsecret"};
  fetch.aws_user = "AKIDPRINTED:s3cr3tprinted";
  auto command = build_fetch_command(fetch);
  ASSERT_TRUE(command);
  std::vector<std::string> secrets = command->secrets;
  for (const auto& [name, value] : command->env) secrets.push_back(value);
  OutputTail tail(secrets);
  tail.feed("> Authorization: Bearer hf_printedsecret\r\n> GET " + fetch.url +
            "\nkey AKIDPRINTED:s3cr3tprinted, secret s3cr3tprinted\n");
  const std::string kept = tail.text();
  for (const char* secret : {"hf_printedsecret", "abcdef0123456789", "s3cr3tprinted"})
    EXPECT_EQ(kept.find(secret), std::string::npos) << secret << " in " << kept;
  EXPECT_NE(kept.find("Authorization: ***"), std::string::npos) << kept;
}

TEST_F(FetchScriptTest, ResumesAPartialFileWithARangeRequest) {
  fs::create_directories(final_path().parent_path());
  std::ofstream(final_path().string() + ".part", std::ios::binary) << body.substr(0, 100000);
  ASSERT_EQ(run(*build_fetch_command(fetch_of("/model.safetensors"))), 0) << output;
  EXPECT_EQ(read_file(final_path()), body);
  EXPECT_EQ(server.requests_for("/model.safetensors").back().headers.at("range"), "bytes=100000-");
  EXPECT_LE(server.bytes_sent("/model.safetensors"), body.size() - 100000 + 1000);
}

TEST_F(FetchScriptTest, APartTheServerCannotResumeIsFetchedAgainWhole) {
  server.add("/plain.safetensors", Resource{.body = body, .ranges = false});
  fs::create_directories(final_path().parent_path());
  std::ofstream(final_path().string() + ".part", std::ios::binary) << body.substr(0, 100000);
  ASSERT_EQ(run(*build_fetch_command(fetch_of("/plain.safetensors"))), 0) << output;
  EXPECT_EQ(read_file(final_path()), body);
  EXPECT_NE(output.find("cannot resume"), std::string::npos) << output;
}

TEST_F(FetchScriptTest, AFileAlreadyInPlaceIsNotFetchedAgain) {
  fs::create_directories(final_path().parent_path());
  std::ofstream(final_path(), std::ios::binary) << body;
  ASSERT_EQ(run(*build_fetch_command(fetch_of("/model.safetensors"))), 0) << output;
  EXPECT_TRUE(server.requests_for("/model.safetensors").empty());
  EXPECT_NE(output.find("already complete"), std::string::npos) << output;
}

TEST_F(FetchScriptTest, AShaMismatchFailsAndLeavesNothingAtTheFinalPath) {
  RemoteFetch fetch = fetch_of("/model.safetensors");
  fetch.sha256 = std::string(64, 'a');
  EXPECT_EQ(run(*build_fetch_command(fetch)), 1);
  EXPECT_NE(output.find("SHA-256 mismatch"), std::string::npos) << output;
  EXPECT_FALSE(fs::exists(final_path()));
  EXPECT_FALSE(fs::exists(final_path().string() + ".part")) << "a bad part is not resumed";
}

TEST_F(FetchScriptTest, AnHttpErrorFailsWithCurlsReason) {
  EXPECT_EQ(run(*build_fetch_command(fetch_of("/missing.safetensors"))), 22);
  EXPECT_NE(output.find("404"), std::string::npos) << output;
  EXPECT_FALSE(fs::exists(final_path()));
}

TEST_F(FetchScriptTest, ShellMetacharactersInPathsStayLiteral) {
  RemoteFetch fetch = fetch_of("/model.safetensors");
  fetch.directory = "models/$(touch pwned)`touch pwned2`";
  fetch.relative_path = "it's; touch pwned3 \"x\".safetensors";
  fetch.sidecars = {{"meta $(touch pwned4).json", "{\"name\": \"it's $HOME\"}"}};
  ASSERT_EQ(run(*build_fetch_command(fetch)), 0) << output;
  const fs::path dir = home / "models/$(touch pwned)`touch pwned2`";
  EXPECT_EQ(read_file(dir / "it's; touch pwned3 \"x\".safetensors"), body);
  EXPECT_EQ(read_file(dir / "meta $(touch pwned4).json"), "{\"name\": \"it's $HOME\"}");
  for (const char* marker : {"pwned", "pwned2", "pwned3", "pwned4"}) {
    EXPECT_FALSE(fs::exists(home / marker)) << marker;
    EXPECT_FALSE(fs::exists(fs::current_path() / marker)) << marker;
  }
}

TEST_F(FetchScriptTest, AnAbsoluteDirectoryIsUsedAsIs) {
  RemoteFetch fetch = fetch_of("/model.safetensors");
  fetch.directory = (home / "elsewhere").string();
  ASSERT_EQ(run(*build_fetch_command(fetch)), 0) << output;
  EXPECT_EQ(read_file(home / "elsewhere/model.safetensors"), body);
}

TEST_F(FetchScriptTest, ThePartialCleanupRemovesOnlyPartFiles) {
  RemoteFetch odd = fetch_of("/model.safetensors");
  odd.relative_path = "it's $(touch pwned).safetensors";
  RemoteFetch bad = fetch_of("/model.safetensors");
  bad.relative_path = "../../escape";
  const fs::path dir = home / "models/checkpoints";
  fs::create_directories(dir);
  for (const char* name :
       {"model.safetensors.part", "it's $(touch pwned).safetensors.part", "model.safetensors"})
    std::ofstream(dir / name) << "x";
  FetchCommand cleanup{build_partial_cleanup({fetch_of("/model.safetensors"), odd, bad}), {}};
  ASSERT_EQ(run(cleanup), 0) << output;
  EXPECT_FALSE(fs::exists(dir / "model.safetensors.part"));
  EXPECT_FALSE(fs::exists(dir / "it's $(touch pwned).safetensors.part"));
  EXPECT_TRUE(fs::exists(dir / "model.safetensors")) << "only partial files go";
  EXPECT_FALSE(fs::exists(home / "pwned"));
  EXPECT_EQ(cleanup.command.find("escape"), std::string::npos) << cleanup.command;
}

TEST_F(FetchScriptTest, LinksAreMadeAfterTheFileAndRepairedButNeverOverAFile) {
  RemoteFetch fetch = fetch_of("/model.safetensors");
  const fs::path absolute_link = home / "other-ui/checkpoints/m.safetensors";
  fetch.links = {"models/sd/m.safetensors", absolute_link.string()};
  fs::create_directories(home / "models/sd");
  fs::create_symlink(home / "nowhere", home / "models/sd/m.safetensors");  // stale: repaired
  auto command = build_fetch_command(fetch);
  ASSERT_TRUE(command) << command.error().message;
  ASSERT_EQ(run(*command), 0) << output;
  for (const fs::path link : {home / "models/sd/m.safetensors", absolute_link}) {
    ASSERT_TRUE(fs::is_symlink(link)) << link;
    EXPECT_EQ(fs::canonical(link), fs::canonical(final_path())) << link;
  }
  // Already complete: the links are checked again; a real file is kept.
  fs::remove(absolute_link);
  { std::ofstream(absolute_link) << "user's own file"; }
  ASSERT_NE(run(*command), 0) << output;
  EXPECT_NE(output.find("is not a link; not replacing it"), std::string::npos) << output;
  EXPECT_EQ(read_file(absolute_link), "user's own file");
  EXPECT_EQ(read_file(final_path()), body);

  fetch.links = {"../outside"};
  EXPECT_FALSE(build_fetch_command(fetch)) << "a link may not climb out of UI_HOME";
}

TEST(FetchScript, RefusesUnsafePathsAndControlCharacters) {
  RemoteFetch fetch;
  fetch.url = "https://example.com/a";
  fetch.relative_path = "../escape.bin";
  auto refused = build_fetch_command(fetch);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("../escape.bin"), std::string::npos);
  fetch.relative_path = "ok.bin";
  fetch.headers = {"Authorization: Bearer a\nInjected: yes"};
  refused = build_fetch_command(fetch);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "header Authorization contains a control character");
  fetch.headers.clear();
  fetch.url.clear();
  EXPECT_FALSE(build_fetch_command(fetch));
}

}  // namespace
}  // namespace haul::remote
