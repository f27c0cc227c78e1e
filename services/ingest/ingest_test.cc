// The ingest core against a real PostgreSQL and a detector over real gRPC: a stand-in detector
// that finds the bright square a synthetic video draws (so detections follow the picture), a
// video file that plays in real time, the tracker, the event store and its spool; and the
// gRPC adapter for the live view (GetStreamFrame, GetSnapshot) called with a read-only key.
#include "services/ingest/ingest.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <optional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/testing/test_keys.h"
#include "common/embedded_postgres.h"
#include "common/service_host.h"
#include "common/testing/eventually.h"
#include "services/ingest/ingest_service.h"
#include "services/ingest/schema.h"
#include "services/ingest/testing/square_detector.h"

namespace stratus::ingest {
namespace {

using ::stratus::testing_util::Eventually;

namespace fs = std::filesystem;

class IngestTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / absl::StrCat("stratus-ingest-", getpid());
    fs::create_directories(dir_);
    auto pg = EmbeddedPostgres::Start({.data_dir = (dir_ / "pg").string()});
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = std::move(*pg);
    auto db = Database::Create({.url = pg_->url()});
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Migrate("ingest", Migrations()).ok());
    detector_ = testing_util::StartSquareDetector();
    ASSERT_NE(detector_, nullptr);
    video_ = (dir_ / "square.avi").string();
    // 6 s at 10 fps: a square crosses the frame in the first 3 s, then the room is empty.
    testing_util::WriteSquareVideo(video_, 60, 10, 30);
  }
  void TearDown() override {
    ingest_.reset();
    detector_.reset();
    db_.reset();
    pg_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::unique_ptr<Ingest> MakeIngest(const std::string& replica,
                                     const std::string& detector_address = "",
                                     const std::string& snapshot_dir = "") {
    Ingest::Options o;
    o.replica_id = replica;
    o.lease = std::chrono::seconds(3);
    o.spool_dir = (dir_ / "spool" / replica).string();
    o.snapshot_dir = snapshot_dir.empty() ? (dir_ / "snapshots").string() : snapshot_dir;
    o.detector_address = detector_address.empty()
                             ? absl::StrCat("127.0.0.1:", detector_->grpc_port())
                             : detector_address;
    o.mask_address = "";
    o.recognition_address = "";
    o.worker.person_tracking.max_age = std::chrono::milliseconds(800);
    o.sources.media_roots = {dir_.string()};
    auto i = Ingest::Create(db_.get(), &registry_, o);
    EXPECT_TRUE(i.ok()) << i.status();
    return std::move(*i);
  }
  v1::StreamConfig Config(const std::string& name) {
    v1::StreamConfig c;
    c.set_name(name);
    c.set_uri(video_);
    c.set_sample_fps(10);
    return c;
  }
  std::vector<v1::Event> Events(const std::string& stream) {
    auto page = ingest_->events()->List({.stream = stream}, 1000, "", false);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->first : std::vector<v1::Event>{};
  }

  fs::path dir_;
  std::unique_ptr<EmbeddedPostgres> pg_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<testing_util::SquareDetector> detector_;
  metrics::Registry registry_;
  std::string video_;
  std::unique_ptr<Ingest> ingest_;
};

