// The remote presence script run for real: each shell this machine has (sh,
// dash, bash) runs presence_script's output against files in a scratch
// directory, and parse_presence_output must judge every file as the local
// checker does. Also: awkward file names, a login banner around the output,
// output cut short, and instances without stat or without sha256sum.
#include "models/remote_presence.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "models/presence_test_support.hpp"
#include "net/sha256.hpp"

namespace haul::models {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_file;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `script` with `shell`, PATH set to `path`; its stdout.
std::string run(const TempDir& dir, const std::string& shell, const std::string& script,
                const std::string& path = "/usr/local/bin:/usr/bin:/bin") {
  write_file(dir / "script.sh", script);
  const std::string command = "env -i PATH='" + path + "' " + shell + " '" +
                              (dir / "script.sh").string() + "' >'" + (dir / "out").string() +
                              "' 2>'" + (dir / "err").string() + "'";
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << command << "\n" << read_all(dir / "err");
  return read_all(dir / "out");
}

ModelFile file_of(std::string path, std::optional<std::uint64_t> size = std::nullopt,
                  std::string sha256 = {}) {
  ModelFile file;
  file.path = std::move(path);
  file.size = size;
  file.sha256 = std::move(sha256);
  return file;
}

// The query the daemon would send for `file` of `group`: every candidate.
RemoteFileQuery query_of(const ModelFolders& folders, std::string_view group,
                         const ModelFile& file) {
  RemoteFileQuery query;
  for (const fs::path& dir : folders.dirs(group))
    query.candidates.push_back((dir / file.path).string());
  query.size = file.size;
  query.sha256 = file.sha256;
  return query;
}

// A scratch tree with one file in every state, in two roots.
struct Tree {
  explicit Tree(const TempDir& dir) : folders({dir / "a", dir / "b"}, std::nullopt, {}) {
    const fs::path a = dir / "a";
    const fs::path b = dir / "b";
    write_file(a / "loras/present.safetensors", "0123456789");
    write_file(a / "loras/partial.safetensors.part", "01234");
    write_file(a / "loras/short.safetensors", "012");
    write_file(a / "loras/hashed.safetensors", "good bytes");
    write_file(a / "loras/wrong hash.safetensors", "evil bytes");
    write_file(b / "loras/second.safetensors", "in b");       // only in the second root
    write_file(a / "loras/both.safetensors", "wrong size!");  // corrupt in a ...
    write_file(b / "loras/both.safetensors", "ok");           // ... present in b
    write_file(a / "loras/it's a \"quoted\" name $(touch pwned) `x` *.safetensors", "q");
    write_file(a / "loras/new\nline \\ back.safetensors", "nl");
    write_file(a / "loras/-dash.safetensors", "d");
    write_file(dir / "target.safetensors", "linked");
    fs::create_symlink(dir / "target.safetensors", a / "loras/link.safetensors");
    fs::create_symlink(dir / "gone.safetensors", a / "loras/dangling.safetensors");
    fs::create_directories(a / "loras/dir.safetensors");
    fs::create_directory_symlink(dir / "a", a / "loras/dirlink.safetensors");
    write_file(a / "checkpoints/sub dir/m.ckpt", "mm");

    const std::string good = net::sha256_hex("good bytes");
    files = {
        {"loras", file_of("present.safetensors", 10)},
        {"loras", file_of("absent.safetensors", 10)},
        {"loras", file_of("partial.safetensors", 10)},
        {"loras", file_of("short.safetensors", 10)},
        {"loras", file_of("hashed.safetensors", 10, good)},
        {"loras", file_of("wrong hash.safetensors", 10, good)},
        {"loras", file_of("second.safetensors", 4)},
        {"loras", file_of("both.safetensors", 2)},
        {"loras", file_of("it's a \"quoted\" name $(touch pwned) `x` *.safetensors", 1)},
        {"loras", file_of("new\nline \\ back.safetensors", 2)},
        {"loras", file_of("-dash.safetensors")},
        {"loras", file_of("link.safetensors", 6, net::sha256_hex("linked"))},
        {"loras", file_of("dangling.safetensors", 1)},
        {"loras", file_of("dir.safetensors", 1)},
        {"loras", file_of("dirlink.safetensors")},
        {"checkpoints", file_of("sub dir/m.ckpt", 2)},
        {"checkpoints", file_of("unsized.ckpt")},
        {"loras", file_of("hashed.safetensors", std::nullopt, good)},  // no size: the hash decides
    };
    for (const auto& [group, file] : files) queries.push_back(query_of(folders, group, file));
  }

