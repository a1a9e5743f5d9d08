// The hash cache: keyed by path, size and mtime; saved and loaded as text;
// anything but an intact file is ignored; safe from several threads.
#include "models/hash_cache.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "models/presence_test_support.hpp"

namespace haul::models {
namespace {

const std::string kShaA(64, 'a');
const std::string kShaB(64, 'b');

TEST(HashCache, AnswersOnlyForTheSameSizeAndMtime) {
  HashCache cache;
  EXPECT_EQ(cache.find("/m/a", 10, 5), std::nullopt);
  cache.put("/m/a", 10, 5, kShaA);
  EXPECT_EQ(cache.find("/m/a", 10, 5), kShaA);
  EXPECT_EQ(cache.find("/m/a", 11, 5), std::nullopt);
  EXPECT_EQ(cache.find("/m/a", 10, 6), std::nullopt);
  EXPECT_EQ(cache.find("/m/b", 10, 5), std::nullopt);
  cache.put("/m/a", 11, 6, kShaB);  // replaces
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.find("/m/a", 11, 6), kShaB);
  EXPECT_EQ(cache.version(), 2u);
}

TEST(HashCache, SerializesSortedAndReadsItBack) {
  HashCache cache;
  cache.put("/m/b with space", 2, -3, kShaB);
  cache.put("/m/a", 1, 1700000000123456789, kShaA);
  cache.put("/m/line\nbreak", 1, 1, kShaA);  // not saved: it would break the format
  const std::string text = cache.serialize();
  EXPECT_EQ(text, "haul-sha256-cache 1\n" + kShaA + " 1 1700000000123456789 /m/a\n" + kShaB +
                      " 2 -3 /m/b with space\nend 2\n");
  HashCache read;
  ASSERT_TRUE(read.deserialize(text));
  EXPECT_EQ(read.size(), 2u);
  EXPECT_EQ(read.find("/m/b with space", 2, -3), kShaB);
  EXPECT_EQ(read.find("/m/a", 1, 1700000000123456789), kShaA);
}

TEST(HashCache, IgnoresAnythingButAnIntactFile) {
  HashCache cache;
  cache.put("/m/x", 1, 1, kShaA);
  const std::string good = cache.serialize();
  HashCache other;
  other.put("/kept", 1, 1, kShaB);
  const std::vector<std::string> bad = {
      "",
      "garbage",
      good.substr(0, good.size() - 1),                             // no final line end
      good.substr(0, good.find("end")),                            // no trailer: cut short
      "haul-sha256-cache 2\n" + good.substr(good.find('\n') + 1),  // another version
      "haul-sha256-cache 1\n" + kShaA + " 1 1 /m/x\nend 2\n",      // wrong count
      "haul-sha256-cache 1\n" + kShaA + " 1 1 /m/x\nend 1\nmore\n",
      "haul-sha256-cache 1\n" + std::string(64, 'g') + " 1 1 /m/x\nend 1\n",
      "haul-sha256-cache 1\n" + kShaA + " x 1 /m/x\nend 1\n",
      "haul-sha256-cache 1\n" + kShaA + " 1 1 \nend 1\n",  // no path
      "haul-sha256-cache 1\n" + kShaA + " 1 1 /m/x\n" + kShaA + " 1 1 /m/x\nend 2\n",
  };
  for (const std::string& text : bad) {
    EXPECT_FALSE(other.deserialize(text)) << text;
    EXPECT_EQ(other.find("/kept", 1, 1), kShaB) << text;
  }
  EXPECT_TRUE(other.deserialize(good));
  EXPECT_EQ(other.find("/kept", 1, 1), std::nullopt);
}

TEST(HashCache, SavesAndLoadsAFile) {
  testing::TempDir dir;
  HashCache cache;
  cache.put("/m/a", 1, 2, kShaA);
  ASSERT_TRUE(cache.save(dir / "hashes"));
  EXPECT_FALSE(std::filesystem::exists(dir / "hashes.tmp"));
  HashCache loaded;
  EXPECT_TRUE(loaded.load(dir / "hashes"));
  EXPECT_EQ(loaded.find("/m/a", 1, 2), kShaA);

  EXPECT_FALSE(loaded.load(dir / "absent"));
  testing::write_file(dir / "corrupt", "haul-sha256-cache 1\n" + kShaB + " 1 2 /m/a\n");
  EXPECT_FALSE(loaded.load(dir / "corrupt"));
  EXPECT_EQ(loaded.find("/m/a", 1, 2), kShaA);
  EXPECT_FALSE(cache.save(dir / "no/such/dir/hashes"));
}

TEST(HashCache, SeveralThreadsShareIt) {
  HashCache cache;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 500; ++i) {
        const std::string path = "/m/" + std::to_string(t) + "/" + std::to_string(i);
        cache.put(path, static_cast<std::uint64_t>(i), i, kShaA);
        EXPECT_EQ(cache.find(path, static_cast<std::uint64_t>(i), i), kShaA);
        if (i % 100 == 0) {
          EXPECT_FALSE(cache.serialize().empty());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(cache.size(), 2000u);
  EXPECT_EQ(cache.version(), 2000u);
}

}  // namespace
}  // namespace haul::models