TEST_F(IngestTest, OneCrossingIsOneAppearanceAndOneDeparture) {
  ingest_ = MakeIngest("r1");
  ingest_->Start();
  ASSERT_TRUE(ingest_->AddStream(Config("cam1"), false).ok());
  // Adding it again is refused; replacing is fine.
  EXPECT_EQ(ingest_->AddStream(Config("cam1"), false).status().code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(Eventually(
      [&] {
        auto ev = Events("cam1");
        return std::count_if(ev.begin(), ev.end(), [](const v1::Event& e) {
                 return e.type() == v1::Event::PERSON_LEFT;
               }) >= 1;
      },
      std::chrono::seconds(30)));
  auto events = Events("cam1");
  // The file loops after a back-off, so more crossings may follow; the first two events are one
  // track: appeared, then left.
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0].type(), v1::Event::PERSON_APPEARED);
  EXPECT_EQ(events[1].type(), v1::Event::PERSON_LEFT);
  EXPECT_EQ(events[0].track_id(), events[1].track_id());
  EXPECT_EQ(events[0].replica(), "r1");
  ASSERT_EQ(events[0].boxes_size(), 1);
  EXPECT_GT(events[0].boxes(0).width(), 0.05);
  ASSERT_FALSE(events[0].snapshot_ref().empty());
  EXPECT_TRUE(fs::exists(events[0].snapshot_ref().substr(7)));

  auto streams = ingest_->ListStreams();
  ASSERT_TRUE(streams.ok());
  ASSERT_EQ(streams->size(), 1u);
  EXPECT_EQ((*streams)[0].owner(), "r1");
  EXPECT_GT((*streams)[0].frames_analysed(), 10);

  EXPECT_THAT(registry_.Serialize(),
              testing::HasSubstr("stratus_ingest_frames_total{stage=\"in\",stream=\"cam1\"}"));
  ASSERT_TRUE(ingest_->RemoveStream("cam1").ok());
  EXPECT_EQ(ingest_->RemoveStream("cam1").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(ingest_->Reconcile().ok());
  EXPECT_TRUE(ingest_->RunningStreams().empty());
  // The removed stream's series are gone from /metrics.
  EXPECT_THAT(registry_.Serialize(), testing::Not(testing::HasSubstr("stream=\"cam1\"")));
}

TEST_F(IngestTest, EventsAreSpooledWhileDatabaseIsDownAndNoneAreLost) {
  ingest_ = MakeIngest("r1");
  auto* store = ingest_->events();
  auto event = [](int i) {
    v1::Event e;
    e.set_stream("cam");
    e.set_type(v1::Event::PERSON_APPEARED);
    e.set_track_id(i);
    e.mutable_time()->set_seconds(1700000000 + i);
    return e;
  };
  ASSERT_TRUE(store->Record(event(0)).ok());
  pg_->Kill();
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(store->Record(event(i)).ok()) << i;
  EXPECT_EQ(store->spooled(), 20u);
  EXPECT_FALSE(ingest_->Reconcile().ok());  // no lease round without PostgreSQL
  EXPECT_THAT(registry_.Serialize(), testing::HasSubstr("stratus_ingest_spooled_events 20\n"));
  ASSERT_TRUE(pg_->Restart().ok());
  ASSERT_TRUE(Eventually([&] { return store->spooled() == 0; }, std::chrono::seconds(20)));
  // New events after recovery go after the spooled ones.
  ASSERT_TRUE(store->Record(event(21)).ok());
  auto all = Events("cam");
  ASSERT_EQ(all.size(), 22u);
  for (int i = 0; i <= 21; ++i) EXPECT_EQ(all[i].track_id(), i) << "order at " << i;
  // Replaying the same spool again (a crash between insert and truncate) stores nothing twice.
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(Events("cam").size(), 22u);
}

v1::Event TestEvent(int i) {
  v1::Event e;
  e.set_stream("cam");
  e.set_type(v1::Event::PERSON_APPEARED);
  e.set_track_id(i);
  e.mutable_time()->set_seconds(1700000000 + i);
  return e;
}

std::string SpoolLine(const std::string& uid, int i) {
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(TestEvent(i), &json, opts);
  return absl::StrCat(uid, "\t", json, "\n");
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(IngestTest, UnparseableSpoolLinesAreMovedAsideAndCounted) {
  // What an earlier run left: good lines, damage, and a line torn by a crash mid-append.
  fs::path spool = dir_ / "spool" / "r1";
  fs::create_directories(spool);
  {
    std::ofstream out(spool / "events.jsonl");
    out << SpoolLine("uid-1", 1) << "garbage without a tab\n"
        << SpoolLine("uid-2", 2) << "uid-3\t{\"stream\": 12, oops}\n"
        << SpoolLine("uid-4", 4).substr(0, 30);
  }
  ingest_ = MakeIngest("r1");
  auto* store = ingest_->events();
  EXPECT_EQ(store->spooled(), 2u);
  ASSERT_TRUE(Eventually([&] { return store->spooled() == 0; }, std::chrono::seconds(20)));
  auto all = Events("cam");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].track_id(), 1);
  EXPECT_EQ(all[1].track_id(), 2);
  EXPECT_EQ(all[0].uid(), "uid-1");
  EXPECT_EQ(store->rejected(), 3u);
  std::string rejected = ReadFile(spool / "events.rejected.jsonl");
  EXPECT_THAT(rejected, testing::HasSubstr("garbage without a tab"));
  EXPECT_THAT(rejected, testing::HasSubstr("oops"));
  EXPECT_THAT(rejected, testing::HasSubstr(SpoolLine("uid-4", 4).substr(0, 30)));
  EXPECT_FALSE(fs::exists(spool / "events.jsonl"));
  EXPECT_FALSE(fs::exists(spool / "events.flushing.jsonl"));
}

