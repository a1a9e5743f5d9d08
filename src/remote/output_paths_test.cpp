// Output paths of remote commands: from the command line and from what the
// tools print (the outputs are the real tools' captured in
// progress/testdata).
#include "remote/output_paths.hpp"

#include <gtest/gtest.h>

#include "remote/progress/progress_test_support.hpp"

namespace haul::remote {
namespace {

using Files = std::vector<std::string>;
const std::map<std::string, std::string> kVars{{"UI_HOME", "/workspace/ComfyUI"}};

Files files(std::string_view command, const std::map<std::string, std::string>& vars = kVars) {
  return plan_outputs(command, vars).files;
}

TEST(PlanOutputs, WgetNamesTheFileAfterTheUrlInItsPrefix) {
  EXPECT_EQ(files("wget -P \"$UI_HOME\"/models/loras https://h/files/wan.safetensors"),
            Files{"/workspace/ComfyUI/models/loras/wan.safetensors"});
  EXPECT_EQ(files("wget -c --directory-prefix=$UI_HOME/models https://h/a/b.bin"),
            Files{"/workspace/ComfyUI/models/b.bin"});
  // wget keeps the query and decodes %XX; a directory URL is index.html.
  EXPECT_EQ(files("wget 'https://h/My%20Model.bin?x=1&y=2' https://h/dir/ https://h"),
            (Files{"My Model.bin?x=1&y=2", "index.html"}));
  EXPECT_EQ(files("wget -qO- https://h/a.sh | sh"), Files{});
  EXPECT_EQ(files("wget -nc -O \"$UI_HOME/models/vae/v.sft\" https://h/x"),
            Files{"/workspace/ComfyUI/models/vae/v.sft"});
  EXPECT_EQ(files("wget -O out.bin -P ignored https://h/x"), Files{"out.bin"});
  // The server names the file: only wget's output will tell.
  EXPECT_EQ(files("wget --content-disposition -P d https://civitai.com/api/download/models/1"),
            Files{});
  EXPECT_EQ(files("wget -i list.txt"), Files{});
}

TEST(PlanOutputs, CurlWritesItsOutputOptionsOrTheRemoteName) {
  EXPECT_EQ(files("curl -fL -o \"$UI_HOME/models/checkpoints/flux.safetensors\" --create-dirs "
                  "https://h/f"),
            Files{"/workspace/ComfyUI/models/checkpoints/flux.safetensors"});
  EXPECT_EQ(files("curl -sSLo a.bin https://h/1 --output b.bin https://h/2 -o -"),
            (Files{"a.bin", "b.bin"}));
  EXPECT_EQ(files("curl -LO 'https://h/C%20url.bin?q=1' --output-dir /tmp/x"),
            Files{"/tmp/x/C%20url.bin"});
  EXPECT_EQ(files("curl -OJ https://h/name"), Files{});
  EXPECT_EQ(files("curl -H 'Authorization: Bearer x' -o m.bin https://h/f"), Files{"m.bin"});
}

TEST(PlanOutputs, Aria2cWritesItsDirectoryAndNameAndAControlFile) {
  EXPECT_EQ(files("aria2c -x 4 -d \"$UI_HOME/models/vae\" -o wan_vae.safetensors https://h/v"),
            (Files{"/workspace/ComfyUI/models/vae/wan_vae.safetensors",
                   "/workspace/ComfyUI/models/vae/wan_vae.safetensors.aria2"}));
  EXPECT_EQ(files("aria2c --dir=out 'https://h/A%20ria.bin?token=1' https://mirror/A.bin"),
            (Files{"out/A ria.bin", "out/A ria.bin.aria2"}));
  EXPECT_EQ(files("aria2c -Z https://h/a.bin https://h/b.bin"),
            (Files{"a.bin", "a.bin.aria2", "b.bin", "b.bin.aria2"}));
  EXPECT_EQ(files("aria2c -i urls.txt -d d"), Files{});
}

// Regression (fuzzing): `-o ~/x` put the login-directory marker inside a path.
TEST(PlanOutputs, Aria2cOutIsAlwaysInsideItsDirectory) {
  EXPECT_EQ(files("aria2c -o ~/x -O https://h/c"), Files{});
  EXPECT_EQ(files("aria2c -d /d -o /x https://h/c"), (Files{"/d/x", "/d/x.aria2"}));
}

TEST(PlanOutputs, FollowsCdAssignmentsAndShellC) {
  EXPECT_EQ(files("cd \"$UI_HOME\"/models/loras && wget https://h/a.bin"),
            Files{"/workspace/ComfyUI/models/loras/a.bin"});
  EXPECT_EQ(files("cd models; curl -o x.bin https://h/x; cd; curl -o y.bin https://h/y"),
            (Files{"models/x.bin", "y.bin"}));
  EXPECT_EQ(files("D=$UI_HOME/models/unet; mkdir -p $D && wget -P $D https://h/u.gguf"),
            Files{"/workspace/ComfyUI/models/unet/u.gguf"});
  EXPECT_EQ(files("export D=/data; bash -c 'cd $D && wget https://h/a'"), Files{"/data/a"});
  // Not exported: the child shell does not have it.
  EXPECT_EQ(files("D=/data; bash -c 'wget -P $D https://h/a'"), Files{});
  EXPECT_EQ(files("bash -lc \"wget -P '$UI_HOME' https://h/a\""), Files{"/workspace/ComfyUI/a"});
  // A prefix assignment reaches the command's environment, not its words.
  EXPECT_EQ(files("D=/x wget -P \"$D\" https://h/a"), Files{});
  EXPECT_EQ(files("sudo -u me timeout -s KILL 1h nice -n 5 env -C /srv A=1 wget https://h/a"),
            Files{"/srv/a"});
  EXPECT_EQ(files("~/bin/wget -P ~/dl https://h/a; wget -P \"$HOME/x\" https://h/b"),
            (Files{"dl/a", "x/b"}));
}

TEST(PlanOutputs, LeavesOutWhatItCannotKnow) {
  EXPECT_EQ(files("cd $(mktemp -d) && wget https://h/a && wget -P /abs https://h/b"),
            Files{"/abs/b"});
  EXPECT_EQ(files("wget -P \"$WORKSPACE\" https://h/a"), Files{});
  EXPECT_EQ(files("for u in a b; do wget -P /d $u; done"), Files{});
  EXPECT_EQ(files("curl -o *.bin https://h/a"), Files{});
  EXPECT_EQ(files("cd x | true; wget https://h/a"), Files{"a"}) << "a pipeline's cd does not last";
  EXPECT_EQ(files("(cd sub && wget https://h/a); wget https://h/b"), (Files{"sub/a", "b"}));
  EXPECT_EQ(files("wget -P $UI_HOME https://h/a", {{"UI_HOME", "/with space"}}), Files{})
      << "unquoted, the shell splits it";
  EXPECT_EQ(files("hf download org/repo f.safetensors --local-dir x; civitdl 1 d; echo a"),
            Files{});
}

TEST(PlanOutputs, ReportsTheDirectoryTheToolsRunIn) {
  EXPECT_EQ(plan_outputs("wget https://h/a", kVars).tool_dir, std::optional<std::string>(""));
  EXPECT_EQ(plan_outputs("cd \"$UI_HOME\" && aria2c https://h/a", kVars).tool_dir,
            std::optional<std::string>("/workspace/ComfyUI"));
  EXPECT_EQ(plan_outputs("wget https://h/a; cd x; wget https://h/b", kVars).tool_dir, std::nullopt);
  EXPECT_EQ(plan_outputs("cd $(x); curl -O https://h/a", kVars).tool_dir, std::nullopt);
  EXPECT_EQ(plan_outputs("echo hi", kVars).tool_dir, std::nullopt);
}

TEST(JoinPath, NormalisesWithoutResolvingDotDot) {
  EXPECT_EQ(join_path("", "a//b/./c/"), "a/b/c");
  EXPECT_EQ(join_path("/w", "m/../x"), "/w/m/../x");
  EXPECT_EQ(join_path("d", "/abs//x"), "/abs/x");
  EXPECT_EQ(join_path("", "."), "");
  EXPECT_EQ(join_path("/", "."), "/");
}

Files learned(std::string_view fixture, std::optional<std::string> dir,
              std::set<std::string>* completed = nullptr, std::size_t chunk = 7) {
  OutputPathLearner learner(std::move(dir));
  const std::string text = progress::testing::read_testdata(fixture);
  for (std::size_t at = 0; at < text.size(); at += chunk) learner.feed(text.substr(at, chunk));
  learner.finish();
  if (completed != nullptr) *completed = learner.completed();
  return learner.written();
}

TEST(OutputPathLearner, ReadsWgetsSavingToAndSavedLines) {
  std::set<std::string> completed;
  EXPECT_EQ(learned("wget_pty_bar.txt", "/home/u", &completed),
            Files{"/home/u/out/model.safetensors"});
  EXPECT_EQ(completed, std::set<std::string>{"/home/u/out/model.safetensors"});
  EXPECT_EQ(learned("wget_dot_default.txt", ""), Files{"out/model.safetensors"});
  EXPECT_EQ(learned("wget_pty_404.txt", ""), Files{});
  EXPECT_EQ(learned("wget_pty_bar.txt", std::nullopt), Files{}) << "relative, directory unknown";

  OutputPathLearner learner(std::nullopt);
  learner.feed("Saving to: \xE2\x80\x98/w/models/x.safetensors.1\xE2\x80\x99\r\n");
  learner.feed("2026-11-22 02:31:21 (2.01 MB/s) - '/w/a b' saved [100/200]\n");
  EXPECT_EQ(learner.written(), (Files{"/w/models/x.safetensors.1", "/w/a b"}));
  EXPECT_TRUE(learner.completed().empty()) << "100 of 200 bytes is not complete";
}

TEST(OutputPathLearner, ReadsAria2cRenamesCompletionsAndResults) {
  std::set<std::string> completed;
  EXPECT_EQ(learned("aria2c_pty_two_items.txt", "/h", &completed),
            (Files{"/h/out/model.1.safetensors", "/h/out/model.1.safetensors.aria2",
                   "/h/out/big.bin", "/h/out/big.bin.aria2"}));
  EXPECT_EQ(completed, (std::set<std::string>{"/h/out/model.1.safetensors", "/h/out/big.bin"}));
  EXPECT_EQ(learned("aria2c_404.txt", "", &completed), Files{}) << "an ERR row names the URI";
  EXPECT_TRUE(completed.empty());
  OutputPathLearner learner(std::string("/d"));
  learner.feed(" *** Download Progress Summary as of Mon Dec  7 ***\nFILE: dl/part.bin\n\n");
  learner.feed("Download Results:\ngid   |stat|avg speed  |path/URI\n");
  learner.feed("======+====+===========+====\nab12cd|INPR|   1.0MiB/s|dl/part.bin\n");
  EXPECT_EQ(learner.written(), (Files{"/d/dl/part.bin", "/d/dl/part.bin.aria2"}));
  EXPECT_TRUE(learner.completed().empty());
}

TEST(OutputPathLearner, RemembersABoundedNumberOfPaths) {
  OutputPathLearner learner(std::string(""));
  for (int i = 0; i < 1000; ++i) learner.feed("Saving to: 'f" + std::to_string(i) + "'\n");
  EXPECT_EQ(learner.written().size(), OutputPathLearner::kMaxPaths);
}

}  // namespace
}  // namespace haul::remote
