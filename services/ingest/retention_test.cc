// Retention against a real PostgreSQL and temporary folders, with a fixed clock and explicit
// event times and file ages: old events go in batches and only where the lock is free, the
// snapshot folder is trimmed by age then size (oldest first), the spool keeps its newest events
// within its bound and counts what it drops.
#include "services/ingest/retention.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/testing/eventually.h"
#include "common/testing/postgres_suite.h"
#include "services/ingest/schema.h"

namespace stratus::ingest {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using ::testing::HasSubstr;
using SysClock = std::chrono::system_clock;

// 2026-01-01T00:00:00Z
const SysClock::time_point kNow = SysClock::from_time_t(1767225600);

class RetentionTest : public testing_util::PostgresSuite {
 protected:
  void SetUp() override {
    db_ = Connect({.pool_size = 4});
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(db_->Migrate("ingest", Migrations()).ok());
    ASSERT_TRUE(db_->Transact([](pqxx::work& tx) {
                     tx.exec("TRUNCATE ingest_events");
                     return absl::OkStatus();
                   })
                    .ok());
    work_ = dir() / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(work_);
    fs::create_directories(work_);
  }

  v1::Event At(const std::string& uid, SysClock::time_point t) {
    v1::Event e;
    e.set_uid(uid);
    e.set_stream("cam");
    e.set_type(v1::Event::PERSON_APPEARED);
    e.mutable_time()->set_seconds(SysClock::to_time_t(t));
    return e;
  }
  Retention::Options Fixed() {
    Retention::Options o;
    o.now = [] { return kNow; };
    return o;
  }
  std::vector<std::string> StoredUids(EventStore& store) {
    auto page = store.List({}, 1000, "", false);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> uids;
    if (page.ok()) {
      for (const auto& e : page->first) uids.push_back(e.uid());
    }
    return uids;
  }

  std::unique_ptr<Database> db_;
  fs::path work_;
  metrics::Registry registry_;
};

TEST_F(RetentionTest, EventsOlderThanTheRetentionAreDeletedInBatches) {
  auto store = EventStore::Create(db_.get(), {.spool_dir = (work_ / "spool").string()});
  ASSERT_TRUE(store.ok()) << store.status();
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE((*store)->Record(At(absl::StrCat("old", i), kNow - hours(24 * 31 + i))).ok());
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*store)->Record(At(absl::StrCat("new", i), kNow - hours(24 * 29 + i))).ok());
  }
  Retention::Options o = Fixed();
  o.event_batch = 5;  // 12 old events: batches of 5, 5 and 2
  o.event_retention = hours(24 * 30);
  Retention retention(db_.get(), store->get(), &registry_, o);
  auto pass = retention.RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->events_deleted, 12);
  EXPECT_FALSE(pass->events_skipped);
  EXPECT_THAT(StoredUids(**store), ::testing::UnorderedElementsAre("new0", "new1", "new2"));
  EXPECT_THAT(registry_.Serialize(),
              HasSubstr("stratus_ingest_retention_deleted_total{what=\"events\"} 12\n"));
  // Nothing more to do.
  pass = retention.RunOnce();
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->events_deleted, 0);
}

// Start() runs a pass at once and then every interval; Stop() does not wait for the next.
TEST_F(RetentionTest, TheThreadPassesAtStartAndStopsPromptly) {
  auto store = EventStore::Create(db_.get(), {.spool_dir = (work_ / "spool").string()});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Record(At("old", kNow - hours(24 * 40))).ok());
  ASSERT_TRUE((*store)->Record(At("new", kNow - hours(1))).ok());
  Retention::Options o = Fixed();
  o.interval = hours(1);
  Retention retention(db_.get(), store->get(), &registry_, o);
  retention.Start();
  ASSERT_TRUE(testing_util::Eventually(
      [&] { return StoredUids(**store) == std::vector<std::string>{"new"}; }));
  const auto t0 = std::chrono::steady_clock::now();
  retention.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