TEST_F(IngestTest, FrozenDatabaseCostsOneDeadlineAndLosesNothing) {
  auto store = EventStore::Create(db_.get(), {.spool_dir = (dir_ / "spool-frozen").string(),
                                              .flush_interval = std::chrono::milliseconds(200),
                                              .write_deadline = std::chrono::milliseconds(300)});
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Record(TestEvent(0)).ok());
  pg_->SignalAll(SIGSTOP);  // the server and every backend: connections hang, nothing fails
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE((*store)->Record(TestEvent(i)).ok()) << i;
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ((*store)->spooled(), 10u);
  // The first write waits out its deadline; the rest go straight to the spool.
  EXPECT_LT(took, std::chrono::milliseconds(300 + 2000));
  pg_->SignalAll(SIGCONT);
  ASSERT_TRUE(Eventually([&] { return (*store)->spooled() == 0; }, std::chrono::seconds(30)));
  // The write that missed its deadline may have committed late as well: stored once by uid.
  ingest_ = MakeIngest("r1");
  auto all = Events("cam");
  ASSERT_EQ(all.size(), 11u);
  for (int i = 0; i <= 10; ++i) EXPECT_EQ(all[i].track_id(), i) << "order at " << i;
}

// A replica cut off from the database (here: the server frozen, so its lease round hangs)
// while another replica is live stops its streams before the lease can expire, and the stream
// runs again once the replicas can renew.
TEST_F(IngestTest, AReplicaThatCannotRenewStopsItsStreamsBeforeTheLeaseExpires) {
  auto peer = MakeIngest("r0");
  ASSERT_TRUE(peer->Reconcile().ok());  // live, holding nothing yet
  ingest_ = MakeIngest("r1");           // lease 3 s: fenced after 2 s without a renewal
  ASSERT_TRUE(ingest_->AddStream(Config("cam1"), false).ok());
  ASSERT_TRUE(ingest_->Reconcile().ok());
  ASSERT_EQ(ingest_->RunningStreams().size(), 1u);
  ingest_->Start();
  pg_->SignalAll(SIGSTOP);
  const auto frozen = std::chrono::steady_clock::now();
  ASSERT_TRUE(
      Eventually([&] { return ingest_->RunningStreams().empty(); }, std::chrono::seconds(10)));
  EXPECT_LT(std::chrono::steady_clock::now() - frozen, std::chrono::seconds(3));
  pg_->SignalAll(SIGCONT);
  peer->Start();
  ASSERT_TRUE(Eventually(
      [&] { return ingest_->RunningStreams().size() + peer->RunningStreams().size() == 1; },
      std::chrono::seconds(15)));
  peer->Stop();
  EXPECT_THAT(registry_.Serialize(),
              testing::HasSubstr("stratus_ingest_lease_changes_total{change=\"fenced\"} 1\n"));
}

TEST_F(IngestTest, StreamsMoveToAnotherReplicaWhenOneDies) {
  ingest_ = MakeIngest("a");
  auto b = MakeIngest("b");
  ASSERT_TRUE(ingest_->AddStream(Config("s1"), false).ok());
  ASSERT_TRUE(ingest_->AddStream(Config("s2"), false).ok());
  ASSERT_TRUE(ingest_->Reconcile().ok());
  ASSERT_TRUE(b->Reconcile().ok());
  ASSERT_TRUE(ingest_->Reconcile().ok());  // a sees b alive and gives back above its share
  ASSERT_TRUE(b->Reconcile().ok());
  EXPECT_EQ(ingest_->RunningStreams().size(), 1u);
  EXPECT_EQ(b->RunningStreams().size(), 1u);
  // "a" dies without giving its leases back: b takes over once they expire (3 s).
  ingest_->Stop(/*release_leases=*/false);
  ingest_.reset();
  ASSERT_TRUE(Eventually(
      [&] {
        (void)b->Reconcile();
        return b->RunningStreams().size() == 2;
      },
      std::chrono::seconds(15)));
  ingest_ = std::move(b);
  // a took both, gave one back to b, then b took the other: four starts, one give-back.
  EXPECT_THAT(registry_.Serialize(),
              testing::HasSubstr("stratus_ingest_lease_changes_total{change=\"taken\"} 4\n"));
  EXPECT_THAT(registry_.Serialize(),
              testing::HasSubstr("stratus_ingest_lease_changes_total{change=\"released\"} 1\n"));
}