  std::vector<FileCheck> local(bool verify) const {
    const PresenceChecker checker(folders);
    std::vector<FileCheck> out;
    for (const auto& [group, file] : files) out.push_back(checker.check_file(group, file, verify));
    return out;
  }

  ModelFolders folders;
  std::vector<std::pair<std::string, ModelFile>> files;
  std::vector<RemoteFileQuery> queries;
};

class RemotePresenceShell : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (::access(GetParam().c_str(), X_OK) != 0) GTEST_SKIP() << GetParam() << " is not installed";
  }
};

TEST_P(RemotePresenceShell, JudgesEveryFileAsTheLocalCheckerDoes) {
  TempDir dir;
  const Tree tree(dir);
  for (const bool verify : {false, true}) {
    SCOPED_TRACE(verify ? "verify" : "no verify");
    const std::string output = run(dir, GetParam(), presence_script(tree.queries, verify));
    auto remote = parse_presence_output(output, tree.queries);
    ASSERT_TRUE(remote) << remote.error().message << "\n" << output;
    const std::vector<FileCheck> local = tree.local(verify);
    ASSERT_EQ(remote->size(), local.size());
    for (std::size_t i = 0; i < local.size(); ++i) {
      EXPECT_EQ((*remote)[i], local[i])
          << "file " << i << ": " << tree.files[i].second.path
          << "\nremote: " << presence_name((*remote)[i].state) << " " << (*remote)[i].path << " "
          << (*remote)[i].reason << "\nlocal:  " << presence_name(local[i].state) << " "
          << local[i].path << " " << local[i].reason;
    }
    EXPECT_FALSE(fs::exists(dir / "pwned")) << "a file name was run as a command";
    EXPECT_FALSE(fs::exists("pwned"));
  }
}

TEST_P(RemotePresenceShell, CoversEveryState) {
  TempDir dir;
  const Tree tree(dir);
  auto checks = parse_presence_output(run(dir, GetParam(), presence_script(tree.queries, true)),
                                      tree.queries);
  ASSERT_TRUE(checks) << checks.error().message;
  const std::vector<FileCheck>& c = *checks;
  const fs::path a = dir / "a/loras";
  EXPECT_EQ(c[0].state, Presence::kPresent);
  EXPECT_EQ(c[0].path, (a / "present.safetensors").string());
  EXPECT_EQ(c[1].state, Presence::kMissing);
  EXPECT_EQ(c[1].path, (a / "absent.safetensors").string());
  EXPECT_EQ(c[2].state, Presence::kPartial);
  EXPECT_EQ(c[2].bytes_done, 5u);
  EXPECT_EQ(c[3].state, Presence::kCorrupt);
  EXPECT_EQ(c[3].reason, "size 3 differs from 10");
  EXPECT_EQ(c[4].state, Presence::kPresent);
  EXPECT_TRUE(c[4].verified);  // hashed with sha256sum on the "instance"
  EXPECT_EQ(c[5].state, Presence::kCorrupt);
  EXPECT_EQ(c[5].reason, "sha256 " + net::sha256_hex("evil bytes") + " differs from " +
                             net::sha256_hex("good bytes"));
  EXPECT_EQ(c[6].state, Presence::kPresent);
  EXPECT_EQ(c[6].path, (dir / "b/loras/second.safetensors").string());
  EXPECT_EQ(c[7].path, (dir / "b/loras/both.safetensors").string());
  EXPECT_EQ(c[8].state, Presence::kPresent);  // quotes, $( ), backquotes, *
  EXPECT_EQ(c[9].state, Presence::kPresent);  // a line break and a backslash
  EXPECT_EQ(c[10].state, Presence::kPresent);
  EXPECT_EQ(c[11].state, Presence::kPresent);  // through the symlink, hashed
  EXPECT_TRUE(c[11].verified);
  EXPECT_EQ(c[12].state, Presence::kMissing);
  EXPECT_EQ(c[12].reason, "dangling symlink at " + (a / "dangling.safetensors").string());
  EXPECT_EQ(c[13].state, Presence::kCorrupt);
  EXPECT_EQ(c[13].reason, "not a regular file");
  EXPECT_EQ(c[14].state, Presence::kCorrupt);  // a symlink to a directory is not dangling
  EXPECT_EQ(c[15].state, Presence::kPresent);
  EXPECT_EQ(c[16].state, Presence::kMissing);
  EXPECT_EQ(c[17].state, Presence::kPresent);
  EXPECT_TRUE(c[17].verified);
}

