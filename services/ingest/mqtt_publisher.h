// Publishes ingest events to an MQTT broker, in the layout NVR users (Frigate, Home Assistant)
// subscribe to.
//
// Topics, under `topic_prefix` (default "stratus"):
//   <prefix>/<stream>/events     each event as JSON (the Event message, proto field names), QoS 1
//   <prefix>/<stream>/snapshot   the JPEG of each event that has one, QoS 1, retained (so a
//                                dashboard that subscribes later shows the latest at once)
//   <prefix>/ingest/<client_id>/available
//                                "online" (retained) once connected; "offline" when the
//                                publisher closes, or from the broker (the will) when the
//                                connection is lost
//
// Publish() and PublishEvent() never wait for the network: they append to a bounded outbox that
// one background thread drains in order. A message leaves the outbox when the broker
// acknowledges it (PUBACK); at most `max_in_flight` are unacknowledged at a time. When the
// connection drops, the thread reconnects with exponential backoff and jitter and sends again
// from the oldest unacknowledged message on, so the broker receives messages in the order they
// were published. Delivery is at least once: a message whose PUBACK was lost is sent twice
// (consumers deduplicate on the event's `uid`). When the outbox is full (`max_messages` or
// `max_bytes`), the oldest message not yet sent is dropped and counted, as the stream worker
// drops its oldest frame: memory stays bounded while the broker is away.
//
// Metrics: stratus_ingest_mqtt_connected (gauge), stratus_ingest_mqtt_outbox_messages (gauge),
// stratus_ingest_mqtt_messages_total{result="published"|"dropped"},
// stratus_ingest_mqtt_connects_total{result="ok"|"failed"}.
// Thread-safe.
#ifndef STRATUS_SERVICES_INGEST_MQTT_PUBLISHER_H_
#define STRATUS_SERVICES_INGEST_MQTT_PUBLISHER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "common/metrics.h"
#include "stratus/v1/ingest.pb.h"

struct mosquitto;

namespace stratus::ingest {

// Where to connect, from `mqtt://[user[:password]@]host[:port]` (port 1883 by default).
struct MqttUrl {
  std::string host;
  int port = 1883;
  std::string username;  // "" = anonymous
  std::string password;
};
// INVALID_ARGUMENT naming what is wrong (scheme, host, port).
absl::StatusOr<MqttUrl> ParseMqttUrl(const std::string& url);

class MqttPublisher {
 public:
  struct Options {
    std::string url;        // required, see ParseMqttUrl
    std::string client_id;  // required, unique per broker (e.g. per replica)
    std::string topic_prefix = "stratus";
    size_t max_messages = 1000;    // outbox bound, in messages
    size_t max_bytes = 64u << 20;  // outbox bound, in payload bytes
    int max_in_flight = 16;        // unacknowledged QoS 1 messages
    std::chrono::seconds keepalive{30};
    std::chrono::milliseconds min_backoff{500};  // reconnect delay, doubling to max_backoff
    std::chrono::milliseconds max_backoff{30000};
    std::chrono::milliseconds connect_timeout{10000};  // TCP connect to CONNACK
    std::chrono::milliseconds drain_on_close{2000};    // how long the destructor keeps sending
  };

  // Starts the background thread; the first connection is made there, so a broker that is down
  // at start-up is not an error. `registry` is not owned and must outlive the publisher.
  static absl::StatusOr<std::unique_ptr<MqttPublisher>> Create(const Options& options,
                                                               metrics::Registry* registry);
  // Keeps sending for up to `drain_on_close`, announces "offline", disconnects and joins.
  ~MqttPublisher();
  MqttPublisher(const MqttPublisher&) = delete;
  MqttPublisher& operator=(const MqttPublisher&) = delete;

  // Queues the event's JSON on <prefix>/<stream>/events and, when `snapshot_jpeg` is not empty,
  // the JPEG on <prefix>/<stream>/snapshot (retained), in that order.
  void PublishEvent(const v1::Event& event, std::string_view snapshot_jpeg);
  // Queues one QoS 1 message.
  void Publish(std::string topic, std::string payload, bool retain);

  // True while connected to the broker (CONNACK received, connection not lost).
  bool connected() const;
  // Messages in the outbox (unsent or unacknowledged).
  size_t queued() const;
  // Messages dropped because the outbox was full.
  uint64_t dropped() const;
  // Waits until every queued message is acknowledged; false if `timeout` passes first.
  bool Flush(std::chrono::milliseconds timeout);

  const std::string& availability_topic() const { return availability_topic_; }

 private:
  struct Message {
    std::string topic;
    std::string payload;
    bool retain = false;
    int mid = 0;         // libmosquitto's message id while in flight; 0 = not sent
    bool acked = false;  // PUBACK received (it leaves once every older one has too)
  };

  MqttPublisher(Options options, MqttUrl url, metrics::Registry* registry);
  void Run();
  // One connection: connects, then sends and reads until it is lost or the publisher stops.
  // True when the connection had been accepted (CONNACK), so the backoff starts afresh.
  bool RunConnection();
  bool SendPending();  // false on a send error
  void ResetInFlight();
  void PopAcknowledged();  // mu_ held: drops acknowledged messages from the front
  std::chrono::milliseconds Backoff(int attempt);

  static void OnConnect(struct mosquitto*, void* self, int rc);
  static void OnDisconnect(struct mosquitto*, void* self, int rc);
  static void OnPublish(struct mosquitto*, void* self, int mid);

  const Options options_;
  const MqttUrl url_;
  const std::string availability_topic_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // work queued, stop, or outbox drained
  std::deque<Message> outbox_;  // oldest first; the first `in_flight_` have been sent
  size_t in_flight_ = 0;
  size_t bytes_ = 0;
  bool stop_ = false;
  bool connected_ = false;
  uint64_t dropped_count_ = 0;

  // Owned by the background thread (libmosquitto calls back on it, from mosquitto_loop).
  struct mosquitto* mosq_ = nullptr;
  bool connack_ = false;
  bool lost_ = false;

  metrics::Gauge* connected_gauge_;
  metrics::Gauge* outbox_gauge_;
  metrics::Counter* published_;
  metrics::Counter* dropped_;
  metrics::Counter* connects_ok_;
  metrics::Counter* connects_failed_;
  std::thread thread_;
};

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_MQTT_PUBLISHER_H_