// Track ids come from the stream's mark in PostgreSQL, not from each worker's own count: the
// replica that takes a stream over never hands out an id its predecessor used.
TEST_F(IngestTest, TrackIdsAreNotReusedWhenTheStreamMovesToAnotherReplica) {
  auto appeared = [&](const std::string& replica) {
    std::vector<int64_t> ids;
    for (const auto& e : Events("cam")) {
      if (e.type() == v1::Event::PERSON_APPEARED && e.replica() == replica) {
        ids.push_back(e.track_id());
      }
    }
    return ids;
  };
  ingest_ = MakeIngest("a");
  ingest_->Start();
  ASSERT_TRUE(ingest_->AddStream(Config("cam"), false).ok());
  ASSERT_TRUE(Eventually([&] { return !appeared("a").empty(); }, std::chrono::seconds(30)));
  ingest_->Stop(/*release_leases=*/false);  // dies: "b" takes the stream once the lease expires
  const std::vector<int64_t> before = appeared("a");
  ingest_.reset();
  ingest_ = MakeIngest("b");
  ingest_->Start();
  ASSERT_TRUE(Eventually([&] { return !appeared("b").empty(); }, std::chrono::seconds(40)));
  const int64_t highest = *std::max_element(before.begin(), before.end());
  for (int64_t id : appeared("b")) EXPECT_GT(id, highest);
}

TEST_F(IngestTest, RefusesABadMqttUrl) {
  Ingest::Options o;
  o.replica_id = "r1";
  o.spool_dir = (dir_ / "spool" / "r1").string();
  o.mqtt_url = "tcp://broker:1883";
  auto i = Ingest::Create(db_.get(), &registry_, o);
  EXPECT_EQ(i.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(i.status().message()), testing::HasSubstr("mqtt://"));
}

// The ingest service over gRPC on 127.0.0.1, reached with the read-only test key.
struct Served {
  explicit Served(Ingest* ingest) : service(ingest) {
    auto h = ServiceHost::Create({.service_name = "ingest",
                                  .grpc_address = "127.0.0.1",
                                  .http_port = -1,
                                  .drain_deadline = std::chrono::milliseconds(200),
                                  .api_keys = auth::testing::TestKeyStore()});
    EXPECT_TRUE(h.ok()) << h.status();
    host = std::move(*h);
    host->AddService(&service, "stratus.v1.IngestService");
    EXPECT_TRUE(host->Start().ok());
    stub = v1::IngestService::NewStub(
        auth::testing::ReadChannel(absl::StrCat("127.0.0.1:", host->grpc_port())));
  }
  ~Served() { host->Shutdown(); }

  grpc::Status Frame(const std::string& stream, int64_t after, int wait_ms,
                     v1::GetStreamFrameResponse* out) {
    v1::GetStreamFrameRequest req;
    req.set_stream(stream);
    req.set_after_sequence(after);
    req.set_wait_ms(wait_ms);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return stub->GetStreamFrame(&ctx, req, out);
  }
  grpc::Status Snapshot(const std::string& ref, std::string* jpeg = nullptr) {
    v1::GetSnapshotRequest req;
    req.set_snapshot_ref(ref);
    v1::GetSnapshotResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Status s = stub->GetSnapshot(&ctx, req, &resp);
    if (jpeg != nullptr) *jpeg = resp.jpeg();
    return s;
  }

  IngestServiceImpl service;
  std::unique_ptr<ServiceHost> host;
  std::unique_ptr<v1::IngestService::Stub> stub;
};