TEST_P(RemotePresenceShell, WorksWithoutStat) {
  // BusyBox-less minimal images may lack stat(1): sizes come from wc.
  TempDir dir;
  const Tree tree(dir);
  const fs::path bin = dir / "bin";
  fs::create_directories(bin);
  for (const char* tool : {"wc", "tr", "cut", "sha256sum", "env"}) {
    const std::string found = "/usr/bin/" + std::string(tool);
    fs::create_symlink(fs::exists(found) ? found : "/bin/" + std::string(tool), bin / tool);
  }
  auto checks = parse_presence_output(
      run(dir, GetParam(), presence_script(tree.queries, true), bin.string()), tree.queries);
  ASSERT_TRUE(checks) << checks.error().message;
  EXPECT_EQ(*checks, tree.local(true));
}

TEST_P(RemotePresenceShell, WithoutAHashToolSizesDecideUnverified) {
  TempDir dir;
  const Tree tree(dir);
  const fs::path bin = dir / "bin";
  fs::create_directories(bin);
  for (const char* tool : {"stat", "wc", "tr", "cut"}) {
    const std::string found = "/usr/bin/" + std::string(tool);
    fs::create_symlink(fs::exists(found) ? found : "/bin/" + std::string(tool), bin / tool);
  }
  auto checks = parse_presence_output(
      run(dir, GetParam(), presence_script(tree.queries, true), bin.string()), tree.queries);
  ASSERT_TRUE(checks) << checks.error().message;
  EXPECT_EQ(*checks, tree.local(false));  // as if not verified
  EXPECT_EQ((*checks)[5].state, Presence::kPresent);
  EXPECT_FALSE((*checks)[4].verified);
}

INSTANTIATE_TEST_SUITE_P(Shells, RemotePresenceShell,
                         ::testing::Values("/bin/sh", "/bin/dash", "/bin/bash"),
                         [](const auto& shell) {
                           return fs::path(shell.param).filename().string();
                         });

std::vector<RemoteFileQuery> three_queries() {
  return {{{"/m/a", "/n/a"}, 3, ""}, {{"/m/b"}, std::nullopt, ""}, {{"/m/c"}, 5, ""}};
}

const std::string kOutput =
    "\n"
    "@@HAUL_PRESENCE 0 F:0:2 F:1:3\n"
    "@@HAUL_PRESENCE 1 D:0\n"
    "@@HAUL_PRESENCE 2 P:0:4\n"
    "@@HAUL_PRESENCE_END 3\n";

TEST(RemotePresenceOutput, ReadsTheObservations) {
  auto checks = parse_presence_output(kOutput, three_queries());
  ASSERT_TRUE(checks) << checks.error().message;
  ASSERT_EQ(checks->size(), 3u);
  EXPECT_EQ((*checks)[0].state, Presence::kPresent);
  EXPECT_EQ((*checks)[0].path, "/n/a");
  EXPECT_EQ((*checks)[1].state, Presence::kMissing);
  EXPECT_EQ((*checks)[1].reason, "dangling symlink at /m/b");
  EXPECT_EQ((*checks)[2].state, Presence::kPartial);
  EXPECT_EQ((*checks)[2].bytes_done, 4u);
}

TEST(RemotePresenceOutput, SkipsABannerAroundIt) {
  const auto plain = parse_presence_output(kOutput, three_queries());
  ASSERT_TRUE(plain);
  for (const std::string& output : {
           "Welcome to Ubuntu 22.04 LTS\n * Documentation: https://help.ubuntu.com\n\n" + kOutput +
               "logout\nConnection to 10.0.0.1 closed.\n",
           "motd without a line end" + kOutput.substr(1),  // a banner glued to the first line
           "@@HAUL_PRESENCE is mentioned in a banner\n" + kOutput,  // not a file number
       }) {
    auto got = parse_presence_output(output, three_queries());
    if (output.starts_with("@@HAUL_PRESENCE is")) {
      // A banner line that looks like the script's is an error, not a guess.
      ASSERT_FALSE(got);
      EXPECT_EQ(got.error().code, ErrorCode::kProtocol);
      continue;
    }
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(*got, *plain);
  }
  // A terminal's CRLF line ends.
  std::string crlf;
  for (const char c : kOutput) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  auto got = parse_presence_output(crlf, three_queries());
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, *plain);
  // Anything after the end line is ignored.
  got = parse_presence_output(kOutput + "@@HAUL_PRESENCE 9 garbage\n", three_queries());
  ASSERT_TRUE(got) << got.error().message;
}

