#include "net/git_blob_sha1.hpp"

#include <gtest/gtest.h>

#include <string>

namespace haul::net {
namespace {

TEST(GitBlobSha1, KnownBlobs) {
  GitBlobSha1 empty(0);
  EXPECT_EQ(empty.hex(), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
  EXPECT_EQ(empty.hex(), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391") << "hex() is repeatable";
  GitBlobSha1 hello(6);
  hello.update("hello\n");
  EXPECT_EQ(hello.bytes_hashed(), 6u);
  EXPECT_EQ(hello.hex(), "ce013625030ba8dba906f756967f9e9ca394464a");
}

TEST(GitBlobSha1, StreamsInPieces) {
  std::string content(1000003, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i % 251);
  GitBlobSha1 sha(content.size());
  for (std::size_t offset = 0; offset < content.size(); offset += 65536) {
    sha.update(std::string_view(content).substr(offset, 65536));
  }
  EXPECT_EQ(sha.bytes_hashed(), content.size());
  EXPECT_EQ(sha.hex(), "c2fee071bbc6d331390825ea187b6b1964124d9b");
}

TEST(GitBlobSha1, DeclaredSizeIsPartOfTheHash) {
  GitBlobSha1 wrong(7);
  wrong.update("hello\n");
  EXPECT_NE(wrong.hex(), "ce013625030ba8dba906f756967f9e9ca394464a");
  EXPECT_EQ(wrong.bytes_hashed(), 6u);
}

}  // namespace
}  // namespace haul::net
