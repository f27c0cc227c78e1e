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

}  // namespace
}  // namespace stratus::ingest