TEST(RemotePresenceOutput, OutputCutShortIsAProtocolError) {
  const std::size_t complete = kOutput.rfind('3') + 1;  // the end line's count
  for (std::size_t cut = 0; cut < complete; ++cut) {
    auto got = parse_presence_output(kOutput.substr(0, cut), three_queries());
    ASSERT_FALSE(got) << "cut at " << cut;
    EXPECT_EQ(got.error().code, ErrorCode::kProtocol);
  }
  auto got = parse_presence_output(kOutput.substr(0, complete), three_queries());
  EXPECT_TRUE(got);
  // Without the end line the first file is named: nothing can be trusted.
  got =
      parse_presence_output(kOutput.substr(0, kOutput.find("@@HAUL_PRESENCE 2")), three_queries());
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message, "the presence check's output stopped before file 0 of 3");
  // With it, a file left out is named.
  got = parse_presence_output("@@HAUL_PRESENCE 0\n@@HAUL_PRESENCE 1\n@@HAUL_PRESENCE_END 3\n",
                              three_queries());
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message, "the presence check's output stopped before file 2 of 3");
}

TEST(RemotePresenceOutput, MalformedLinesNameTheLine) {
  struct Case {
    std::string line;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"@@HAUL_PRESENCE 7 F:0:1", "presence output line 2: bad file number"},
      {"@@HAUL_PRESENCE 0 F:5:1", "presence output line 2: malformed observation 'F:5:1'"},
      {"@@HAUL_PRESENCE 0 X:0", "presence output line 2: malformed observation 'X:0'"},
      {"@@HAUL_PRESENCE 0 F:0:12x", "presence output line 2: malformed observation 'F:0:12x'"},
      {"@@HAUL_PRESENCE 0 F:0:1:nothex",
       "presence output line 2: malformed observation 'F:0:1:nothex'"},
      {"@@HAUL_PRESENCE 0  F:0:1", "presence output line 2: malformed observation ''"},
      {"@@HAUL_PRESENCE_END 2",
       "presence output line 2: the end line does not match the files asked about"},
  };
  for (const Case& c : cases) {
    auto got = parse_presence_output("banner\n" + c.line + "\n", three_queries());
    ASSERT_FALSE(got) << c.line;
    EXPECT_EQ(got.error().code, ErrorCode::kProtocol);
    EXPECT_EQ(got.error().message, c.message) << c.line;
  }
  auto twice = parse_presence_output("@@HAUL_PRESENCE 1\n@@HAUL_PRESENCE 1\n", three_queries());
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().message, "presence output line 2: file 1 reported twice");
  // A file whose size could not be read is there but unusable.
  auto unreadable = parse_presence_output(
      "@@HAUL_PRESENCE 0 F:0:\n@@HAUL_PRESENCE 1\n@@HAUL_PRESENCE 2\n@@HAUL_PRESENCE_END 3\n",
      three_queries());
  ASSERT_TRUE(unreadable) << unreadable.error().message;
  EXPECT_EQ((*unreadable)[0].state, Presence::kCorrupt);
  EXPECT_EQ((*unreadable)[0].reason, "its size cannot be read");
}

TEST(RemotePresenceScript, QuotesEveryPathAndNoFilesIsFine) {
  const std::string script =
      presence_script({{{"/m/it's", std::string("/m/nul\0x", 8)}, 3, std::string(64, 'A')}}, true);
  EXPECT_NE(script.find("hp 0 '3' '" + std::string(64, 'a') + "' '/m/it'\\''s' ''\n"),
            std::string::npos)
      << script;
  // Without verify no hash is passed, so the instance reads nothing.
  EXPECT_NE(presence_script({{{"/m/x"}, 3, std::string(64, 'a')}}).find("hp 0 '3' '' '/m/x'\n"),
            std::string::npos);
  TempDir dir;
  const std::string output = run(dir, "/bin/sh", presence_script({}));
  auto none = parse_presence_output(output, {});
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace haul::models
