// Presence of model files on a real disk, in a scratch directory: present,
// missing, partial, corrupt by size and by SHA-256, symlinks followed,
// several candidate folders (models roots, a ComfyUI install, its
// extra_model_paths.yaml), ".." refused, and the hash cache that makes a
// second verified check read nothing, also after a reload.
#include "models/presence.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

#include "models/presence_test_support.hpp"
#include "net/sha256.hpp"
#include "transfer/resume_state.hpp"

namespace haul::models {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_file;

EnvLookup no_env() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

ModelFile file_of(std::string path, std::optional<std::uint64_t> size = std::nullopt,
                  std::string sha256 = {}) {
  ModelFile file;
  file.source = "https://example.com/" + path;
  file.path = std::move(path);
  file.size = size;
  file.sha256 = std::move(sha256);
  return file;
}

// One models root, "root", in a scratch directory.
class PresenceTest : public ::testing::Test {
 protected:
  FileCheck check(std::string_view group, const ModelFile& file, bool verify = false) const {
    return PresenceChecker(folders_, cache_ptr_).check_file(group, file, verify);
  }
  fs::path root(std::string_view relative) const { return dir_ / "root" / relative; }

  TempDir dir_;
  ModelFolders folders_{{dir_ / "root"}, std::nullopt, {}};
  HashCache cache_;
  HashCache* cache_ptr_ = &cache_;
};

TEST(PresenceNames, RoundTripAndCombine) {
  for (const Presence p : {Presence::kPresent, Presence::kMissing, Presence::kPartial,
                           Presence::kCorrupt, Presence::kDownloading}) {
    EXPECT_EQ(parse_presence(presence_name(p)), p);
  }
  EXPECT_EQ(parse_presence("Present"), std::nullopt);
  EXPECT_EQ(combine_presence({}), Presence::kMissing);
  EXPECT_EQ(combine_presence({Presence::kPresent, Presence::kPresent}), Presence::kPresent);
  EXPECT_EQ(combine_presence({Presence::kPresent, Presence::kMissing}), Presence::kMissing);
  EXPECT_EQ(combine_presence({Presence::kMissing, Presence::kPartial}), Presence::kPartial);
  EXPECT_EQ(combine_presence({Presence::kPartial, Presence::kCorrupt}), Presence::kCorrupt);
  EXPECT_EQ(combine_presence({Presence::kCorrupt, Presence::kDownloading}), Presence::kDownloading);
}

TEST_F(PresenceTest, PresentWhenTheSizeMatchesOrNoneIsGiven) {
  write_file(root("loras/style.safetensors"), "0123456789");
  FileCheck got = check("loras", file_of("style.safetensors", 10));
  EXPECT_EQ(got.state, Presence::kPresent);
  EXPECT_EQ(got.path, root("loras/style.safetensors").string());
  EXPECT_EQ(got.size_on_disk, 10u);
  EXPECT_EQ(got.bytes_done, 10u);
  EXPECT_FALSE(got.verified);
  EXPECT_EQ(check("loras", file_of("style.safetensors")).state, Presence::kPresent);
  // A path below the group folder.
  write_file(root("checkpoints/sdxl/base.safetensors"), "x");
  EXPECT_EQ(check("checkpoints", file_of("sdxl/base.safetensors", 1)).state, Presence::kPresent);
}

TEST_F(PresenceTest, MissingNamesWhereTheFileWouldGo) {
  const FileCheck got = check("vae", file_of("ae.safetensors", 5));
  EXPECT_EQ(got.state, Presence::kMissing);
  EXPECT_EQ(got.path, root("vae/ae.safetensors").string());
  EXPECT_EQ(got.reason, "");
  EXPECT_EQ(got.bytes_done, 0u);
}

TEST_F(PresenceTest, APartFileIsPartialWithItsBytesDone) {
  write_file(root("vae/ae.safetensors.part"), std::string(300, 'p'));
  FileCheck got = check("vae", file_of("ae.safetensors", 1000));
  EXPECT_EQ(got.state, Presence::kPartial);
  EXPECT_EQ(got.path, root("vae/ae.safetensors").string());  // the final path
  EXPECT_EQ(got.size_on_disk, 300u);
  EXPECT_EQ(got.bytes_done, 300u);  // no state file: the .part's length
  EXPECT_EQ(got.reason, "unfinished download: 300 bytes done of 1000");

  // The engine's state file says which bytes are safely on disk (a
  // segmented download writes a sparse .part).
  transfer::ResumeState state;
  state.validator.size = 1000;
  state.done.add({0, 100});
  state.done.add({500, 550});
  write_file(root("vae/ae.safetensors.part.state"), transfer::serialize_resume_state(state));
  got = check("vae", file_of("ae.safetensors", 1000));
  EXPECT_EQ(got.state, Presence::kPartial);
  EXPECT_EQ(got.bytes_done, 150u);
  // A broken state file: the .part's length again.
  write_file(root("vae/ae.safetensors.part.state"), "{not json");
  EXPECT_EQ(check("vae", file_of("ae.safetensors", 1000)).bytes_done, 300u);

  // A finished file beside a stale .part is present.
  write_file(root("vae/ae.safetensors"), std::string(1000, 'a'));
  EXPECT_EQ(check("vae", file_of("ae.safetensors", 1000)).state, Presence::kPresent);
}

TEST_F(PresenceTest, CorruptWhenTheSizeDiffers) {
  write_file(root("loras/a.safetensors"), "short");
  const FileCheck got = check("loras", file_of("a.safetensors", 20));
  EXPECT_EQ(got.state, Presence::kCorrupt);
  EXPECT_EQ(got.path, root("loras/a.safetensors").string());
  EXPECT_EQ(got.size_on_disk, 5u);
  EXPECT_EQ(got.reason, "size 5 differs from 20");
  // A directory where the file should be is not a file.
  fs::create_directories(root("loras/dir.safetensors"));
  const FileCheck dir = check("loras", file_of("dir.safetensors"));
  EXPECT_EQ(dir.state, Presence::kCorrupt);
  EXPECT_EQ(dir.reason, "not a regular file");
}

TEST_F(PresenceTest, VerificationComparesTheSha256) {
  const std::string content = "the model's bytes";
  const std::string good = net::sha256_hex(content);
  const std::string bad = net::sha256_hex("other bytes");
  write_file(root("checkpoints/m.safetensors"), content);

  // Without verification the size decides.
  EXPECT_EQ(check("checkpoints", file_of("m.safetensors", content.size(), bad)).state,
            Presence::kPresent);
  EXPECT_TRUE(cache_.size() == 0) << "nothing hashed without verify";

  FileCheck got = check("checkpoints", file_of("m.safetensors", content.size(), bad), true);
  EXPECT_EQ(got.state, Presence::kCorrupt);
  EXPECT_EQ(got.reason, "sha256 " + good + " differs from " + bad);
  EXPECT_FALSE(got.verified);

  // Upper-case hex in the manifest is the same hash.
  std::string upper = good;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  got = check("checkpoints", file_of("m.safetensors", content.size(), upper), true);
  EXPECT_EQ(got.state, Presence::kPresent);
  EXPECT_TRUE(got.verified);
  // No size given: the hash alone decides.
  got = check("checkpoints", file_of("m.safetensors", std::nullopt, good), true);
  EXPECT_EQ(got.state, Presence::kPresent);
  EXPECT_TRUE(got.verified);
  // A size that differs is corrupt without reading the file.
  got = check("checkpoints", file_of("m.safetensors", content.size() + 1, good), true);
  EXPECT_EQ(got.state, Presence::kCorrupt);
  EXPECT_EQ(got.reason, "size 17 differs from 18");
}

TEST_F(PresenceTest, SymlinksAreFollowedAndADanglingOneIsMissing) {
  write_file(dir_ / "elsewhere/real.safetensors", "abc");
  fs::create_directories(root("loras"));
  fs::create_symlink(dir_ / "elsewhere/real.safetensors", root("loras/link.safetensors"));
  FileCheck got = check("loras", file_of("link.safetensors", 3, net::sha256_hex("abc")), true);
  EXPECT_EQ(got.state, Presence::kPresent);
  EXPECT_TRUE(got.verified);
  EXPECT_EQ(got.path, root("loras/link.safetensors").string());  // where it was found
  EXPECT_EQ(got.size_on_disk, 3u);                               // the target's size

  // A relative link, and a linked group folder.
  fs::create_directory_symlink(dir_ / "elsewhere", root("vae"));
  EXPECT_EQ(check("vae", file_of("real.safetensors", 3)).state, Presence::kPresent);

  fs::create_symlink("../../nowhere.safetensors", root("loras/dangling.safetensors"));
  got = check("loras", file_of("dangling.safetensors", 3));
  EXPECT_EQ(got.state, Presence::kMissing);
  EXPECT_EQ(got.path, root("loras/dangling.safetensors").string());
  EXPECT_EQ(got.reason, "dangling symlink at " + root("loras/dangling.safetensors").string());
}

TEST(Presence, AFileInASecondCandidateFolderCounts) {
  TempDir dir;
  const fs::path comfy = dir / "ComfyUI";
  write_file(comfy / "extra_model_paths.yaml",
             "shared:\n"
             "  base_path: ../shared\n"
             "  loras: |\n"
             "    loras\n"
             "    lycoris\n"
             "  text_encoders: te\n");
  auto folders = load_model_folders({dir / "root"}, comfy, {}, no_env());
  ASSERT_TRUE(folders) << folders.error().message;
  const PresenceChecker checker(*folders);

  // In the ComfyUI install's models/ folder, under the group's legacy name.
  write_file(comfy / "models/clip/t5.safetensors", "t5");
  FileCheck got = checker.check_file("text_encoders", file_of("t5.safetensors", 2), false);
  EXPECT_EQ(got.state, Presence::kPresent);
  EXPECT_EQ(got.path, (comfy / "models/clip/t5.safetensors").string());

  // In the second directory of an extra_model_paths.yaml block.
  write_file(dir / "shared/lycoris/l.safetensors", "lll");
  got = checker.check_file("loras", file_of("l.safetensors", 3), false);
  EXPECT_EQ(got.state, Presence::kPresent);
  EXPECT_EQ(got.path, (dir / "shared/lycoris/l.safetensors").string());

  // A missing file would go to the first candidate: the models root.
  got = checker.check_file("loras", file_of("absent.safetensors", 3), false);
  EXPECT_EQ(got.state, Presence::kMissing);
  EXPECT_EQ(got.path, (dir / "root/loras/absent.safetensors").string());

  // A corrupt copy in the root does not hide a good one further down; a
  // partial one neither.
  write_file(dir / "root/text_encoders/t5.safetensors", "broken");
  write_file(dir / "root/loras/l.safetensors.part", "l");
  EXPECT_EQ(checker.check_file("text_encoders", file_of("t5.safetensors", 2), false).path,
            (comfy / "models/clip/t5.safetensors").string());
  EXPECT_EQ(checker.check_file("loras", file_of("l.safetensors", 3), false).state,
            Presence::kPresent);
  // Without a good copy: the first corrupt one, before any partial one.
  write_file(dir / "root/loras/c.safetensors.part", "c");
  write_file(dir / "shared/loras/c.safetensors", "wrong size");
  got = checker.check_file("loras", file_of("c.safetensors", 3), false);
  EXPECT_EQ(got.state, Presence::kCorrupt);
  EXPECT_EQ(got.path, (dir / "shared/loras/c.safetensors").string());
}

TEST_F(PresenceTest, PathsThatLeaveTheirFolderAreRefusedUnread) {
  write_file(root("secret.safetensors"), "s");
  write_file(dir_ / "outside.safetensors", "o");
  const std::vector<std::string> refused = {"../secret.safetensors", "a/../../secret.safetensors",
                                            "..", "../../outside.safetensors",
                                            std::string("a\0b", 3)};
  for (const std::string& path : refused) {
    const FileCheck got = check("loras", file_of(path, 1));
    EXPECT_EQ(got.state, Presence::kMissing) << path;
    EXPECT_EQ(got.path, path);
    EXPECT_EQ(got.reason, "the path '" + path + "' leaves its folder");
  }
  // A group that is not a relative folder has no candidates.
  const FileCheck got = check("../root", file_of("secret.safetensors", 1));
  EXPECT_EQ(got.state, Presence::kMissing);
  EXPECT_EQ(got.reason, "the group '../root' is not a folder");
  EXPECT_EQ(check("/etc", file_of("passwd")).state, Presence::kMissing);
  // Inside the folder, "." and ".." that stay inside are fine.
  write_file(root("loras/x.safetensors"), "x");
  EXPECT_EQ(check("loras", file_of("./sub/../x.safetensors", 1)).state, Presence::kPresent);
}

TEST_F(PresenceTest, AnAbsolutePathIsCheckedWhereItIs) {
  // Seed 002's localPath.
  write_file(dir_ / "anywhere/model.bin", "1234");
  const FileCheck got = check("checkpoints", file_of((dir_ / "anywhere/./model.bin").string(), 4));
  EXPECT_EQ(got.state, Presence::kPresent);
  EXPECT_EQ(got.path, (dir_ / "anywhere/model.bin").string());
}

TEST_F(PresenceTest, TheHashCacheMakesASecondVerifiedCheckReadNothing) {
  const fs::path path = root("checkpoints/big.safetensors");
  const std::string content(100000, 'a');
  const std::string sha = net::sha256_hex(content);
  write_file(path, content);
  const timespec mtime = testing::mtime_of(path);

  EXPECT_EQ(check("checkpoints", file_of("big.safetensors", content.size(), sha), true).state,
            Presence::kPresent);
  EXPECT_EQ(cache_.size(), 1u);
  EXPECT_EQ(
      cache_.find(path.string(), content.size(), mtime.tv_sec * 1'000'000'000LL + mtime.tv_nsec),
      sha);
  const std::uint64_t version = cache_.version();

  // Other bytes of the same size with the old mtime: a check that read the
  // file would call it corrupt; the cached answer stands.
  write_file(path, std::string(100000, 'b'));
  testing::set_mtime(path, mtime);
  FileCheck got = check("checkpoints", file_of("big.safetensors", content.size(), sha), true);
  EXPECT_EQ(got.state, Presence::kPresent);
  EXPECT_TRUE(got.verified);
  EXPECT_EQ(cache_.version(), version) << "a cache hit stores nothing";

  // A new mtime invalidates the entry: the file is read again.
  testing::set_mtime(path, timespec{mtime.tv_sec + 10, 0});
  got = check("checkpoints", file_of("big.safetensors", content.size(), sha), true);
  EXPECT_EQ(got.state, Presence::kCorrupt);
  EXPECT_EQ(got.reason,
            "sha256 " + net::sha256_hex(std::string(100000, 'b')) + " differs from " + sha);
  EXPECT_GT(cache_.version(), version);

  // Without a cache every verified check reads the file.
  cache_ptr_ = nullptr;
  write_file(path, content);
  testing::set_mtime(path, timespec{mtime.tv_sec + 10, 0});
  EXPECT_EQ(check("checkpoints", file_of("big.safetensors", content.size(), sha), true).state,
            Presence::kPresent);
}

TEST_F(PresenceTest, TheHashCacheSurvivesASaveAndAReload) {
  const fs::path path = root("loras/l.safetensors");
  write_file(path, "lora bytes");
  const std::string sha = net::sha256_hex("lora bytes");
  const timespec mtime = testing::mtime_of(path);
  ASSERT_EQ(check("loras", file_of("l.safetensors", 10, sha), true).state, Presence::kPresent);
  const fs::path saved = dir_ / "data/sha256-cache";
  fs::create_directories(saved.parent_path());
  ASSERT_TRUE(cache_.save(saved));

  // A restarted daemon: a new cache loaded from the file.
  HashCache reloaded;
  ASSERT_TRUE(reloaded.load(saved));
  EXPECT_EQ(reloaded.size(), 1u);
  write_file(path, "LORA BYTES");  // same size; the old mtime put back
  testing::set_mtime(path, mtime);
  const PresenceChecker checker(folders_, &reloaded);
  const FileCheck got = checker.check_file("loras", file_of("l.safetensors", 10, sha), true);
  EXPECT_EQ(got.state, Presence::kPresent);
  EXPECT_TRUE(got.verified);

  // A damaged cache file is ignored as a whole.
  write_file(saved, "haul-sha256-cache 1\n" + sha + " 10 1 /x\n");
  HashCache damaged;
  EXPECT_FALSE(damaged.load(saved));
  EXPECT_EQ(damaged.size(), 0u);
}

TEST_F(PresenceTest, CheckModelsJudgesEachModelByItsFiles) {
  write_file(root("diffusion_models/z.gguf"), "zz");
  write_file(root("text_encoders/qwen.gguf"), "qq");
  write_file(root("vae/ae.safetensors.part"), "a");
  write_file(root("loras/bad.safetensors"), "bad");

  Model complete{"z-image-turbo", "z-image-turbo", "diffusion_models", {file_of("z.gguf", 2)}};
  Model several{
      "m2", "several", "text_encoders", {file_of("qwen.gguf", 2), file_of("absent.gguf", 2)}};
  Model partial{"m3", "partial", "vae", {file_of("ae.safetensors", 5)}};
  Model corrupt{"m4", "corrupt", "loras", {file_of("bad.safetensors", 5)}};
  Model unet_alias{"m5", "alias", "unet", {file_of("z.gguf", 2)}};
  Model empty{"m6", "no files", "loras", {}};
  const PresenceChecker checker(folders_);
  const auto checks =
      checker.check_models({complete, several, partial, corrupt, unet_alias, empty}, false);
  ASSERT_EQ(checks.size(), 6u);
  EXPECT_EQ(checks[0].id, "z-image-turbo");
  EXPECT_EQ(checks[0].state, Presence::kPresent);
  EXPECT_EQ(checks[1].state, Presence::kMissing);
  ASSERT_EQ(checks[1].files.size(), 2u);
  EXPECT_EQ(checks[1].files[0].state, Presence::kPresent);
  EXPECT_EQ(checks[1].files[1].state, Presence::kMissing);
  EXPECT_EQ(checks[2].state, Presence::kPartial);
  EXPECT_EQ(checks[3].state, Presence::kCorrupt);
  EXPECT_EQ(checks[4].state, Presence::kPresent);
  EXPECT_EQ(checks[5].state, Presence::kMissing);
  // check_model answers the same for one model.
  EXPECT_EQ(checker.check_model(several, false).files, checks[1].files);
}

}  // namespace
}  // namespace haul::models
