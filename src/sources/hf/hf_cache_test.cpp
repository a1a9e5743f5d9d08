#include "sources/hf/hf_cache.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace haul::sources::hf {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kCommit = "f82bd3692de0283f4a4b31e06d164dd8467fb52e";
constexpr std::string_view kEtag =
    "9be78edb5b928eba33aa88f431551348f7466ba9f5ef3daf1d552398722a5436";
constexpr std::string_view kEtag2 = "b1797ada900fbcebfe7388cefbf28e8e5b0cfe21";

GetEnv env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

fs::path cache_dir(std::map<std::string, std::string> vars) {
  auto dir = hub_cache_dir(env_of(std::move(vars)));
  EXPECT_TRUE(dir) << (dir ? "" : dir.error().message);
  return dir ? *dir : fs::path{};
}

HfRef ref_of(HfRef::RepoType type, std::string repo_id) {
  HfRef ref;
  ref.type = type;
  ref.repo_id = std::move(repo_id);
  return ref;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_all(const fs::path& path, std::string_view content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

// ---- where the cache is ---------------------------------------------------------

TEST(HubCacheDir, Precedence) {
  EXPECT_EQ(cache_dir({{"HF_HUB_CACHE", "/data/hub"}, {"HF_HOME", "/opt/hf"}, {"HOME", "/home/u"}}),
            fs::path("/data/hub"));
  EXPECT_EQ(cache_dir({{"HUGGINGFACE_HUB_CACHE", "/legacy"}, {"HF_HOME", "/opt/hf"}}),
            fs::path("/legacy"));
  EXPECT_EQ(cache_dir({{"HF_HOME", "/opt/hf"}, {"XDG_CACHE_HOME", "/xdg"}}),
            fs::path("/opt/hf/hub"));
  EXPECT_EQ(cache_dir({{"XDG_CACHE_HOME", "/xdg"}, {"HOME", "/home/u"}}),
            fs::path("/xdg/huggingface/hub"));
  EXPECT_EQ(cache_dir({{"HOME", "/home/u"}}), fs::path("/home/u/.cache/huggingface/hub"));
  EXPECT_EQ(cache_dir({{"HOME", "/home/u/"}}), fs::path("/home/u/.cache/huggingface/hub"));
  EXPECT_EQ(cache_dir({{"HF_HUB_CACHE", ""}, {"HOME", "/home/u"}}),
            fs::path("/home/u/.cache/huggingface/hub"))
      << "an empty variable counts as unset";
}

TEST(HubCacheDir, ExpandsUserAndVariables) {
  EXPECT_EQ(cache_dir({{"HF_HUB_CACHE", "~/hub"}, {"HOME", "/home/u"}}), fs::path("/home/u/hub"));
  EXPECT_EQ(cache_dir({{"HF_HOME", "~"}, {"HOME", "/home/u"}}), fs::path("/home/u/hub"));
  EXPECT_EQ(cache_dir({{"HF_HUB_CACHE", "~other/hub"}, {"HOME", "/home/u"}}),
            fs::path("~other/hub"));
  EXPECT_EQ(cache_dir({{"HF_HUB_CACHE", "$DATA/hub"}, {"DATA", "/mnt"}}), fs::path("/mnt/hub"));
  EXPECT_EQ(cache_dir({{"HF_HOME", "${DATA}_x/hf"}, {"DATA", "/mnt"}}), fs::path("/mnt_x/hf/hub"));
  EXPECT_EQ(cache_dir({{"HF_HUB_CACHE", "$NOPE/hub$"}}), fs::path("$NOPE/hub$")) << "unknown stays";
  EXPECT_EQ(cache_dir({{"XDG_CACHE_HOME", "$C"}, {"C", "/c"}}), fs::path("/c/huggingface/hub"));
}

TEST(HubCacheDir, NoEnvironmentAtAll) {
  auto dir = hub_cache_dir(env_of({}));
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(dir.error().message,
            "cannot locate the Hugging Face cache: set HF_HUB_CACHE, HF_HOME or HOME");
}

TEST(RepoFolderName, TypeAndId) {
  EXPECT_EQ(repo_folder_name(ref_of(HfRef::RepoType::kModel, "org/name")), "models--org--name");
  EXPECT_EQ(repo_folder_name(ref_of(HfRef::RepoType::kDataset, "HuggingFaceFW/fineweb")),
            "datasets--HuggingFaceFW--fineweb");
  EXPECT_EQ(repo_folder_name(ref_of(HfRef::RepoType::kSpace, "a/b.c")), "spaces--a--b.c");
}

// ---- paths ----------------------------------------------------------------------

TEST(HfCacheRepoPaths, Layout) {
  const HfCacheRepo repo("/c/hub", ref_of(HfRef::RepoType::kModel, "org/name"));
  EXPECT_EQ(repo.repo_dir(), fs::path("/c/hub/models--org--name"));
  EXPECT_EQ(*repo.blob_path(kEtag),
            fs::path("/c/hub/models--org--name/blobs/" + std::string(kEtag)));
  EXPECT_EQ(*repo.incomplete_path(kEtag),
            fs::path("/c/hub/models--org--name/blobs/" + std::string(kEtag) + ".incomplete"));
  EXPECT_EQ(*repo.lock_path(kEtag),
            fs::path("/c/hub/.locks/models--org--name/" + std::string(kEtag) + ".lock"));
  EXPECT_EQ(
      *repo.snapshot_path(kCommit, "unet/config.json"),
      fs::path("/c/hub/models--org--name/snapshots/" + std::string(kCommit) + "/unet/config.json"));
  EXPECT_EQ(*repo.ref_path("refs/pr/1"), fs::path("/c/hub/models--org--name/refs/refs/pr/1"));
}

TEST(HfCacheRepoPaths, ServerStringsCannotEscape) {
  const HfCacheRepo repo("/c/hub", ref_of(HfRef::RepoType::kModel, "org/name"));
  for (std::string_view etag : {"", ".", "..", "../x", "a/b", "a\\b", "a\nb"}) {
    auto path = repo.blob_path(etag);
    ASSERT_FALSE(path) << etag;
    EXPECT_EQ(path.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(path.error().message,
              "unsafe etag for the Hugging Face cache: '" + std::string(etag) + "'");
    EXPECT_FALSE(repo.incomplete_path(etag));
    EXPECT_FALSE(repo.lock_path(etag));
    EXPECT_FALSE(repo.has_blob(etag));
  }
  EXPECT_EQ(repo.snapshot_path("..", "x").error().message,
            "unsafe commit for the Hugging Face cache: '..'");
  for (std::string_view file : {"", "../x", "a/../../x", "/etc/passwd", "a//b"}) {
    auto path = repo.snapshot_path(kCommit, file);
    ASSERT_FALSE(path) << file;
    EXPECT_EQ(path.error().message, "unsafe path in repository: '" + std::string(file) + "'");
  }
  EXPECT_FALSE(repo.ref_path("../../outside"));
  EXPECT_FALSE(repo.ref_path(".."));
}

// ---- filesystem -----------------------------------------------------------------

class HfCacheRepoFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/haul-hf-cache-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
    hub_ = root_ / "hub";
  }
  void TearDown() override { fs::remove_all(root_); }

  HfCacheRepo repo() const {
    return HfCacheRepo(hub_, ref_of(HfRef::RepoType::kModel, "org/name"));
  }
  fs::path repo_dir() const { return hub_ / "models--org--name"; }

  // Every name in `dir`, sorted: shows leftover temporary files.
  static std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path root_;
  fs::path hub_;
};

TEST_F(HfCacheRepoFiles, WriteRefHasNoNewlineAndNests) {
  ASSERT_TRUE(repo().write_ref("main", kCommit));
  EXPECT_EQ(read_all(repo_dir() / "refs" / "main"), kCommit);
  ASSERT_TRUE(repo().write_ref("refs/pr/1", kEtag2));
  EXPECT_EQ(read_all(repo_dir() / "refs" / "refs" / "pr" / "1"), kEtag2);
  EXPECT_EQ(repo().read_ref("main"), std::string(kCommit));
  EXPECT_EQ(repo().read_ref("refs/pr/1"), std::string(kEtag2));
  EXPECT_EQ(names_in(repo_dir() / "refs"), (std::vector<std::string>{"main", "refs"}))
      << "no temporary file is left behind";
}

TEST_F(HfCacheRepoFiles, WriteRefReplacesAnOldCommit) {
  write_all(repo_dir() / "refs" / "main", kEtag2);
  ASSERT_TRUE(repo().write_ref("main", kCommit));
  EXPECT_EQ(read_all(repo_dir() / "refs" / "main"), kCommit);
  write_all(repo_dir() / "refs" / "main", std::string(kCommit) + "\n");
  ASSERT_TRUE(repo().write_ref("main", kCommit));
  EXPECT_EQ(read_all(repo_dir() / "refs" / "main"), kCommit)
      << "the newline another tool wrote goes";
}

TEST_F(HfCacheRepoFiles, WriteRefLeavesAnEqualRefAlone) {
  ASSERT_TRUE(repo().write_ref("main", kCommit));
  struct stat before {};
  ASSERT_EQ(::stat((repo_dir() / "refs" / "main").c_str(), &before), 0);
  ASSERT_TRUE(repo().write_ref("main", kCommit));
  struct stat after {};
  ASSERT_EQ(::stat((repo_dir() / "refs" / "main").c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino) << "a rewrite would rename a new file into place";
}

TEST_F(HfCacheRepoFiles, WriteRefSkipsCommitRevisions) {
  ASSERT_TRUE(repo().write_ref(kCommit, kCommit));
  EXPECT_FALSE(fs::exists(repo_dir() / "refs"));
}

TEST_F(HfCacheRepoFiles, WriteRefRefusesUnsafeInput) {
  auto bad_revision = repo().write_ref("../../escape", kCommit);
  ASSERT_FALSE(bad_revision);
  EXPECT_EQ(bad_revision.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(repo().write_ref("main", "../x"));
  EXPECT_FALSE(fs::exists(root_ / "escape"));
}

TEST_F(HfCacheRepoFiles, ReadRefToleratesANewlineAndMissingFiles) {
  EXPECT_EQ(repo().read_ref("main"), std::nullopt);
  write_all(repo_dir() / "refs" / "main", std::string(kCommit) + "\n");
  EXPECT_EQ(repo().read_ref("main"), std::string(kCommit));
  write_all(repo_dir() / "refs" / "empty", "");
  EXPECT_EQ(repo().read_ref("empty"), std::nullopt);
  EXPECT_EQ(repo().read_ref("../x"), std::nullopt);
}

TEST_F(HfCacheRepoFiles, LinkSnapshotAtTheTop) {
  ASSERT_TRUE(repo().link_snapshot(kCommit, "config.json", kEtag2));
  const fs::path link = repo_dir() / "snapshots" / std::string(kCommit) / "config.json";
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link), fs::path("../../blobs/" + std::string(kEtag2)));
  EXPECT_EQ(read_all(hub_ / "CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55\n"
            "# This file is a cache directory tag created by huggingface_hub.\n"
            "# For information about cache directory tags, see:\n"
            "#\thttps://bford.info/cachedir/\n");
  EXPECT_EQ(names_in(repo_dir()), (std::vector<std::string>{"snapshots"}))
      << "no temporary link left";
}

TEST_F(HfCacheRepoFiles, LinkSnapshotNested) {
  ASSERT_TRUE(repo().link_snapshot(kCommit, "a/b/c.bin", kEtag));
  const fs::path link = repo_dir() / "snapshots" / std::string(kCommit) / "a" / "b" / "c.bin";
  EXPECT_EQ(fs::read_symlink(link), fs::path("../../../../blobs/" + std::string(kEtag)));
  // The relative target really reaches the blob.
  write_all(repo_dir() / "blobs" / std::string(kEtag), "weights");
  EXPECT_EQ(read_all(link), "weights");
  EXPECT_TRUE(fs::equivalent(link, repo_dir() / "blobs" / std::string(kEtag)));
}

TEST_F(HfCacheRepoFiles, LinkSnapshotReplacesLinksAndFiles) {
  const fs::path link = repo_dir() / "snapshots" / std::string(kCommit) / "model.bin";
  ASSERT_TRUE(repo().link_snapshot(kCommit, "model.bin", kEtag2));
  ASSERT_TRUE(repo().link_snapshot(kCommit, "model.bin", kEtag));
  EXPECT_EQ(fs::read_symlink(link), fs::path("../../blobs/" + std::string(kEtag)));
  fs::remove(link);
  write_all(link, "a copied file");
  ASSERT_TRUE(repo().link_snapshot(kCommit, "model.bin", kEtag2));
  EXPECT_EQ(fs::read_symlink(link), fs::path("../../blobs/" + std::string(kEtag2)));
}

TEST_F(HfCacheRepoFiles, LinkSnapshotKeepsAnExistingTagAndReportsADirectoryInTheWay) {
  write_all(hub_ / "CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n# mine\n");
  fs::create_directories(repo_dir() / "snapshots" / std::string(kCommit) / "model.bin" / "inside");
  auto result = repo().link_snapshot(kCommit, "model.bin", kEtag);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kIo);
  EXPECT_NE(result.error().message.find("cannot link "), std::string::npos)
      << result.error().message;
  EXPECT_EQ(read_all(hub_ / "CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55\n# mine\n");
  EXPECT_EQ(names_in(repo_dir()), (std::vector<std::string>{"snapshots"}))
      << "the temporary link is removed";
}

TEST_F(HfCacheRepoFiles, LinkSnapshotRefusesUnsafePaths) {
  auto result = repo().link_snapshot(kCommit, "../../../outside", kEtag);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(repo().link_snapshot(kCommit, "ok.bin", "../../x"));
  EXPECT_FALSE(fs::exists(repo_dir()));
}

TEST_F(HfCacheRepoFiles, AdoptBlobMovesAndSetsTheDefaultMode) {
  const fs::path download = root_ / "download.part";
  write_all(download, "content");
  fs::permissions(download, fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);
  const mode_t old_mask = ::umask(027);
  auto result = repo().adopt_blob(download, kEtag);
  ::umask(old_mask);
  ASSERT_TRUE(result) << result.error().message;
  const fs::path blob = repo_dir() / "blobs" / std::string(kEtag);
  EXPECT_FALSE(fs::exists(download));
  EXPECT_EQ(read_all(blob), "content");
  EXPECT_TRUE(repo().has_blob(kEtag));
  EXPECT_FALSE(repo().has_blob(kEtag2));
  struct stat info {};
  ASSERT_EQ(::stat(blob.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u) << "0666 minus the umask 027";
  EXPECT_EQ(names_in(repo_dir()), (std::vector<std::string>{"blobs"}))
      << "the mode probe is removed";
}

TEST_F(HfCacheRepoFiles, AdoptBlobReplacesAnOldBlob) {
  write_all(repo_dir() / "blobs" / std::string(kEtag), "old");
  const fs::path download = repo_dir() / "blobs" / (std::string(kEtag) + ".incomplete");
  write_all(download, "new");
  ASSERT_TRUE(repo().adopt_blob(download, kEtag));
  EXPECT_EQ(read_all(repo_dir() / "blobs" / std::string(kEtag)), "new");
  EXPECT_EQ(names_in(repo_dir() / "blobs"), (std::vector<std::string>{std::string(kEtag)}));
}

TEST_F(HfCacheRepoFiles, AdoptBlobErrors) {
  auto missing = repo().adopt_blob(root_ / "nope", kEtag);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kIo);
  EXPECT_NE(missing.error().message.find("cannot move "), std::string::npos);
  EXPECT_EQ(repo().adopt_blob(root_ / "nope", "a/b").error().code, ErrorCode::kInvalidArgument);
}

TEST_F(HfCacheRepoFiles, MarkMissing) {
  ASSERT_TRUE(repo().mark_missing(kCommit, "sub/model.safetensors"));
  const fs::path marker =
      repo_dir() / ".no_exist" / std::string(kCommit) / "sub" / "model.safetensors";
  ASSERT_TRUE(fs::is_regular_file(marker));
  EXPECT_EQ(fs::file_size(marker), 0u);
  EXPECT_TRUE(repo().mark_missing(kCommit, "sub/model.safetensors")) << "idempotent";
  EXPECT_EQ(repo().mark_missing(kCommit, "../x").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(repo().mark_missing("a/b", "x").error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace haul::sources::hf
