// Faults on real processes: a stratus-ingest process (the built binary) analysing a video
// against the stand-in detector (in this process, real gRPC), a real PostgreSQL. Every wait is
// on a condition (events in the table, lines in the spool, the spool gone), never a fixed sleep.
//
// What each test counts, from what the database and the spool hold:
//   lost          events that were durable somewhere (committed, or fsynced in the spool at the
//                 moment of the fault) and are not in the table at the end: must be 0;
//   stored twice  the same event (stream, type, track, capture time) under two rows: must be 0.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/auth/key_store.h"
#include "common/auth/testing/test_keys.h"
#include "common/db.h"
#include "common/embedded_postgres.h"
#include "common/subprocess.h"
#include "common/testing/eventually.h"
#include "services/ingest/schema.h"
#include "services/ingest/testing/square_detector.h"
#include "stratus/v1/ingest.grpc.pb.h"

namespace stratus {
namespace {

using ::stratus::testing_util::Eventually;
namespace fs = std::filesystem;
using std::chrono::seconds;

class ChaosTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / absl::StrCat("stratus-chaos-", getpid());
    fs::create_directories(dir_);
    auto pg = EmbeddedPostgres::Start({.data_dir = (dir_ / "pg").string()});
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = std::move(*pg);
    auto db = Database::Create({.url = pg_->url(), .connect_timeout_seconds = 1});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Migrate("ingest", ingest::Migrations()).ok());
    detector_ = ingest::testing_util::StartSquareDetector();
    ASSERT_NE(detector_, nullptr);
    video_ = (dir_ / "square.avi").string();
    // 4 s at 10 fps: the square crosses in the first 2 s, then the room is empty; it loops.
    ingest::testing_util::WriteSquareVideo(video_, 40, 10, 20);
    grpc_port_ = *PickFreePort();
    http_port_ = *PickFreePort();
    // The test's key, from a file so that an ingest started while PostgreSQL is away accepts
    // it too; ingest sends the stand-in detector's read key.
    keys_file_ = (dir_ / "api-keys").string();
    auto line = auth::KeysFileLine(auth::testing::kAdminKey, {{"*", auth::Level::kAdmin}});
    ASSERT_TRUE(line.ok()) << line.status();
    std::ofstream(keys_file_) << *line << "\n";
  }
  void TearDown() override {
    ingest_.reset();
    detector_.reset();
    db_.reset();
    pg_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  void StartIngest() {
    const char* bin = std::getenv("STRATUS_BINARY_DIR");
    ASSERT_NE(bin, nullptr) << "run through ctest";
    auto p = Subprocess::Spawn(
        {.argv = {absl::StrCat(bin, "/bin/stratus-ingest")},
         .env = {{"STRATUS_GRPC_PORT", std::to_string(grpc_port_)},
                 {"STRATUS_HTTP_PORT", std::to_string(http_port_)},
                 {"STRATUS_LISTEN", "127.0.0.1"},
                 {"STRATUS_DATABASE_URL", pg_->url()},
                 {"STRATUS_REPLICA_ID", "r1"},
                 {"STRATUS_LEASE_SECONDS", "3"},
                 {"STRATUS_SPOOL_DIR", (dir_ / "spool").string()},
                 {"STRATUS_DETECTOR_ADDR", absl::StrCat("127.0.0.1:", detector_->grpc_port())},
                 {"STRATUS_MASK_ADDR", ""},
                 {"STRATUS_RECOGNITION_ADDR", ""},
                 {"STRATUS_DRAIN_MS", "500"},
                 {"STRATUS_API_KEYS_FILE", keys_file_},
                 {"STRATUS_API_KEY", auth::testing::kReadKey},
                 // The test video lives in dir_: local files are streamed from media roots only.
                 {"STRATUS_MEDIA_ROOT", dir_.string()}},
         .log_file = (dir_ / "ingest.log").string()});
    ASSERT_TRUE(p.ok()) << p.status();
    ingest_ = std::move(*p);
  }

  void AddStream() {
    auto stub = v1::IngestService::NewStub(
        auth::testing::AdminChannel(absl::StrCat("127.0.0.1:", grpc_port_)));
    v1::AddStreamRequest req;
    req.mutable_config()->set_name("cam");
    req.mutable_config()->set_uri(video_);
    req.mutable_config()->set_sample_fps(10);
    req.set_replace(true);
    ASSERT_TRUE(Eventually(
        [&] {
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + seconds(2));
          v1::AddStreamResponse resp;
          return stub->AddStream(&ctx, req, &resp).ok();
        },
        seconds(30), std::chrono::milliseconds(200)));
  }

  // Event uids in the table. The test's own connections may have died with the server: the
  // query is retried until it answers (a failed test if it never does).
  std::set<std::string> StoredUids() {
    absl::StatusOr<std::set<std::string>> r = absl::UnknownError("not run");
    EXPECT_TRUE(Eventually(
        [&] {
          r = db_->Query<std::set<std::string>>([](pqxx::work& tx) {
            std::set<std::string> out;
            for (const auto& row : tx.exec("SELECT event_uid FROM ingest_events")) {
              out.insert(row[0].as<std::string>());
            }
            return absl::StatusOr<std::set<std::string>>(out);
          });
          return r.ok();
        },
        seconds(20), std::chrono::milliseconds(200)))
        << r.status();
    return r.ok() ? *r : std::set<std::string>{};
  }
  int64_t Count(const std::string& type) {
    auto r = db_->Query<int64_t>([&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
      return tx.exec_params1("SELECT count(*) FROM ingest_events WHERE type = $1", type)[0]
          .as<int64_t>();
    });
    return r.ok() ? *r : -1;
  }
  int64_t StoredTwice() {
    absl::StatusOr<int64_t> r = absl::UnknownError("not run");
    EXPECT_TRUE(Eventually(
        [&] {
          r = db_->Query<int64_t>([](pqxx::work& tx) -> absl::StatusOr<int64_t> {
            return tx
                .exec1(
                    "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM "
                    "ingest_events GROUP BY stream, type, at, payload->>'track_id') d")[0]
                .as<int64_t>();
          });
          return r.ok();
        },
        seconds(20), std::chrono::milliseconds(200)));
    return r.ok() ? *r : -1;
  }
  // Uids of the events fsynced in the spool right now.
  std::set<std::string> SpooledUids() {
    std::set<std::string> out;
    for (const char* name : {"events.jsonl", "events.flushing.jsonl"}) {
      std::ifstream in(dir_ / "spool" / "r1" / name);
      std::string line;
      while (std::getline(in, line)) {
        auto tab = line.find('\t');
        if (tab != std::string::npos && tab > 0) out.insert(line.substr(0, tab));
      }
    }
    return out;
  }
  bool SpoolEmpty() {
    return !fs::exists(dir_ / "spool" / "r1" / "events.jsonl") &&
           !fs::exists(dir_ / "spool" / "r1" / "events.flushing.jsonl");
  }
  std::string Log() {
    std::ifstream in(dir_ / "ingest.log");
    std::string s((std::istreambuf_iterator<char>(in)), {});
    return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
  }

  fs::path dir_;
  std::unique_ptr<EmbeddedPostgres> pg_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<ingest::testing_util::SquareDetector> detector_;
  std::string video_;
  std::string keys_file_;
  int grpc_port_ = 0, http_port_ = 0;
  std::unique_ptr<Subprocess> ingest_;
};