// Of the lease epochs begun before the cutoff, only each stream's newest stays, and the events
// the pruned ones would have refused are refused still.
TEST_F(RetentionTest, LeaseEpochsBeforeTheCutoffArePrunedToTheNewest) {
  const auto ms = [](SysClock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  };
  ASSERT_TRUE(db_->Transact([&](pqxx::work& tx) {
                   tx.exec("TRUNCATE ingest_stream_epochs");
                   const std::vector<std::tuple<std::string, int, int>> rows = {
                       {"cam", 1, 40}, {"cam", 2, 35}, {"cam", 3, 10}, {"other", 4, 50}};
                   for (const auto& [stream, epoch, days_ago] : rows) {
                     tx.exec_params(
                         "INSERT INTO ingest_stream_epochs (stream, epoch, owner, since) "
                         "VALUES ($1, $2, 'r', to_timestamp($3::double precision / 1000))",
                         stream, epoch, ms(kNow - hours(24 * days_ago)));
                   }
                   return absl::OkStatus();
                 })
                  .ok());
  auto store = EventStore::Create(db_.get(), {.spool_dir = (work_ / "spool").string()});
  ASSERT_TRUE(store.ok());
  Retention::Options o = Fixed();
  Retention retention(db_.get(), store->get(), &registry_, o);
  auto pass = retention.RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->epochs_deleted, 1);
  auto left = db_->Query<std::string>([](pqxx::work& tx) -> absl::StatusOr<std::string> {
    return tx
        .exec1(
            "SELECT string_agg(stream || ':' || epoch, ',' ORDER BY epoch) "
            "FROM ingest_stream_epochs")[0]
        .as<std::string>();
  });
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, "cam:2,cam:3,other:4");
  // Epoch 1's replica, 20 days ago, after epoch 2 had begun: refused, as before the pruning.
  v1::Event stale = At("stale", kNow - hours(24 * 20));
  stale.set_lease_epoch(1);
  ASSERT_TRUE((*store)->Record(stale).ok());
  v1::Event fresh = At("fresh", kNow - hours(24 * 5));
  fresh.set_lease_epoch(3);
  ASSERT_TRUE((*store)->Record(fresh).ok());
  EXPECT_THAT(StoredUids(**store), ::testing::ElementsAre("fresh"));
}

TEST_F(RetentionTest, AReplicaSkipsTheEventsWhileAnotherHoldsTheLock) {
  auto store = EventStore::Create(db_.get(), {.spool_dir = (work_ / "spool").string()});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Record(At("old", kNow - hours(24 * 40))).ok());
  Retention::Options o = Fixed();
  Retention retention(db_.get(), store->get(), &registry_, o);
  // Another replica's pass, in the middle of a batch.
  pqxx::connection other(postgres().url());
  auto holder = std::make_unique<pqxx::work>(other);
  holder->exec_params("SELECT pg_advisory_xact_lock($1)", Retention::kRetentionLock);
  bool skipped = false;
  auto deleted = retention.DeleteOldEvents(&skipped);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_TRUE(skipped);
  EXPECT_EQ(*deleted, 0);
  EXPECT_THAT(StoredUids(**store), ::testing::ElementsAre("old"));
  holder->commit();
  holder.reset();
  deleted = retention.DeleteOldEvents(&skipped);
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(skipped);
  EXPECT_EQ(*deleted, 1);
  EXPECT_TRUE(StoredUids(**store).empty());
}

