// The fixture of the PostgreSQL store's tests: the test binary's throwaway
// cluster (tests/support/postgres_cluster.hpp) and a fresh database per
// test. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "support/postgres_cluster.hpp"

namespace haul::store::postgres {

class PostgresDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = &haul::testing::PostgresCluster::shared();
    database_ = cluster_->create_database();
  }

  std::string url() const { return cluster_->url(database_); }
  std::string query(const std::string& sql) const { return cluster_->query(database_, sql); }

  haul::testing::PostgresCluster* cluster_ = nullptr;
  std::string database_;
};

}  // namespace haul::store::postgres
