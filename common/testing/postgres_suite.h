// Test fixture base: one embedded PostgreSQL server per test suite.
//
//   class StoreTest : public stratus::testing_util::PostgresSuite {};
//   TEST_F(StoreTest, X) { auto db = Connect({.pool_size = 2}); ... }
//
// SetUpTestSuite starts a cluster in a fresh temporary folder named after the suite and the
// process; TearDownTestSuite stops it and removes the folder. Tests of one suite share the
// server and its database, so each test clears the tables it uses.
#ifndef STRATUS_COMMON_TESTING_POSTGRES_SUITE_H_
#define STRATUS_COMMON_TESTING_POSTGRES_SUITE_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/db.h"
#include "common/embedded_postgres.h"

namespace stratus::testing_util {

class PostgresSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
    dir_ = std::filesystem::temp_directory_path() /
           ("stratus-" + std::string(suite ? suite->name() : "pg") + "-" +
            std::to_string(getpid()));
    auto pg = EmbeddedPostgres::Start({.data_dir = (dir_ / "pg").string()});
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = std::move(*pg);
  }
  static void TearDownTestSuite() {
    pg_.reset();
    std::filesystem::remove_all(dir_);
  }

  static EmbeddedPostgres& postgres() { return *pg_; }
  // The suite's temporary folder (the cluster is in pg/ below it); removed after the suite.
  static const std::filesystem::path& dir() { return dir_; }
  // A connection pool on the suite's database; `options.url` is filled in.
  static std::unique_ptr<Database> Connect(Database::Options options = {}) {
    options.url = pg_->url();
    auto db = Database::Create(options);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? std::move(*db) : nullptr;
  }

 private:
  static inline std::filesystem::path dir_;
  static inline std::unique_ptr<EmbeddedPostgres> pg_;
};

}  // namespace stratus::testing_util

#endif  // STRATUS_COMMON_TESTING_POSTGRES_SUITE_H_
