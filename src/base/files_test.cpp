#include "base/files.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/scratch_dir_test_support.hpp"

namespace haul {
namespace {

std::string read(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(WriteFileAtomically, ReplacesTheWholeFileAndLeavesNoTemporary) {
  ScratchDir dir;
  const auto file = dir.path() / "progress.json";
  ASSERT_TRUE(write_file_atomically(file, "{\"a\":1}"));
  ASSERT_TRUE(write_file_atomically(file, "{}"));
  EXPECT_EQ(read(file), "{}");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(WriteFileAtomically, AMissingFolderIsAnIoErrorNamingTheFile) {
  ScratchDir dir;
  const auto file = dir.path() / "no" / "such.json";
  auto written = write_file_atomically(file, "x");
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, ErrorCode::kIo);
  EXPECT_EQ(written.error().message, "cannot write " + file.string());
}

}  // namespace
}  // namespace haul
