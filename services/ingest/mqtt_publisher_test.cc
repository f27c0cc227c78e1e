// The MQTT publisher against a real mosquitto broker that each test starts on a free port:
// ordering across a broker restart, the bounded outbox, retained snapshots and availability,
// and a stream worker publishing the events of a synthetic video.
#include "services/ingest/mqtt_publisher.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/auth/testing/test_keys.h"
#include "common/subprocess.h"
#include "common/testing/eventually.h"
#include "services/ingest/stream_worker.h"
#include "services/ingest/testing/square_detector.h"

namespace stratus::ingest {
namespace {

namespace fs = std::filesystem;
using ::stratus::testing_util::Eventually;

bool PortOpen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// A mosquitto broker with persistence, so that a persistent subscriber keeps its session and
// its queued messages over a restart.
class Broker {
 public:
  explicit Broker(const fs::path& dir) : dir_(dir) {
    fs::create_directories(dir_ / "data");
    // mosquitto started as root switches to its own user, which must be able to write here.
    fs::permissions(dir_ / "data", fs::perms::all);
    auto port = PickFreePort();
    EXPECT_TRUE(port.ok()) << port.status();
    port_ = *port;
    std::ofstream(dir_ / "mosquitto.conf")
        << "listener " << port_ << " 127.0.0.1\n"
        << "allow_anonymous true\n"
        << "persistence true\n"
        << "persistence_location " << (dir_ / "data").string() << "/\n";
  }
  bool Start() {
    auto p = Subprocess::Spawn({.argv = {"mosquitto", "-c", (dir_ / "mosquitto.conf").string()},
                                .log_file = (dir_ / "mosquitto.log").string()});
    if (!p.ok()) return false;
    process_ = std::move(*p);
    return Eventually([&] { return PortOpen(port_); }, std::chrono::seconds(20));
  }
  void Stop() {
    if (process_) process_->Stop();  // SIGTERM: mosquitto saves its persistence file
    process_.reset();
  }
  int port() const { return port_; }
  std::string url() const { return absl::StrCat("mqtt://127.0.0.1:", port_); }

 private:
  fs::path dir_;
  int port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

struct Received {
  std::string topic;
  std::string payload;
  bool retain;
};

// A libmosquitto subscriber on its own network thread; reconnects by itself.
class Subscriber {
 public:
  Subscriber(int port, std::string id, bool persistent, std::string filter = "stratus/#")
      : filter_(std::move(filter)) {
    mosquitto_lib_init();
    mosq_ = mosquitto_new(id.c_str(), !persistent, this);
    mosquitto_connect_callback_set(mosq_, [](mosquitto* m, void* self, int rc) {
      auto* s = static_cast<Subscriber*>(self);
      if (rc == 0) mosquitto_subscribe(m, nullptr, s->filter_.c_str(), 1);
    });
    mosquitto_subscribe_callback_set(mosq_, [](mosquitto*, void* self, int, int, const int*) {
      static_cast<Subscriber*>(self)->subscribed_ = true;
    });
    mosquitto_message_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* m) {
      auto* s = static_cast<Subscriber*>(self);
      std::lock_guard<std::mutex> lock(s->mu_);
      s->messages_.push_back(
          {m->topic,
           std::string(static_cast<const char*>(m->payload), static_cast<size_t>(m->payloadlen)),
           m->retain});
    });
    mosquitto_reconnect_delay_set(mosq_, 1, 1, false);
    EXPECT_EQ(mosquitto_connect(mosq_, "127.0.0.1", port, 30), MOSQ_ERR_SUCCESS);
    EXPECT_EQ(mosquitto_loop_start(mosq_), MOSQ_ERR_SUCCESS);
    EXPECT_TRUE(Eventually([&] { return subscribed_.load(); }, std::chrono::seconds(20)));
  }
  ~Subscriber() {
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, false);
    mosquitto_destroy(mosq_);
  }
  std::vector<Received> messages() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  std::vector<Received> On(const std::string& topic) {
    std::vector<Received> out;
    for (auto& m : messages()) {
      if (m.topic == topic) out.push_back(m);
    }
    return out;
  }

 private:
  std::string filter_;
  mosquitto* mosq_;
  std::atomic<bool> subscribed_{false};
  std::mutex mu_;
  std::vector<Received> messages_;
};

class MqttPublisherTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           absl::StrCat("stratus-mqtt-", getpid(), "-",
                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    broker_ = std::make_unique<Broker>(dir_);
  }
  void TearDown() override {
    broker_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::unique_ptr<MqttPublisher> MakePublisher(size_t max_messages = 1000) {
    auto p = MqttPublisher::Create({.url = broker_->url(),
                                    .client_id = "test-ingest",
                                    .max_messages = max_messages,
                                    .min_backoff = std::chrono::milliseconds(100),
                                    .max_backoff = std::chrono::milliseconds(400)},
                                   &registry_);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? std::move(*p) : nullptr;
  }
  static v1::Event MakeEvent(int n) {
    v1::Event e;
    e.set_uid(absl::StrCat("uid-", n));
    e.set_stream("cam1");
    e.set_type(v1::Event::PERSON_APPEARED);
    e.set_track_id(n);
    return e;
  }
  // The track ids of the events received on cam1, in arrival order.
  static std::vector<int64_t> TrackIds(Subscriber& sub) {
    std::vector<int64_t> ids;
    for (auto& m : sub.On("stratus/cam1/events")) {
      v1::Event e;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(m.payload, &e).ok()) << m.payload;
      ids.push_back(e.track_id());
    }
    return ids;
  }
  // Delivery is at least once: a message whose acknowledgement was lost to the restart may come
  // twice. What a consumer that drops repeated uids sees: each event once, in publishing order.
  static std::vector<int64_t> FirstSeen(const std::vector<int64_t>& ids) {
    std::vector<int64_t> out;
    std::set<int64_t> seen;
    for (int64_t id : ids) {
      if (seen.insert(id).second) out.push_back(id);
    }
    return out;
  }
  static std::vector<int64_t> Range(int from, int to) {
    std::vector<int64_t> v;
    for (int i = from; i < to; ++i) v.push_back(i);
    return v;
  }

  fs::path dir_;
  std::unique_ptr<Broker> broker_;
  metrics::Registry registry_;
};

TEST(ParseMqttUrlTest, AcceptsHostPortAndCredentials) {
  auto u = ParseMqttUrl("mqtt://ha:s3cret@broker.local:1884");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "broker.local");
  EXPECT_EQ(u->port, 1884);
  EXPECT_EQ(u->username, "ha");
  EXPECT_EQ(u->password, "s3cret");
  u = ParseMqttUrl("mqtt://[::1]/");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 1883);
  EXPECT_TRUE(u->username.empty());
}

