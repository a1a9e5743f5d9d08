#include "net/sha256.hpp"

#include <gtest/gtest.h>

#include <string>

namespace haul::net {
namespace {

constexpr std::string_view kEmpty =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kAbc =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

// 1 MiB of a fixed pattern; its digest was computed independently (Python hashlib).
std::string one_mib_pattern() {
  std::string data(1u << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>((i * 7 + (i >> 8) * 13) & 0xff);
  return data;
}
constexpr std::string_view kOneMibPattern =
    "709f3da348008ebcee83c661d2bb900c1818e1e781466590b54100d5ca29a846";

TEST(Sha256, MatchesKnownVectors) {
  EXPECT_EQ(sha256_hex(""), kEmpty);
  EXPECT_EQ(sha256_hex("abc"), kAbc);
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex("The quick brown fox jumps over the lazy dog"),
            "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
}

TEST(Sha256, EmptyStreamHashesLikeTheEmptyString) {
  Sha256 sha;
  EXPECT_EQ(sha.finish_hex(), kEmpty);
  sha.update("", 0);
  EXPECT_EQ(sha.finish_hex(), kEmpty);
}

TEST(Sha256, AMillionAsFedInPiecesMatchesTheStandardVector) {
  const std::string chunk(1000, 'a');
  Sha256 sha;
  for (int i = 0; i < 1000; ++i) sha.update(chunk.data(), chunk.size());
  EXPECT_EQ(sha.finish_hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, OddSizedPiecesEqualOneShot) {
  const std::string data = one_mib_pattern();
  ASSERT_EQ(sha256_hex(data), kOneMibPattern);

  Sha256 sha;
  const std::size_t sizes[] = {1, 3, 63, 64, 65, 127, 4093, 12345, 65537};
  std::size_t offset = 0;
  for (std::size_t i = 0; offset < data.size(); ++i) {
    const std::size_t n = std::min(sizes[i % std::size(sizes)], data.size() - offset);
    sha.update(data.data() + offset, n);
    offset += n;
  }
  EXPECT_EQ(sha.finish_hex(), kOneMibPattern);
}

TEST(Sha256, FinishResetsForTheNextStream) {
  Sha256 sha;
  sha.update("ab", 2);
  sha.update("c", 1);
  EXPECT_EQ(sha.finish_hex(), kAbc);
  sha.update("abc", 3);
  EXPECT_EQ(sha.finish_hex(), kAbc) << "the second stream must not include the first";
}

TEST(Sha256, ResetDiscardsPartialInput) {
  Sha256 sha;
  sha.update("garbage", 7);
  sha.reset();
  sha.update("abc", 3);
  EXPECT_EQ(sha.finish_hex(), kAbc);
}

TEST(Sha256, DigestIsLowerCaseHex) {
  const std::string digest = sha256_hex("anything");
  EXPECT_EQ(digest.size(), 64u);
  EXPECT_TRUE(is_sha256_hex(digest));
  for (char c : digest) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << c;
}

TEST(IsSha256Hex, AcceptsSixtyFourHexDigitsOfEitherCase) {
  EXPECT_TRUE(is_sha256_hex(kAbc));
  EXPECT_TRUE(is_sha256_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
  EXPECT_TRUE(is_sha256_hex(std::string(64, '0')));
}

TEST(IsSha256Hex, RejectsOtherLengthsAndCharacters) {
  EXPECT_FALSE(is_sha256_hex(""));
  EXPECT_FALSE(is_sha256_hex(kAbc.substr(0, 63)));
  EXPECT_FALSE(is_sha256_hex(std::string(kAbc) + "0"));
  EXPECT_FALSE(is_sha256_hex(std::string(63, 'a') + "g"));
  EXPECT_FALSE(is_sha256_hex(" " + std::string(kAbc.substr(1))));
  EXPECT_FALSE(is_sha256_hex("sha256:" + std::string(kAbc.substr(7))));
  EXPECT_FALSE(is_sha256_hex(std::string(63, 'a') + "\xe0"));
}

}  // namespace
}  // namespace haul::net