// PostgreSQL killed, then ingest SIGKILLed while it is down; PostgreSQL restarted, ingest
// restarted on the same replica id and spool: what the first process spooled is replayed by the
// second, once.
TEST_F(ChaosTest, IngestKilledDuringDatabaseOutageLosesNothing) {
  StartIngest();
  AddStream();
  ASSERT_TRUE(Eventually([&] { return Count("PERSON_LEFT") >= 1; }, seconds(60))) << Log();
  std::set<std::string> committed = StoredUids();
  pg_->Kill();
  // Events keep coming while the database is gone: they land in the spool.
  ASSERT_TRUE(Eventually([&] { return SpooledUids().size() >= 2; }, seconds(60))) << Log();
  ingest_->Signal(SIGKILL);
  ASSERT_TRUE(ingest_->Wait(seconds(10)).has_value());
  std::set<std::string> spooled = SpooledUids();
  ASSERT_TRUE(pg_->Restart().ok());
  StartIngest();
  ASSERT_TRUE(Eventually([&] { return SpoolEmpty(); }, seconds(60))) << Log();
  std::set<std::string> stored = StoredUids();
  int lost = 0;
  for (const auto* set : {&committed, &spooled}) {
    for (const auto& uid : *set) lost += stored.count(uid) == 0;
  }
  EXPECT_EQ(lost, 0) << "committed " << committed.size() << ", spooled " << spooled.size();
  EXPECT_EQ(StoredTwice(), 0);
  // The restarted process goes on analysing: more crossings arrive.
  int64_t left = Count("PERSON_LEFT");
  EXPECT_TRUE(Eventually([&] { return Count("PERSON_LEFT") > left; }, seconds(60))) << Log();
  EXPECT_EQ(StoredTwice(), 0);
  std::cerr << "chaos kill-during-outage: committed before=" << committed.size()
            << " spooled at kill=" << spooled.size() << " stored after=" << stored.size()
            << " lost=" << lost << "\n";
}

