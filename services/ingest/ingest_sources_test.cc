// Ingest against real network sources: an HTTP MJPEG stream served by `ffmpeg -listen 1`, which
// drops (the server is killed) and comes back, and an RTSP stream (UDP transport) from a real
// RTSP server (rtsp-server-perl) fed by ffmpeg. The detector is the gRPC stand-in that finds the
// bright square the test video shows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/testing/eventually.h"
#include "common/embedded_postgres.h"
#include "common/subprocess.h"
#include "services/ingest/ingest.h"
#include "services/ingest/schema.h"
#include "services/ingest/testing/square_detector.h"

namespace stratus::ingest {
namespace {

using ::stratus::testing_util::Eventually;

namespace fs = std::filesystem;

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

class SourcesTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / absl::StrCat("stratus-sources-", getpid());
    fs::create_directories(dir_);
    auto pg = EmbeddedPostgres::Start({.data_dir = (dir_ / "pg").string()});
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = std::move(*pg);
    db_ = std::move(*Database::Create({.url = pg_->url()}));
    ASSERT_TRUE(db_->Migrate("ingest", Migrations()).ok());
    detector_ = testing_util::StartSquareDetector();
    ASSERT_NE(detector_, nullptr);
    video_ = (dir_ / "square.avi").string();
    testing_util::WriteSquareVideo(video_, 40, 10, 30);
    Ingest::Options o;
    o.replica_id = "r1";
    o.lease = std::chrono::seconds(3);
    o.spool_dir = (dir_ / "spool").string();
    o.detector_address = absl::StrCat("127.0.0.1:", detector_->grpc_port());
    o.mask_address = o.recognition_address = "";
    o.worker.person_tracking.max_age = std::chrono::milliseconds(800);
    // The test's sources run on loopback, which streams may use only when allowed.
    o.sources.allowed_sources = {"127.0.0.1/32"};
    o.sources.media_roots = {dir_.string()};
    ingest_ = std::move(*Ingest::Create(db_.get(), &registry_, o));
    ingest_->Start();
  }
  void TearDown() override {
    ingest_.reset();
    detector_.reset();
    db_.reset();
    pg_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::optional<v1::StreamStatus> Status(const std::string& name) {
    auto all = ingest_->ListStreams();
    if (!all.ok()) return std::nullopt;
    for (auto& s : *all) {
      if (s.config().name() == name) return s;
    }
    return std::nullopt;
  }
  std::unique_ptr<Subprocess> Spawn(std::vector<std::string> argv, const std::string& log) {
    auto p = Subprocess::Spawn({.argv = std::move(argv), .log_file = (dir_ / log).string()});
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? std::move(*p) : nullptr;
  }

  fs::path dir_;
  std::unique_ptr<EmbeddedPostgres> pg_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<testing_util::SquareDetector> detector_;
  metrics::Registry registry_;
  std::string video_;
  std::unique_ptr<Ingest> ingest_;
};

TEST_F(SourcesTest, HttpStreamThatDropsAndComesBack) {
  int port = *PickFreePort();
  std::string url = absl::StrCat("http://127.0.0.1:", port, "/feed.mjpg");
  auto serve = [&] {
    return Spawn({"ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1",
                  "-i", video_, "-c:v", "mjpeg", "-q:v", "5", "-f", "mpjpeg", "-listen", "1", url},
                 "ffmpeg-http.log");
  };
  auto server = serve();
  v1::StreamConfig c;
  c.set_name("http-cam");
  c.set_uri(url);
  c.set_sample_fps(10);
  ASSERT_TRUE(ingest_->AddStream(c, false).ok());
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = Status("http-cam");
        return s && s->state() == v1::StreamStatus::RUNNING && s->frames_analysed() >= 10;
      },
      std::chrono::seconds(40)))
      << Status("http-cam")->DebugString();

  server.reset();  // the camera goes away
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = Status("http-cam");
        return s && s->state() != v1::StreamStatus::RUNNING && !s->last_error().empty();
      },
      std::chrono::seconds(30)));
  int64_t before = Status("http-cam")->frames_analysed();

  server = serve();  // and comes back: the stream reconnects by itself
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = Status("http-cam");
        return s && s->state() == v1::StreamStatus::RUNNING && s->frames_analysed() > before + 10 &&
               s->reconnects() >= 1;
      },
      std::chrono::seconds(60)))
      << Status("http-cam")->DebugString();
}

TEST_F(SourcesTest, RtspOverUdpFromARealServer) {
  int client_port = *PickFreePort();
  int source_port = *PickFreePort();
  auto server = Spawn({"rtsp-server-perl", "--clientport", std::to_string(client_port),
                       "--serverport", std::to_string(source_port), "--client_listen_address",
                       "127.0.0.1", "--source_listen_address", "127.0.0.1"},
                      "rtsp-server.log");
  ASSERT_NE(server, nullptr);
  // The publisher connects once: wait until the server accepts (slow to start on a busy machine).
  ASSERT_TRUE(Eventually([&] { return Accepts(source_port); }, std::chrono::seconds(30)));
  auto publisher = Spawn({"ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop",
                          "-1", "-i", video_, "-c:v", "libx264", "-preset", "ultrafast", "-tune",
                          "zerolatency", "-g", "10", "-pix_fmt", "yuv420p", "-f", "rtsp",
                          absl::StrCat("rtsp://127.0.0.1:", source_port, "/cam")},
                         "ffmpeg-rtsp.log");
  ASSERT_NE(publisher, nullptr);
  v1::StreamConfig c;
  c.set_name("rtsp-cam");
  c.set_uri(absl::StrCat("rtsp://127.0.0.1:", client_port, "/cam"));
  c.set_transport(v1::StreamConfig::UDP);
  c.set_sample_fps(10);
  ASSERT_TRUE(ingest_->AddStream(c, false).ok());
  // The square crosses every 4 s: people appear and leave, as events.
  ASSERT_TRUE(Eventually(
      [&] {
        auto page = ingest_->events()->List({.stream = "rtsp-cam"}, 100, "", false);
        if (!page.ok()) return false;
        for (const auto& e : page->first) {
          if (e.type() == v1::Event::PERSON_LEFT) return true;
        }
        return false;
      },
      std::chrono::seconds(60)))
      << Status("rtsp-cam")->DebugString();
}

}  // namespace
}  // namespace stratus::ingest
