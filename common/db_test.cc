#include "common/db.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "common/testing/postgres_suite.h"

namespace stratus {
namespace {

class DbTest : public testing_util::PostgresSuite {
 protected:
  std::unique_ptr<Database> Open() { return Connect({.pool_size = 2}); }
};

const std::vector<Migration> kMigrations = {
    {1, "items", "CREATE TABLE items (id serial PRIMARY KEY, name text UNIQUE NOT NULL)"},
    {2, "items.size", "ALTER TABLE items ADD COLUMN size integer NOT NULL DEFAULT 0"},
};

TEST_F(DbTest, MigrationsApplyOnceAndQueriesAreParameterised) {
  auto db = Open();
  ASSERT_TRUE(db->Migrate("test", kMigrations).ok());
  ASSERT_TRUE(db->Migrate("test", kMigrations).ok());  // idempotent
  auto count = db->Query<int>([](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec1("SELECT count(*) FROM schema_migrations WHERE component = 'test'")[0].as<int>();
  });
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2);

  const std::string tricky = "Robert'); DROP TABLE items;--";
  ASSERT_TRUE(db->Transact([&](pqxx::work& tx) {
                  tx.exec_params("INSERT INTO items (name, size) VALUES ($1, $2)", tricky, 3);
                  return absl::OkStatus();
                }).ok());
  auto name = db->Query<std::string>([](pqxx::work& tx) -> absl::StatusOr<std::string> {
    return tx.exec1("SELECT name FROM items WHERE size = 3")[0].as<std::string>();
  });
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, tricky);

  // Unique violations become ALREADY_EXISTS; a failing function rolls back.
  auto dup = db->Transact([&](pqxx::work& tx) {
    tx.exec_params("INSERT INTO items (name) VALUES ($1)", tricky);
    return absl::OkStatus();
  });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  auto rolled = db->Transact([&](pqxx::work& tx) {
    tx.exec_params("INSERT INTO items (name) VALUES ($1)", "rolled back");
    return absl::CancelledError("changed my mind");
  });
  EXPECT_EQ(rolled.code(), absl::StatusCode::kCancelled);
  auto n = db->Query<int>([](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec1("SELECT count(*) FROM items")[0].as<int>();
  });
  EXPECT_EQ(*n, 1);
}

TEST_F(DbTest, ConcurrentMigrationsDoNotRace) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto db = Database::Create({.url = postgres().url()});
      if (!(*db)->Migrate("race", {{1, "t", "CREATE TABLE race_t (x int)"}}).ok()) failures++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(DbTest, SurvivesServerLossAndRecovers) {
  auto db = Open();
  ASSERT_TRUE(db->Ping().ok());
  postgres().Kill();
  absl::Status down = db->Ping();
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable) << down;
  EXPECT_EQ(db->Ping().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(postgres().Restart().ok());
  EXPECT_TRUE(db->Ping().ok());
}

TEST(DbCreateTest, RejectsEmptyUrl) { EXPECT_FALSE(Database::Create({}).ok()); }

}  // namespace
}  // namespace stratus