bool IsJpeg(const std::string& b) {
  return b.size() > 2 && static_cast<unsigned char>(b[0]) == 0xFF &&
         static_cast<unsigned char>(b[1]) == 0xD8;
}

using Ms = std::chrono::milliseconds;

int64_t UnixMs() {
  return std::chrono::duration_cast<Ms>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Ms Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - t0);
}

TEST_F(IngestTest, LiveFramesWithDetectionsAndLongPollOverGrpc) {
  ingest_ = MakeIngest("r1");
  ingest_->Start();
  Served served(ingest_.get());
  v1::GetStreamFrameResponse frame;
  EXPECT_EQ(served.Frame("", 0, 0, &frame).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(served.Frame("cam1", 0, -1, &frame).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(served.Frame("cam1", 0, 10001, &frame).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(served.Frame("nope", 0, 0, &frame).error_code(), grpc::StatusCode::NOT_FOUND);
  const int64_t added_ms = UnixMs();
  ASSERT_TRUE(ingest_->AddStream(Config("cam1"), false).ok());

  // The square crosses during the first 3 s of the file: a frame with the person comes.
  int64_t after = 0;
  ASSERT_TRUE(Eventually(
      [&] {
        v1::GetStreamFrameResponse f;
        if (!served.Frame("cam1", after, 2000, &f).ok()) return false;
        EXPECT_GE(f.sequence(), after);
        after = f.sequence();
        if (f.detections().empty()) return false;
        frame = std::move(f);
        return true;
      },
      std::chrono::seconds(30)));
  EXPECT_EQ(frame.stream(), "cam1");
  EXPECT_GT(frame.sequence(), 0);
  EXPECT_EQ(frame.width(), 320);
  EXPECT_EQ(frame.height(), 180);
  EXPECT_TRUE(IsJpeg(frame.jpeg()));
  // Captured since the stream was added (the wall clock, as events' times).
  const int64_t captured_ms =
      google::protobuf::util::TimeUtil::TimestampToMilliseconds(frame.time());
  EXPECT_GE(captured_ms, added_ms);
  EXPECT_LE(captured_ms, UnixMs());
  const v1::FrameDetection& d = frame.detections(0);
  EXPECT_EQ(d.label(), "person");
  EXPECT_GT(d.confidence(), 0.5f);
  EXPECT_GT(d.box().width(), 0.05f);
  EXPECT_GE(d.box().left(), 0.f);
  EXPECT_LE(d.box().left() + d.box().width(), 1.0001f);

  // A newer frame ends the long-poll early (frames come at 10 fps; at the end of the file the
  // stream reconnects within about a second).
  auto t0 = std::chrono::steady_clock::now();
  v1::GetStreamFrameResponse next;
  ASSERT_TRUE(served.Frame("cam1", frame.sequence(), 8000, &next).ok());
  EXPECT_LT(Since(t0), Ms(5000));
  EXPECT_GT(next.sequence(), frame.sequence());
  // Nothing newer than a sequence far ahead: answered after wait_ms with the newest frame.
  t0 = std::chrono::steady_clock::now();
  v1::GetStreamFrameResponse newest;
  ASSERT_TRUE(served.Frame("cam1", int64_t{1} << 40, 600, &newest).ok());
  EXPECT_GE(Since(t0), Ms(600));
  EXPECT_LT(Since(t0), Ms(5000));
  EXPECT_GE(newest.sequence(), next.sequence());
  EXPECT_TRUE(IsJpeg(newest.jpeg()));

  // The read-only key may not change anything.
  v1::RemoveStreamRequest remove;
  remove.set_name("cam1");
  v1::RemoveStreamResponse removed;
  grpc::ClientContext ctx;
  EXPECT_EQ(served.stub->RemoveStream(&ctx, remove, &removed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(IngestTest, SnapshotsAreServedFromTheSnapshotFolderOnly) {
  // Given as a relative folder (as the default, <spool-dir>/../snapshots, may be): the refs
  // still name the file absolutely.
  const fs::path snapshots = dir_ / "snapshots";
  ingest_ = MakeIngest("r1", "", fs::relative(snapshots, fs::current_path()).string());
  ingest_->Start();
  Served served(ingest_.get());
  ASSERT_TRUE(ingest_->AddStream(Config("cam1"), false).ok());
  std::string ref;
  ASSERT_TRUE(Eventually(
      [&] {
        for (const auto& e : Events("cam1")) {
          if (!e.snapshot_ref().empty()) ref = e.snapshot_ref();
        }
        return !ref.empty();
      },
      std::chrono::seconds(30)));
  EXPECT_TRUE(absl::StartsWith(ref, "file://" + snapshots.string() + "/cam1/")) << ref;
  std::string jpeg;
  ASSERT_TRUE(served.Snapshot(ref, &jpeg).ok()) << ref;
  EXPECT_TRUE(IsJpeg(jpeg));
  EXPECT_EQ(jpeg, ReadFile(ref.substr(7)));

  auto code = [&](const std::string& r) { return served.Snapshot(r).error_code(); };
  // Outside the folder: elsewhere, a sibling whose name starts with the folder's, a way out
  // through "..", a link inside pointing out, another scheme, a relative path.
  EXPECT_EQ(code("file:///etc/passwd"), grpc::StatusCode::INVALID_ARGUMENT);
  fs::create_directories(dir_ / "snapshots-old");
  {
    std::ofstream out(dir_ / "snapshots-old" / "x.jpg", std::ios::binary);
    out << jpeg;
  }
  EXPECT_EQ(code("file://" + (dir_ / "snapshots-old" / "x.jpg").string()),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code("file://" + (snapshots / ".." / "snapshots-old" / "x.jpg").string()),
            grpc::StatusCode::INVALID_ARGUMENT);
  fs::create_symlink(dir_ / "snapshots-old" / "x.jpg", snapshots / "cam1" / "link.jpg");
  EXPECT_EQ(code("file://" + (snapshots / "cam1" / "link.jpg").string()),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code("http://example.com/x.jpg"), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code(ref.substr(7)), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code("file://cam1/x.jpg"), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code("file://" + (snapshots / "cam1").string()), grpc::StatusCode::INVALID_ARGUMENT);
  // Inside but gone, or not a JPEG.
  EXPECT_EQ(code("file://" + (snapshots / "cam1" / "gone.jpg").string()),
            grpc::StatusCode::NOT_FOUND);
  {
    std::ofstream out(snapshots / "cam1" / "notes.jpg");
    out << "not a picture";
  }
  EXPECT_EQ(code("file://" + (snapshots / "cam1" / "notes.jpg").string()),
            grpc::StatusCode::FAILED_PRECONDITION);
}

// Frames live in the memory of the replica that holds the stream: any other says which one.
TEST_F(IngestTest, FramesComeOnlyFromTheReplicaHoldingTheStream) {
  // r0's detector is unreachable, so its stream runs but never has a frame analysed.
  auto peer = MakeIngest("r0", "127.0.0.1:1");
  ingest_ = MakeIngest("r1");
  ASSERT_TRUE(ingest_->AddStream(Config("cam1"), false).ok());
  auto frame = ingest_->GetFrame("cam1", 0, Ms(0));
  EXPECT_EQ(frame.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(frame.status().message()), testing::HasSubstr("not held by any"));
  ASSERT_TRUE(peer->Reconcile().ok());  // the only live replica: it takes the stream
  ASSERT_EQ(peer->RunningStreams().size(), 1u);
  frame = ingest_->GetFrame("cam1", 0, Ms(0));
  EXPECT_EQ(frame.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(frame.status().message()), testing::HasSubstr("replica 'r0'"));
  EXPECT_EQ(ingest_->GetFrame("nope", 0, Ms(0)).status().code(), absl::StatusCode::kNotFound);
  // The holder has nothing analysed: at once, and after waiting as long as asked.
  frame = peer->GetFrame("cam1", 0, Ms(0));
  EXPECT_EQ(frame.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(frame.status().message()), testing::HasSubstr("no analysed frame"));
  auto t0 = std::chrono::steady_clock::now();
  frame = peer->GetFrame("cam1", 0, Ms(500));
  EXPECT_GE(Since(t0), Ms(500));
  EXPECT_LT(Since(t0), Ms(3000));
  EXPECT_EQ(frame.status().code(), absl::StatusCode::kFailedPrecondition);
  // A caller that gives up ends the wait.
  t0 = std::chrono::steady_clock::now();
  frame = peer->GetFrame("cam1", 0, Ms(10000), [] { return true; });
  EXPECT_LT(Since(t0), Ms(3000));
  EXPECT_EQ(frame.status().code(), absl::StatusCode::kFailedPrecondition);
  peer->Stop();
}

TEST(ValidateStreamConfigTest, RefusesBadConfigs) {
  v1::StreamConfig c;
  c.set_name("bad name!");
  c.set_uri("rtsp://cam/1");
  EXPECT_EQ(ValidateStreamConfig(c).code(), absl::StatusCode::kInvalidArgument);
  c.set_name("ok");
  c.set_uri("gopher://x");
  EXPECT_THAT(std::string(ValidateStreamConfig(c).message()), testing::HasSubstr("gopher"));
  c.set_uri("no/absolute/path.mp4");
  EXPECT_FALSE(ValidateStreamConfig(c).ok());
  c.set_uri("rtsp://cam/1");
  c.add_analyses(v1::StreamConfig::FACE_SEARCH);
  EXPECT_THAT(std::string(ValidateStreamConfig(c).message()), testing::HasSubstr("collection_id"));
  c.set_collection_id("staff");
  EXPECT_TRUE(ValidateStreamConfig(c).ok());
}

// The policy is asked again on every connect: a file link that now points out of the media
// root is refused when the stream reconnects after the end of the file.
TEST_F(IngestTest, SourcesAreCheckedAgainOnEveryConnect) {
  ingest_ = MakeIngest("r1");
  ingest_->Start();
  const fs::path link = dir_ / "camera.avi";
  fs::create_symlink(video_, link);
  v1::StreamConfig c = Config("relinked");
  c.set_uri(link.string());
  ASSERT_TRUE(ingest_->AddStream(c, false).ok());
  auto state = [&]() -> std::optional<v1::StreamStatus> {
    auto all = ingest_->ListStreams();
    if (!all.ok() || all->empty()) return std::nullopt;
    return all->front();
  };
  ASSERT_TRUE(Eventually([&] { return state() && state()->state() == v1::StreamStatus::RUNNING; },
                         std::chrono::seconds(30)));
  fs::remove(link);
  fs::create_symlink("/etc/passwd", link);
  EXPECT_TRUE(Eventually(
      [&] {
        auto s = state();
        return s && s->state() == v1::StreamStatus::BACKING_OFF &&
               absl::StrContains(s->last_error(), "source refused") &&
               absl::StrContains(s->last_error(), "outside the media roots");
      },
      std::chrono::seconds(30)))
      << (state() ? state()->DebugString() : "no status");
}

// Sources a caller may not make ingest open: each refused by AddStream with the reason, and
// none stored.
TEST_F(IngestTest, AddStreamRefusesForbiddenSources) {
  ingest_ = MakeIngest("r1");
  const std::vector<std::string> uris = {
      "http://169.254.169.254/latest/meta-data/",
      "http://[::ffff:169.254.169.254]/latest/meta-data/",
      "http://[fd00:ec2::254]/latest/meta-data/",
      "file:///etc/passwd",
      "/etc/shadow",
      "tcp://127.0.0.1:5432",
      "udp://127.0.0.1:5000",
      "rtsp://127.0.0.1:8554/cam",
      "http://localhost:8081/metrics",
      "http://2130706433:50051/",
      "rtsp://10.0.0.1/cam",
      "http://[::1]:8081/",
      "concat:" + video_ + "|/etc/passwd",
      "file://" + (dir_ / ".." / "etc" / "passwd").string(),
      "/no/such/file.mp4",
  };
  for (const std::string& uri : uris) {
    v1::StreamConfig c = Config("forbidden");
    c.set_uri(uri);
    auto r = ingest_->AddStream(c, false);
    ASSERT_FALSE(r.ok()) << uri;
    EXPECT_TRUE(r.status().code() == absl::StatusCode::kInvalidArgument ||
                r.status().code() == absl::StatusCode::kPermissionDenied)
        << uri << ": " << r.status();
    EXPECT_FALSE(r.status().message().empty());
  }
  auto all = ingest_->ListStreams();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  // The media root's own file is fine.
  EXPECT_TRUE(ingest_->AddStream(Config("allowed"), false).ok());
}

}  // namespace
}  // namespace stratus::ingest
