#include "daemon/store_spec.hpp"

#include <gtest/gtest.h>

namespace haul::daemon {
namespace {

namespace fs = std::filesystem;

TEST(StoreSpec, TheDefaultIsTheDataDirsSqliteFile) {
  auto spec = parse_store_spec("", "/srv/haul");
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->kind, StoreSpec::Kind::kSqlite);
  EXPECT_EQ(spec->sqlite_path, fs::path("/srv/haul/haul.db"));
  EXPECT_EQ(spec->display, "sqlite:/srv/haul/haul.db");
}

TEST(StoreSpec, ARelativeSqlitePathIsFromTheWorkingDirectory) {
  auto spec = parse_store_spec("sqlite:queue/haul.db", "/srv/haul");
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->sqlite_path, fs::current_path() / "queue/haul.db");
  EXPECT_TRUE(parse_store_spec("sqlite:/abs/q.db", "/x"));
  EXPECT_EQ(parse_store_spec("sqlite:/abs/q.db", "/x")->sqlite_path, fs::path("/abs/q.db"));
}

TEST(StoreSpec, APostgresUrlIsKeptWholeAndShownWithoutItsPassword) {
  for (const char* text :
       {"postgres://haul:s3cret@db.lan:5432/queue", "postgresql://haul:s3cret@db.lan/queue"}) {
    auto spec = parse_store_spec(text, "/srv/haul");
    ASSERT_TRUE(spec) << spec.error().message;
    EXPECT_EQ(spec->kind, StoreSpec::Kind::kPostgres);
    EXPECT_EQ(spec->postgres_url, text);
    EXPECT_EQ(spec->display.find("s3cret"), std::string::npos) << spec->display;
    EXPECT_NE(spec->display.find("db.lan"), std::string::npos) << spec->display;
  }
}

TEST(StoreSpec, MistakesAreNamedWithoutThePassword) {
  auto unknown = parse_store_spec("mysql://root:hunter2@db/q", "/srv");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(unknown.error().message.find("expected sqlite:PATH or postgres://"), std::string::npos);
  EXPECT_EQ(unknown.error().message.find("hunter2"), std::string::npos) << unknown.error().message;
  EXPECT_FALSE(parse_store_spec("sqlite:", "/srv"));
  EXPECT_FALSE(parse_store_spec("postgres://", "/srv"));
  EXPECT_FALSE(parse_store_spec("/srv/haul.db", "/srv"));
}

TEST(NodeName, HostNamesPassAndMistakesAreNamed) {
  for (const char* name : {"gpu-box-1", "node.a", "A_1", "x"})
    EXPECT_TRUE(check_node_name(name)) << name;
  for (const char* name : {"", "any", "two words", "a/b", "n\xc3\xa9"}) {
    auto refused = check_node_name(name);
    ASSERT_FALSE(refused) << name;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(refused.error().message.rfind("--node '", 0), 0u) << refused.error().message;
  }
  EXPECT_FALSE(check_node_name(std::string(65, 'n')));
  EXPECT_TRUE(check_node_name(std::string(64, 'n')));
}

}  // namespace
}  // namespace haul::daemon
