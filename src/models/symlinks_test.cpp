// Symlinks of model files: made relative inside a root, absolute across
// roots, repaired when wrong or dangling, never over a real file.
#include "models/symlinks.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "base/scratch_dir_test_support.hpp"

namespace haul::models {
namespace {

namespace fs = std::filesystem;

class SymlinksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "models";
    other_ = dir_.path() / "other-ui";
    fs::create_directories(root_ / "checkpoints");
    fs::create_directories(other_);
    target_ = root_ / "checkpoints" / "a.safetensors";
    std::ofstream(target_) << "weights";
  }

  static std::string read(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  ScratchDir dir_;
  fs::path root_, other_, target_;
};

TEST_F(SymlinksTest, InsideOneRootTheLinkIsRelative) {
  const fs::path link = root_ / "diffusion_models" / "sub" / "a.safetensors";
  ASSERT_TRUE(ensure_symlink(target_, link, {root_}));
  EXPECT_EQ(fs::read_symlink(link), fs::path("../../checkpoints/a.safetensors"));
  EXPECT_EQ(read(link), "weights");
}

TEST_F(SymlinksTest, AcrossRootsTheLinkIsAbsolute) {
  const fs::path link = other_ / "models" / "a.safetensors";
  ASSERT_TRUE(ensure_symlink(target_, link, {root_, other_}));
  EXPECT_EQ(fs::read_symlink(link), target_);
  EXPECT_EQ(read(link), "weights");
}

TEST_F(SymlinksTest, RepairsAWrongOrDanglingLinkAndKeepsARightOne) {
  const fs::path link = root_ / "loras" / "a.safetensors";
  fs::create_directories(link.parent_path());
  fs::create_symlink("../checkpoints/gone.safetensors", link);
  ASSERT_TRUE(ensure_symlink(target_, link, {root_}));
  EXPECT_EQ(fs::read_symlink(link), fs::path("../checkpoints/a.safetensors"));
  const auto before = fs::symlink_status(link).type();
  ASSERT_TRUE(ensure_symlink(target_, link, {root_}));
  EXPECT_EQ(fs::symlink_status(link).type(), before);
  EXPECT_EQ(read(link), "weights");
  // No temporary names left behind.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(link.parent_path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST_F(SymlinksTest, NeverReplacesARealFile) {
  const fs::path link = other_ / "a.safetensors";
  std::ofstream(link) << "the user's own";
  auto made = ensure_symlink(target_, link, {root_});
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(made.error().message.find(link.string()), std::string::npos);
  EXPECT_FALSE(fs::is_symlink(link));
  EXPECT_EQ(read(link), "the user's own");
}

}  // namespace
}  // namespace haul::models
