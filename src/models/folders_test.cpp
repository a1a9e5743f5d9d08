// The candidate directories of a group: models roots with ComfyUI's on-disk
// aliases, a ComfyUI install, extra_model_paths sections (is_default first,
// others last), no duplicates; and the roots downloads are confined to.
#include "models/folders.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "models/presence_test_support.hpp"

namespace haul::models {
namespace {

namespace fs = std::filesystem;
using Dirs = std::vector<fs::path>;

EnvLookup no_env() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

std::vector<ExtraPathsSection> yaml(std::string_view text, const fs::path& dir = "/y") {
  auto sections = parse_extra_model_paths(text, dir, no_env());
  EXPECT_TRUE(sections) << sections.error().message;
  return sections ? *sections : std::vector<ExtraPathsSection>{};
}

TEST(ModelFolders, RootsGiveTheGroupThenItsOnDiskAliases) {
  const ModelFolders folders({"/m", "/n/"}, std::nullopt, {});
  EXPECT_EQ(folders.dirs("loras"), (Dirs{"/m/loras", "/n/loras"}));
  EXPECT_EQ(folders.dirs("text_encoders"),
            (Dirs{"/m/text_encoders", "/m/clip", "/n/text_encoders", "/n/clip"}));
  EXPECT_EQ(folders.dirs("clip"), folders.dirs("text_encoders"));  // ComfyUI's legacy name
  EXPECT_EQ(folders.dirs("unet"),
            (Dirs{"/m/diffusion_models", "/m/unet", "/n/diffusion_models", "/n/unet"}));
  EXPECT_EQ(folders.dirs("controlnet"),
            (Dirs{"/m/controlnet", "/m/t2i_adapter", "/n/controlnet", "/n/t2i_adapter"}));
  EXPECT_EQ(folders.dirs("loras/"), folders.dirs("loras"));
}

TEST(ModelFolders, AnyRelativeFolderIsAGroupAndUnsafeOnesHaveNoDirectories) {
  const ModelFolders folders({"/m"}, std::nullopt, {});
  EXPECT_EQ(folders.dirs("any/folder"), Dirs{"/m/any/folder"});
  EXPECT_EQ(folders.dirs(""), Dirs{"/m"});
  EXPECT_TRUE(folders.dirs("/etc").empty());
  EXPECT_TRUE(folders.dirs("a/../../b").empty());
  EXPECT_TRUE(folders.dirs("..").empty());
  EXPECT_TRUE(folders.dirs(std::string("a\0b", 3)).empty());
}

TEST(ModelFolders, AComfyUiInstallComesAfterTheRoots) {
  const ModelFolders folders({"/m"}, fs::path("/opt/ComfyUI/"), {});
  EXPECT_EQ(folders.dirs("text_encoders"),
            (Dirs{"/m/text_encoders", "/m/clip", "/opt/ComfyUI/models/text_encoders",
                  "/opt/ComfyUI/models/clip"}));
  // The same directory given twice is listed once.
  const ModelFolders same({"/opt/ComfyUI/models"}, fs::path("/opt/ComfyUI"), {});
  EXPECT_EQ(same.dirs("vae"), Dirs{"/opt/ComfyUI/models/vae"});
}

TEST(ModelFolders, DefaultSectionsGoFirstAndOthersLast) {
  const ModelFolders folders({"/m"}, fs::path("/c"),
                             yaml("late:\n"
                                  "  base_path: /late\n"
                                  "  loras: loras\n"
                                  "  clip: clip\n"  // ComfyUI maps the key too
                                  "first:\n"
                                  "  base_path: /d1\n"
                                  "  is_default: true\n"
                                  "  loras: |\n"
                                  "    a\n"
                                  "    b\n"
                                  "  unet: u\n"
                                  "second:\n"
                                  "  base_path: /d2\n"
                                  "  is_default: true\n"
                                  "  loras: |\n"
                                  "    x\n"
                                  "    /m/loras\n"));  // moved to the front, as ComfyUI does
  // ComfyUI's add_model_folder_path(is_default=True) inserts each at index 0:
  // the last one read comes first.
  EXPECT_EQ(folders.dirs("loras"),
            (Dirs{"/m/loras", "/d2/x", "/d1/b", "/d1/a", "/c/models/loras", "/late/loras"}));
  EXPECT_EQ(folders.dirs("text_encoders"),
            (Dirs{"/m/text_encoders", "/m/clip", "/c/models/text_encoders", "/c/models/clip",
                  "/late/clip"}));
  EXPECT_EQ(folders.dirs("diffusion_models"),
            (Dirs{"/d1/u", "/m/diffusion_models", "/m/unet", "/c/models/diffusion_models",
                  "/c/models/unet"}));
  EXPECT_EQ(folders.dirs("vae"), (Dirs{"/m/vae", "/c/models/vae"}));
}

TEST(ModelFolders, FolderNamesAreComfyUisThenTheYamlsOwn) {
  const ModelFolders folders({"/m"}, std::nullopt,
                             yaml("s:\n"
                                  "  base_path: /s\n"
                                  "  loras: loras\n"    // a standard one: listed once
                                  "  unet: u\n"         // legacy name: diffusion_models
                                  "  ipadapter: ipa\n"  // the yaml's own
                                  "  sdxl/styles: st\n"));
  const std::vector<std::string> names = folders.folder_names();
  ASSERT_GE(names.size(), 4u);
  EXPECT_EQ(names.front(), "checkpoints");
  EXPECT_EQ(std::count(names.begin(), names.end(), "loras"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "diffusion_models"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "unet"), 0);
  EXPECT_EQ(names[names.size() - 2], "ipadapter");
  EXPECT_EQ(names.back(), "sdxl/styles");
}

TEST(ModelFolders, AllowedRootsCoverEveryDownloadDirectoryOnce) {
  const ModelFolders folders({"/m", "/z"}, fs::path("/c"),
                             yaml("s:\n"
                                  "  base_path: /m\n"
                                  "  loras: loras\n"  // inside /m: covered
                                  "  vae: /v\n"
                                  "t:\n"
                                  "  checkpoints: /c/models/checkpoints\n"
                                  "  other: /mm\n"));  // /mm is not inside /m
  EXPECT_EQ(folders.allowed_roots(), (Dirs{"/c/models", "/m", "/mm", "/v", "/z"}));
  const ModelFolders root({"/"}, std::nullopt, yaml("s:\n  vae: /v\n"));
  EXPECT_EQ(root.allowed_roots(), Dirs{"/"});
}

TEST(ModelFolders, LoadsTheInstallsYamlAndMoreFiles) {
  testing::TempDir dir;
  const fs::path comfy = dir / "ComfyUI";
  testing::write_file(comfy / "extra_model_paths.yaml", "s:\n  loras: ../shared/loras\n");
  testing::write_file(dir / "more.yaml", "t:\n  is_default: true\n  loras: first\n");
  auto folders = load_model_folders({dir / "root"}, comfy, {dir / "more.yaml"}, no_env());
  ASSERT_TRUE(folders) << folders.error().message;
  EXPECT_EQ(folders->dirs("loras"), (Dirs{dir / "first", dir / "root/loras", comfy / "models/loras",
                                          dir / "shared/loras"}));

  // Without the install's YAML file: just its models/ folder.
  fs::remove(comfy / "extra_model_paths.yaml");
  folders = load_model_folders({}, comfy, {}, no_env());
  ASSERT_TRUE(folders) << folders.error().message;
  EXPECT_EQ(folders->dirs("vae"), Dirs{comfy / "models/vae"});

  // A broken or missing YAML file named by the user is an error.
  testing::write_file(comfy / "extra_model_paths.yaml", "s: [x]\n");
  folders = load_model_folders({}, comfy, {}, no_env());
  ASSERT_FALSE(folders);
  EXPECT_NE(folders.error().message.find("extra_model_paths.yaml line 1:"), std::string::npos);
  folders = load_model_folders({}, std::nullopt, {dir / "absent.yaml"}, no_env());
  ASSERT_FALSE(folders);
  EXPECT_EQ(folders.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace haul::models