TEST(ParseMqttUrlTest, RejectsWhatItCannotUse) {
  for (const char* bad : {"tcp://host", "mqtt://", "mqtt://host:0", "mqtt://host:99999",
                          "mqtt://host:x", "mqtt://@host", "mqtt://host/topic", "mqtt://[::1"}) {
    auto u = ParseMqttUrl(bad);
    EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(MqttPublisherTest, KeepsOrderAcrossABrokerRestart) {
  ASSERT_TRUE(broker_->Start());
  Subscriber sub(broker_->port(), "test-sub", /*persistent=*/true);
  auto pub = MakePublisher();
  ASSERT_TRUE(Eventually([&] { return pub->connected(); }, std::chrono::seconds(20)));
  for (int i = 0; i < 20; ++i) pub->PublishEvent(MakeEvent(i), "");
  ASSERT_TRUE(pub->Flush(std::chrono::seconds(20)));

  broker_->Stop();
  ASSERT_TRUE(Eventually([&] { return !pub->connected(); }, std::chrono::seconds(20)));
  // Published while the broker is away: they wait in the outbox.
  for (int i = 20; i < 50; ++i) pub->PublishEvent(MakeEvent(i), "");
  EXPECT_EQ(pub->queued(), 30u);

  ASSERT_TRUE(broker_->Start());
  ASSERT_TRUE(Eventually([&] { return pub->connected(); }, std::chrono::seconds(10)));
  ASSERT_TRUE(pub->Flush(std::chrono::seconds(20)));
  ASSERT_TRUE(Eventually([&] { return FirstSeen(TrackIds(sub)).size() >= 50; },
                         std::chrono::seconds(10)))
      << TrackIds(sub).size();
  EXPECT_EQ(FirstSeen(TrackIds(sub)), Range(0, 50));
  EXPECT_EQ(pub->dropped(), 0u);
  EXPECT_THAT(registry_.Serialize(),
              testing::HasSubstr("stratus_ingest_mqtt_messages_total{result=\"published\"} 50"));
}

TEST_F(MqttPublisherTest, DropsTheOldestWhenTheOutboxIsFull) {
  ASSERT_TRUE(broker_->Start());
  Subscriber sub(broker_->port(), "test-sub", /*persistent=*/true);
  broker_->Stop();
  auto pub = MakePublisher(/*max_messages=*/10);
  for (int i = 0; i < 25; ++i) pub->PublishEvent(MakeEvent(i), "");
  EXPECT_EQ(pub->queued(), 10u);
  EXPECT_EQ(pub->dropped(), 15u);
  EXPECT_FALSE(pub->connected());

  ASSERT_TRUE(broker_->Start());
  ASSERT_TRUE(pub->Flush(std::chrono::seconds(20)));
  ASSERT_TRUE(Eventually([&] { return TrackIds(sub).size() >= 10; }, std::chrono::seconds(10)));
  EXPECT_EQ(TrackIds(sub), Range(15, 25));
  EXPECT_THAT(registry_.Serialize(),
              testing::HasSubstr("stratus_ingest_mqtt_messages_total{result=\"dropped\"} 15"));
}

TEST_F(MqttPublisherTest, SnapshotIsRetainedAndAvailabilityFollowsThePublisher) {
  ASSERT_TRUE(broker_->Start());
  auto pub = MakePublisher();
  const std::string jpeg("\xff\xd8\xff\xe0 not really a picture \xff\xd9", 27);
  pub->PublishEvent(MakeEvent(1), jpeg);
  ASSERT_TRUE(pub->Flush(std::chrono::seconds(20)));

  // A dashboard that subscribes afterwards still gets the last snapshot and the availability.
  {
    Subscriber late(broker_->port(), "test-late", /*persistent=*/false);
    ASSERT_TRUE(Eventually([&] { return late.messages().size() >= 2; }, std::chrono::seconds(20)));
    auto snaps = late.On("stratus/cam1/snapshot");
    ASSERT_EQ(snaps.size(), 1u);
    EXPECT_EQ(snaps[0].payload, jpeg);
    EXPECT_TRUE(snaps[0].retain);
    auto avail = late.On(pub->availability_topic());
    ASSERT_EQ(avail.size(), 1u);
    EXPECT_EQ(avail[0].payload, "online");
    EXPECT_TRUE(late.On("stratus/cam1/events").empty());  // events are not retained
  }
  const std::string availability = pub->availability_topic();
  EXPECT_EQ(availability, "stratus/ingest/test-ingest/available");
  pub.reset();
  Subscriber after(broker_->port(), "test-after", /*persistent=*/false, availability);
  ASSERT_TRUE(Eventually([&] { return !after.messages().empty(); }, std::chrono::seconds(20)));
  EXPECT_EQ(after.messages()[0].payload, "offline");
}

TEST_F(MqttPublisherTest, StreamWorkerPublishesItsEvents) {
  ASSERT_TRUE(broker_->Start());
  Subscriber sub(broker_->port(), "test-sub", /*persistent=*/false);
  auto detector = testing_util::StartSquareDetector();
  ASSERT_NE(detector, nullptr);
  const std::string video = (dir_ / "square.avi").string();
  testing_util::WriteSquareVideo(video, 60, 10, 30);  // 6 s: a square crosses in the first 3 s
  auto pub = MakePublisher();

  v1::StreamConfig config;
  config.set_name("door");
  config.set_uri(video);
  config.set_sample_fps(10);
  WorkerDeps deps;
  deps.detector = auth::testing::ReadChannel(absl::StrCat("127.0.0.1:", detector->grpc_port()));
  deps.metrics = &registry_;
  deps.replica = "r1";
  deps.mqtt = pub.get();
  WorkerOptions options;
  options.person_tracking.max_age = std::chrono::milliseconds(800);
  StreamWorker worker(config, deps, options);
  worker.Start();

  // (type, track) of the person events received, in arrival order.
  auto people = [&] {
    std::vector<std::pair<v1::Event::Type, int64_t>> out;
    for (auto& m : sub.On("stratus/door/events")) {
      v1::Event e;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(m.payload, &e).ok()) << m.payload;
      if (e.type() == v1::Event::PERSON_APPEARED || e.type() == v1::Event::PERSON_LEFT) {
        out.emplace_back(e.type(), e.track_id());
        EXPECT_EQ(e.stream(), "door");
        EXPECT_EQ(e.replica(), "r1");
        EXPECT_FALSE(e.uid().empty());
      }
    }
    return out;
  };
  ASSERT_TRUE(Eventually(
      [&] {
        auto p = people();
        return !p.empty() && p.back().first == v1::Event::PERSON_LEFT;
      },
      std::chrono::seconds(30)));
  worker.Stop();
  // One crossing is one track, appearing then leaving (a loaded machine that drops frames may
  // split it into several; each must still appear before it leaves, once each).
  auto p = people();
  ASSERT_GE(p.size(), 2u);
  EXPECT_EQ(p.front().first, v1::Event::PERSON_APPEARED);
  std::set<int64_t> appeared, left;
  for (const auto& [type, track] : p) {
    if (type == v1::Event::PERSON_APPEARED) {
      EXPECT_TRUE(appeared.insert(track).second) << "track " << track << " appeared twice";
    } else {
      EXPECT_TRUE(appeared.count(track)) << "track " << track << " left before it appeared";
      EXPECT_TRUE(left.insert(track).second) << "track " << track << " left twice";
    }
  }
  auto snaps = sub.On("stratus/door/snapshot");
  ASSERT_FALSE(snaps.empty());
  cv::Mat image = cv::imdecode(std::vector<uchar>(snaps[0].payload.begin(), snaps[0].payload.end()),
                               cv::IMREAD_COLOR);
  EXPECT_EQ(image.cols, 320);
  EXPECT_EQ(image.rows, 180);
}

}  // namespace
}  // namespace stratus::ingest