// PostgreSQL frozen (SIGSTOP on the server and its backends: connections hang, nothing
// fails) and thawed: writes miss their deadline and go to the spool instead of hanging the
// stream; after the thaw the spool drains and each event is stored once, including those whose
// late commit raced their spooled copy.
TEST_F(ChaosTest, FrozenDatabaseLosesNothingAndStoresNothingTwice) {
  StartIngest();
  AddStream();
  ASSERT_TRUE(Eventually([&] { return Count("PERSON_APPEARED") >= 1; }, seconds(60))) << Log();
  pg_->SignalAll(SIGSTOP);
  ASSERT_TRUE(Eventually([&] { return SpooledUids().size() >= 2; }, seconds(60))) << Log();
  std::set<std::string> spooled = SpooledUids();
  pg_->SignalAll(SIGCONT);
  ASSERT_TRUE(Eventually([&] { return SpoolEmpty(); }, seconds(60))) << Log();
  std::set<std::string> stored = StoredUids();
  int lost = 0;
  for (const auto& uid : spooled) lost += stored.count(uid) == 0;
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(StoredTwice(), 0);
  EXPECT_TRUE(ingest_->Running());
  std::cerr << "chaos frozen: spooled while frozen=" << spooled.size()
            << " stored after=" << stored.size() << " lost=" << lost << "\n";
}

// PostgreSQL killed and restarted under a running ingest: nothing spooled is lost, and the
// process never needs a restart.
TEST_F(ChaosTest, DatabaseRestartedUnderRunningIngest) {
  StartIngest();
  AddStream();
  ASSERT_TRUE(Eventually([&] { return Count("PERSON_APPEARED") >= 1; }, seconds(60))) << Log();
  std::set<std::string> committed = StoredUids();
  pg_->Kill();
  ASSERT_TRUE(Eventually([&] { return SpooledUids().size() >= 1; }, seconds(60))) << Log();
  ASSERT_TRUE(pg_->Restart().ok());
  ASSERT_TRUE(Eventually([&] { return SpoolEmpty() && StoredUids().size() > committed.size(); },
                         seconds(60)))
      << Log();
  std::set<std::string> stored = StoredUids();
  int lost = 0;
  for (const auto& uid : committed) lost += stored.count(uid) == 0;
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(StoredTwice(), 0);
  EXPECT_TRUE(ingest_->Running());
}

}  // namespace
}  // namespace stratus
