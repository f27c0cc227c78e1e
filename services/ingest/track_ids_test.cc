// TrackIds against a real PostgreSQL and real leases: ids of a stream never repeat across a
// restart of its worker, a lease moving to another replica, or the stream being removed and
// added again; a replica that lost the lease cannot reserve; a block used up carries on above.
#include "services/ingest/track_ids.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "common/testing/postgres_suite.h"
#include "services/ingest/leases.h"
#include "services/ingest/schema.h"
#include "services/ingest/tracker.h"

namespace stratus::ingest {
namespace {

class TrackIdsTest : public testing_util::PostgresSuite {
 protected:
  void SetUp() override {
    db_ = Connect();
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(db_->Migrate("ingest", Migrations()).ok());
    ASSERT_TRUE(db_->Transact([](pqxx::work& tx) {
                     tx.exec("TRUNCATE ingest_streams, ingest_replicas, ingest_track_ids");
                     return absl::OkStatus();
                   })
                    .ok());
    AddStream();
  }
  void AddStream() {
    ASSERT_TRUE(db_->Transact([](pqxx::work& tx) {
                     tx.exec(
                         "INSERT INTO ingest_streams (name, config) "
                         "VALUES ('cam', '{\"name\": \"cam\", \"uri\": \"rtsp://cam/\"}')");
                     return absl::OkStatus();
                   })
                    .ok());
  }
  // The epoch under which `replica` holds cam after a lease round (0: not held).
  int64_t Take(LeaseManager& leases) {
    auto round = leases.Tick();
    EXPECT_TRUE(round.ok()) << round.status();
    if (!round.ok() || !round->held.count("cam")) return 0;
    return round->held.at("cam").epoch;
  }
  std::vector<int64_t> Draw(TrackIds& ids, int n) {
    std::vector<int64_t> out;
    for (int i = 0; i < n; ++i) out.push_back(ids.Next());
    return out;
  }

  std::unique_ptr<Database> db_;
};

TEST_F(TrackIdsTest, ANewWorkerOrEpochOfTheStreamNeverReusesAnId) {
  LeaseManager r1(db_.get(), {"r1", std::chrono::seconds(30)});
  LeaseManager r2(db_.get(), {"r2", std::chrono::seconds(30)});
  const int64_t e1 = Take(r1);
  ASSERT_GT(e1, 0);
  std::set<int64_t> seen;
  int64_t high = 0;
  auto check = [&](const std::vector<int64_t>& ids) {
    for (int64_t id : ids) {
      EXPECT_GT(id, 0);
      EXPECT_TRUE(seen.insert(id).second) << "id " << id << " handed out twice";
      EXPECT_GT(id, high) << "id " << id << " not above an earlier one";
    }
    for (int64_t id : ids) high = std::max(high, id);
  };

  // The first worker: a block of 4, topped up when low; small ids from 1.
  TrackIds first(db_.get(), "cam", "r1", e1, 4);
  EXPECT_TRUE(first.Low());
  ASSERT_TRUE(first.Reserve().ok());
  EXPECT_FALSE(first.Low());
  auto ids = Draw(first, 3);
  EXPECT_THAT(ids, testing::ElementsAre(1, 2, 3));
  check(ids);
  EXPECT_TRUE(first.Low());
  ASSERT_TRUE(first.Reserve().ok());  // contiguous: 5..8
  ids = Draw(first, 4);
  EXPECT_THAT(ids, testing::ElementsAre(4, 5, 6, 7));
  check(ids);
  // The block runs out (the database unreachable, say): it carries on above, and the next
  // reservation starts above what was used.
  ids = Draw(first, 3);
  EXPECT_THAT(ids, testing::ElementsAre(8, 9, 10));
  check(ids);
  ASSERT_TRUE(first.Reserve().ok());
  ids = Draw(first, 1);
  EXPECT_THAT(ids, testing::ElementsAre(11));
  check(ids);

  // The worker restarts on the same replica and lease: above everything reserved.
  TrackIds restarted(db_.get(), "cam", "r1", e1, 4);
  ASSERT_TRUE(restarted.Reserve().ok());
  ids = Draw(restarted, 2);
  check(ids);

  // The lease moves to r2: r1 cannot reserve any more, r2 starts above.
  ASSERT_TRUE(r1.ReleaseAll().ok());
  const int64_t e2 = Take(r2);
  ASSERT_GT(e2, e1);
  EXPECT_EQ(first.Reserve().code(), absl::StatusCode::kFailedPrecondition);
  TrackIds stale(db_.get(), "cam", "r1", e1, 4);
  EXPECT_EQ(stale.Reserve().code(), absl::StatusCode::kFailedPrecondition);
  TrackIds moved(db_.get(), "cam", "r2", e2, 4);
  ASSERT_TRUE(moved.Reserve().ok());
  ids = Draw(moved, 4);
  check(ids);

  // The stream is removed and added again under the same name: its ids carry on.
  ASSERT_TRUE(db_->Transact([](pqxx::work& tx) {
                   tx.exec("DELETE FROM ingest_streams WHERE name = 'cam'");
                   return absl::OkStatus();
                 })
                  .ok());
  AddStream();
  const int64_t e3 = Take(r2);
  ASSERT_GT(e3, e2);
  TrackIds again(db_.get(), "cam", "r2", e3, 4);
  ASSERT_TRUE(again.Reserve().ok());
  ids = Draw(again, 2);
  check(ids);
  // Small: only the unused rest of each block is skipped.
  EXPECT_LT(high, 40);
}

TEST_F(TrackIdsTest, TrackersOfAStreamShareItsIds) {
  LeaseManager r1(db_.get(), {"r1", std::chrono::seconds(30)});
  const int64_t epoch = Take(r1);
  ASSERT_GT(epoch, 0);
  auto ids = std::make_shared<TrackIds>(db_.get(), "cam", "r1", epoch);
  ASSERT_TRUE(ids->Reserve().ok());
  auto options = [&](const std::string& label) {
    Tracker::Options o;
    o.min_hits = 1;
    o.labels = {label};
    o.next_id = [ids] { return ids->Next(); };
    return o;
  };
  Tracker people(options("person")), faces(options("face"));
  auto detection = [](const std::string& label, float left) {
    v1::Detection d;
    d.set_label(label);
    d.set_confidence(0.9f);
    d.mutable_box()->set_left(left);
    d.mutable_box()->set_top(0.1f);
    d.mutable_box()->set_width(0.1f);
    d.mutable_box()->set_height(0.2f);
    return d;
  };
  const auto now = Clock::now();
  auto p = people.Observe({detection("person", 0.1f), detection("person", 0.5f)}, now);
  auto f = faces.Observe({detection("face", 0.1f)}, now);
  ASSERT_EQ(p.appeared.size(), 2u);
  ASSERT_EQ(f.appeared.size(), 1u);
  EXPECT_THAT(std::vector<int64_t>({p.appeared[0].id, p.appeared[1].id, f.appeared[0].id}),
              testing::UnorderedElementsAre(1, 2, 3));
}

}  // namespace
}  // namespace stratus::ingest
