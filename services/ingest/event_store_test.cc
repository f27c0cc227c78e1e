// EventStore against a real PostgreSQL: what readers that follow the table (WatchEvents) see
// while several replicas write at once.
#include "services/ingest/event_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/postgres_suite.h"
#include "services/ingest/schema.h"

namespace stratus::ingest {
namespace {

class EventStoreTest : public testing_util::PostgresSuite {};

v1::Event PersonEvent(const std::string& stream, int n) {
  v1::Event e;
  e.set_stream(stream);
  e.set_type(v1::Event::PERSON_APPEARED);
  e.mutable_time()->set_seconds(1700000000 + n);
  return e;
}

// Ids come from a sequence before commit, and transactions of different replicas commit in any
// order; a follower that moves its cursor to the last id it saw must still see every event.
TEST_F(EventStoreTest, AFollowerOfTheTableMissesNoEventOfConcurrentReplicas) {
  auto db = Connect({.pool_size = 8});
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Migrate("ingest", Migrations()).ok());
  constexpr int kReplicas = 4, kEach = 250;
  std::vector<std::unique_ptr<EventStore>> stores;
  for (int r = 0; r < kReplicas; ++r) {
    auto s = EventStore::Create(db.get(), {.spool_dir = (dir() / absl::StrCat("spool", r)).string()});
    ASSERT_TRUE(s.ok()) << s.status();
    stores.push_back(std::move(*s));
  }
  std::atomic<bool> writing{true};
  std::set<int64_t> seen;
  std::thread follower([&] {
    int64_t cursor = 0;
    auto drain = [&] {
      for (;;) {
        auto events = stores[0]->After(cursor, {}, 50);
        ASSERT_TRUE(events.ok()) << events.status();
        for (const auto& e : *events) {
          seen.insert(e.id());
          cursor = e.id();
        }
        if (events->size() < 50) return;
      }
    };
    while (writing) drain();
    drain();
  });
  std::vector<std::thread> writers;
  for (int r = 0; r < kReplicas; ++r) {
    writers.emplace_back([&, r] {
      for (int i = 0; i < kEach; ++i) {
        ASSERT_TRUE(stores[r]->Record(PersonEvent(absl::StrCat("cam", r), i)).ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  for (auto& s : stores) ASSERT_EQ(s->spooled(), 0u);  // all went straight to the database
  writing = false;
  follower.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kReplicas * kEach));
}

// Replica A held cam's lease (epoch 1) until B took it (epoch 2) at T+10 s. A's events from
// before T+10 are kept, also when they arrive late from its spool; those from after are refused.
TEST_F(EventStoreTest, EventsOfALeaseThatHadPassedOnAreRefused) {
  auto db = Connect();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Migrate("ingest", Migrations()).ok());
  constexpr int64_t kT = 1800000000;
  ASSERT_TRUE(db->Transact([&](pqxx::work& tx) {
                  tx.exec("DELETE FROM ingest_stream_epochs");
                  tx.exec_params(
                      "INSERT INTO ingest_stream_epochs (stream, epoch, owner, since) VALUES "
                      "('cam', 1, 'a', to_timestamp($1)), ('cam', 2, 'b', to_timestamp($1 + 10))",
                      kT);
                  return absl::OkStatus();
                }).ok());
  metrics::Registry registry;
  auto store = EventStore::Create(
      db.get(), {.spool_dir = (dir() / "spool-fence").string(), .metrics = &registry});
  ASSERT_TRUE(store.ok()) << store.status();
  auto event = [&](const std::string& uid, int64_t epoch, int64_t at) {
    v1::Event e;
    e.set_uid(uid);
    e.set_stream("cam");
    e.set_type(v1::Event::PERSON_APPEARED);
    e.set_lease_epoch(epoch);
    e.mutable_time()->set_seconds(at);
    return e;
  };
  for (const v1::Event& e :
       {event("a-before", 1, kT + 5), event("a-after", 1, kT + 15), event("b-after", 2, kT + 15),
        event("unfenced", 0, kT + 15), event("other-stream", 1, kT + 15)}) {
    v1::Event copy = e;
    if (e.uid() == "other-stream") copy.set_stream("door");
    ASSERT_TRUE((*store)->Record(copy).ok());
  }
  auto stored = db->Query<std::vector<std::string>>(
      [](pqxx::work& tx) -> absl::StatusOr<std::vector<std::string>> {
        std::vector<std::string> uids;
        for (const auto& r : tx.exec("SELECT event_uid FROM ingest_events WHERE at > "
                                     "to_timestamp(1799999999) ORDER BY event_uid")) {
          uids.push_back(r[0].c_str());
        }
        return uids;
      });
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_THAT(*stored, ::testing::ElementsAre("a-before", "b-after", "other-stream", "unfenced"));
  EXPECT_THAT(registry.Serialize(),
              ::testing::HasSubstr("stratus_ingest_event_writes_total{result=\"fenced\"} 1\n"));
}

}  // namespace
}  // namespace stratus::ingest