TEST_F(RetentionTest, SnapshotsAreTrimmedByAgeThenBySizeOldestFirst) {
  const fs::path snaps = work_ / "snapshots";
  auto make = [&](const std::string& rel, int bytes, SysClock::time_point modified) {
    fs::path p = snaps / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << std::string(bytes, 'x');
    fs::last_write_time(p, std::chrono::file_clock::from_sys(modified));
    return p;
  };
  const auto ancient = make("cam1/ancient.jpg", 100, kNow - hours(24 * 8));  // past 7 days
  const auto d4 = make("cam2/d4.jpg", 100, kNow - hours(24 * 4));
  const auto d3 = make("cam1/d3.jpg", 100, kNow - hours(24 * 3));
  const auto d2 = make("cam2/d2.jpg", 100, kNow - hours(24 * 2));
  const auto d1 = make("cam1/d1.jpg", 100, kNow - hours(24 * 1));
  const auto other = make("cam1/notes.txt", 100, kNow - hours(24 * 30));  // not a snapshot
  Retention::Options o = Fixed();
  o.snapshot_dir = snaps.string();
  o.snapshot_retention = hours(24 * 7);
  o.snapshot_max_bytes = 350;  // four are left after the age cut: 400 bytes; one more goes
  Retention retention(db_.get(), nullptr, &registry_, o);
  int64_t left = 0;
  auto deleted = retention.TrimSnapshots(&left);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 2);
  EXPECT_EQ(left, 300);
  EXPECT_FALSE(fs::exists(ancient));
  EXPECT_FALSE(fs::exists(d4));
  EXPECT_TRUE(fs::exists(d3));
  EXPECT_TRUE(fs::exists(d2));
  EXPECT_TRUE(fs::exists(d1));
  EXPECT_TRUE(fs::exists(other));
  const std::string text = registry_.Serialize();
  EXPECT_THAT(text, HasSubstr("stratus_ingest_retention_deleted_total{what=\"snapshots\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("stratus_ingest_snapshot_bytes 300\n"));

  // A folder not made yet is not an error.
  o.snapshot_dir = (work_ / "none").string();
  Retention empty(db_.get(), nullptr, &registry_, o);
  deleted = empty.TrimSnapshots(&left);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 0);
}

TEST_F(RetentionTest, AFullSpoolDropsItsOldestEventsAndCountsThem) {
  const std::string spool = (work_ / "spool").string();
  // Nothing listens on port 1: every event goes to the spool.
  auto down = Database::Create(
      {.url = "postgresql://postgres@127.0.0.1:1/none", .connect_timeout_seconds = 1});
  ASSERT_TRUE(down.ok());
  constexpr int kEvents = 60;
  constexpr int64_t kMax = 1500;  // about 15 of the 60 events
  size_t dropped = 0;
  {
    auto store = EventStore::Create(down->get(), {.spool_dir = spool,
                                                  .flush_interval = std::chrono::milliseconds(20),
                                                  .spool_max_bytes = kMax,
                                                  .metrics = &registry_});
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < kEvents; ++i) {
      ASSERT_TRUE((*store)->Record(At(absl::StrCat("e", i), kNow + std::chrono::seconds(i))).ok());
    }
    // The flush thread brings the spool back within its bound by itself.
    ASSERT_TRUE(testing_util::Eventually([&] { return (*store)->SpoolBytes() <= kMax; },
                                         std::chrono::seconds(10)));
    dropped = (*store)->dropped();
    EXPECT_GT(dropped, 0u);
    EXPECT_EQ(dropped + (*store)->spooled(), static_cast<size_t>(kEvents));
    EXPECT_THAT(registry_.Serialize(),
                HasSubstr(absl::StrCat("stratus_ingest_spool_dropped_total ", dropped, "\n")));
    auto again = (*store)->EnforceSpoolLimit();  // within the bound: nothing more
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, 0u);
  }
  // Opened again with a lower bound (no database yet), the spool is trimmed at once.
  {
    auto store = EventStore::Create(down->get(), {.spool_dir = spool,
                                                  .flush_interval = std::chrono::milliseconds(20),
                                                  .spool_max_bytes = kMax / 2,
                                                  .metrics = nullptr});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(testing_util::Eventually([&] { return (*store)->SpoolBytes() <= kMax / 2; },
                                         std::chrono::seconds(10)));
    dropped += (*store)->dropped();
  }
  // What is left is the newest events, and they all reach the database.
  auto store = EventStore::Create(db_.get(), {.spool_dir = spool});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Flush().ok());
  std::vector<std::string> expected;
  for (int i = static_cast<int>(dropped); i < kEvents; ++i) {
    expected.push_back(absl::StrCat("e", i));
  }
  EXPECT_THAT(StoredUids(**store), ::testing::UnorderedElementsAreArray(expected));
}

}  // namespace
}  // namespace stratus::ingest
