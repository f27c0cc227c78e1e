#include "services/ingest/mqtt_publisher.h"

#include <google/protobuf/util/json_util.h>
#include <mosquitto.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace stratus::ingest {
namespace {

constexpr int kQos = 1;

void InitLibrary() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

}  // namespace

absl::StatusOr<MqttUrl> ParseMqttUrl(const std::string& url) {
  const std::string kScheme = "mqtt://";
  auto bad = [&](const char* why) {
    return absl::InvalidArgumentError(
        absl::StrCat("MQTT URL '", url, "' ", why, " (mqtt://[user[:password]@]host[:port])"));
  };
  if (url.rfind(kScheme, 0) != 0) return bad("must start with mqtt://");
  std::string rest = url.substr(kScheme.size());
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    if (slash + 1 != rest.size()) return bad("must not have a path");
    rest.resize(slash);
  }
  MqttUrl out;
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    std::string user = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = user.find(':');
    out.username = user.substr(0, colon);
    if (colon != std::string::npos) out.password = user.substr(colon + 1);
    if (out.username.empty()) return bad("has an empty user");
  }
  std::string port;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    auto close = rest.find(']');
    if (close == std::string::npos) return bad("has an unclosed '['");
    out.host = rest.substr(1, close - 1);
    std::string tail = rest.substr(close + 1);
    if (!tail.empty() && tail.front() != ':') return bad("is malformed after ']'");
    if (!tail.empty()) port = tail.substr(1);
    if (tail == ":") return bad("has a bad port");
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    out.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) return bad("has a bad port");
  } else {
    out.host = rest;
  }
  if (out.host.empty()) return bad("has no host");
  if (!port.empty()) {
    if (!absl::SimpleAtoi(port, &out.port) || out.port < 1 || out.port > 65535) {
      return bad("has a bad port (1-65535)");
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<MqttPublisher>> MqttPublisher::Create(const Options& options,
                                                                     metrics::Registry* registry) {
  auto url = ParseMqttUrl(options.url);
  if (!url.ok()) return url.status();
  if (options.client_id.empty()) return absl::InvalidArgumentError("MQTT client_id is empty");
  if (options.topic_prefix.empty() ||
      options.topic_prefix.find_first_of("+#") != std::string::npos) {
    return absl::InvalidArgumentError("MQTT topic prefix must be non-empty, without '+' or '#'");
  }
  if (options.max_messages < 1 || options.max_in_flight < 1) {
    return absl::InvalidArgumentError("MQTT max_messages and max_in_flight must be >= 1");
  }
  if (registry == nullptr) return absl::InvalidArgumentError("metrics registry is required");
  InitLibrary();
  auto p = std::unique_ptr<MqttPublisher>(new MqttPublisher(options, std::move(*url), registry));
  p->thread_ = std::thread([raw = p.get()] { raw->Run(); });
  return p;
}

MqttPublisher::MqttPublisher(Options options, MqttUrl url, metrics::Registry* registry)
    : options_(std::move(options)),
      url_(std::move(url)),
      availability_topic_(
          absl::StrCat(options_.topic_prefix, "/ingest/", options_.client_id, "/available")) {
  connected_gauge_ = &metrics::BuildGauge()
                          .Name("stratus_ingest_mqtt_connected")
                          .Help("1 while connected to the MQTT broker.")
                          .Register(*registry)
                          .Add({});
  outbox_gauge_ = &metrics::BuildGauge()
                       .Name("stratus_ingest_mqtt_outbox_messages")
                       .Help("MQTT messages waiting to be sent or acknowledged.")
                       .Register(*registry)
                       .Add({});
  auto& messages = metrics::BuildCounter()
                       .Name("stratus_ingest_mqtt_messages_total")
                       .Help("MQTT messages acknowledged by the broker, or dropped (outbox full).")
                       .Register(*registry);
  published_ = &messages.Add({{"result", "published"}});
  dropped_ = &messages.Add({{"result", "dropped"}});
  auto& connects = metrics::BuildCounter()
                       .Name("stratus_ingest_mqtt_connects_total")
                       .Help("Connection attempts to the MQTT broker.")
                       .Register(*registry);
  connects_ok_ = &connects.Add({{"result", "ok"}});
  connects_failed_ = &connects.Add({{"result", "failed"}});
}

MqttPublisher::~MqttPublisher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  if (!outbox_.empty()) {
    SLOG(WARNING) << "MQTT messages not delivered at shutdown" << Kv("count", outbox_.size());
  }
}

void MqttPublisher::PublishEvent(const v1::Event& event, std::string_view snapshot_jpeg) {
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(event, &json, opts);
  const std::string base = absl::StrCat(options_.topic_prefix, "/", event.stream());
  Publish(base + "/events", std::move(json), false);
  if (!snapshot_jpeg.empty()) Publish(base + "/snapshot", std::string(snapshot_jpeg), true);
}

void MqttPublisher::Publish(std::string topic, std::string payload, bool retain) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    bytes_ += payload.size();
    outbox_.push_back({.topic = std::move(topic), .payload = std::move(payload), .retain = retain});
    // Drop the oldest message not yet handed to the broker until the outbox fits again.
    while ((outbox_.size() > options_.max_messages || bytes_ > options_.max_bytes) &&
           outbox_.size() > in_flight_) {
      auto victim = outbox_.begin() + static_cast<std::ptrdiff_t>(in_flight_);
      bytes_ -= victim->payload.size();
      outbox_.erase(victim);
      ++dropped_count_;
      dropped_->Increment();
    }
    outbox_gauge_->Set(static_cast<double>(outbox_.size()));
  }
  cv_.notify_all();
}

bool MqttPublisher::connected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connected_;
}

size_t MqttPublisher::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return outbox_.size();
}

uint64_t MqttPublisher::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_count_;
}

bool MqttPublisher::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return outbox_.empty(); });
}

std::chrono::milliseconds MqttPublisher::Backoff(int attempt) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  double base = static_cast<double>(options_.min_backoff.count()) * (1 << std::min(attempt, 10));
  base = std::min(base, static_cast<double>(options_.max_backoff.count()));
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<int64_t>(base * jitter(rng)));
}

void MqttPublisher::Run() {
  int attempt = 0;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    if (RunConnection()) attempt = 0;
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, Backoff(attempt), [&] { return stop_; })) return;
    ++attempt;
  }
}

bool MqttPublisher::RunConnection() {
  mosq_ = mosquitto_new(options_.client_id.c_str(), /*clean_session=*/true, this);
  if (mosq_ == nullptr) {
    SLOG(ERROR) << "cannot create an MQTT client" << Kv("error", "out of memory");
    connects_failed_->Increment();
    return false;
  }
  mosquitto_connect_callback_set(mosq_, &MqttPublisher::OnConnect);
  mosquitto_disconnect_callback_set(mosq_, &MqttPublisher::OnDisconnect);
  mosquitto_publish_callback_set(mosq_, &MqttPublisher::OnPublish);
  mosquitto_max_inflight_messages_set(mosq_, static_cast<unsigned>(options_.max_in_flight));
  if (!url_.username.empty()) {
    mosquitto_username_pw_set(mosq_, url_.username.c_str(),
                              url_.password.empty() ? nullptr : url_.password.c_str());
  }
  static constexpr std::string_view kOffline = "offline", kOnline = "online";
  mosquitto_will_set(mosq_, availability_topic_.c_str(), static_cast<int>(kOffline.size()),
                     kOffline.data(), kQos, /*retain=*/true);
  connack_ = false;
  lost_ = false;
  bool accepted = false;
  bool closed = false;  // ended by the destructor, not lost
  const int keepalive = static_cast<int>(options_.keepalive.count());
  int rc = mosquitto_connect_async(mosq_, url_.host.c_str(), url_.port, keepalive);
  if (rc == MOSQ_ERR_SUCCESS) {
    const auto connect_deadline = std::chrono::steady_clock::now() + options_.connect_timeout;
    std::optional<std::chrono::steady_clock::time_point> drain_deadline;
    while (true) {
      bool idle;
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (stop_ && !drain_deadline) {
          drain_deadline = std::chrono::steady_clock::now() + options_.drain_on_close;
        }
        if (drain_deadline &&
            (!connack_ || outbox_.empty() || std::chrono::steady_clock::now() > *drain_deadline)) {
          closed = true;
          break;
        }
        if (connack_ && !accepted) {
          accepted = true;
          connected_ = true;
          connected_gauge_->Set(1);
          connects_ok_->Increment();
          SLOG(INFO) << "MQTT connected" << Kv("broker", absl::StrCat(url_.host, ":", url_.port))
                     << Kv("queued", outbox_.size());
          mosquitto_publish(mosq_, nullptr, availability_topic_.c_str(),
                            static_cast<int>(kOnline.size()), kOnline.data(), kQos, true);
        }
        // Sleep on the condition variable while there is nothing to send; the socket is still
        // read every 100 ms below (acknowledgements, keepalive, a closed connection).
        idle = outbox_.size() == in_flight_;
        if (idle && connack_ && in_flight_ == 0 && !stop_) {
          cv_.wait_for(lock, std::chrono::milliseconds(100),
                       [&] { return stop_ || outbox_.size() > in_flight_; });
          idle = outbox_.size() == in_flight_;
        }
      }
      if (!connack_ && std::chrono::steady_clock::now() > connect_deadline) {
        rc = MOSQ_ERR_CONN_REFUSED;
        SLOG(WARNING) << "MQTT broker did not accept the connection in time"
                      << Kv("broker", absl::StrCat(url_.host, ":", url_.port));
        break;
      }
      if (connack_ && !SendPending()) break;
      rc = mosquitto_loop(mosq_, idle && in_flight_ == 0 ? 0 : 10, 1);
      if (rc != MOSQ_ERR_SUCCESS || lost_) break;
    }
    if (closed && connack_ && !lost_) {  // say so, then disconnect cleanly
      mosquitto_publish(mosq_, nullptr, availability_topic_.c_str(),
                        static_cast<int>(kOffline.size()), kOffline.data(), kQos, true);
      mosquitto_disconnect(mosq_);
      for (int i = 0; i < 50 && !lost_; ++i) {
        if (mosquitto_loop(mosq_, 10, 1) != MOSQ_ERR_SUCCESS) break;
      }
    }
  }
  if (closed) {
    // Stopped: not a failure.
  } else if (!accepted) {
    connects_failed_->Increment();
    SLOG(WARNING) << "MQTT connection failed"
                  << Kv("broker", absl::StrCat(url_.host, ":", url_.port))
                  << Kv("error",
                        rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc));
  } else {
    SLOG(WARNING) << "MQTT connection lost; reconnecting"
                  << Kv("broker", absl::StrCat(url_.host, ":", url_.port))
                  << Kv("error", mosquitto_strerror(rc));
  }
  mosquitto_destroy(mosq_);
  mosq_ = nullptr;
  ResetInFlight();
  return accepted;
}

bool MqttPublisher::SendPending() {
  std::lock_guard<std::mutex> lock(mu_);
  size_t unacked = 0;
  for (size_t i = 0; i < in_flight_; ++i) unacked += outbox_[i].acked ? 0 : 1;
  while (in_flight_ < outbox_.size() && unacked < static_cast<size_t>(options_.max_in_flight)) {
    Message& m = outbox_[in_flight_];
    if (m.acked) {  // acknowledged before a reconnect, behind one that was not
      ++in_flight_;
      continue;
    }
    int rc = mosquitto_publish(mosq_, &m.mid, m.topic.c_str(), static_cast<int>(m.payload.size()),
                               m.payload.data(), kQos, m.retain);
    if (rc != MOSQ_ERR_SUCCESS) {
      m.mid = 0;
      return false;
    }
    ++in_flight_;
    ++unacked;
  }
  PopAcknowledged();
  return true;
}

void MqttPublisher::ResetInFlight() {
  std::lock_guard<std::mutex> lock(mu_);
  // Unacknowledged messages are sent again, in order, on the next connection; acknowledged ones
  // behind them keep their flag and are skipped.
  for (size_t i = 0; i < in_flight_; ++i) outbox_[i].mid = 0;
  in_flight_ = 0;
  connected_ = false;
  connected_gauge_->Set(0);
  outbox_gauge_->Set(static_cast<double>(outbox_.size()));
  cv_.notify_all();
}

void MqttPublisher::OnConnect(struct mosquitto*, void* self, int rc) {
  auto* p = static_cast<MqttPublisher*>(self);
  if (rc == 0) {
    p->connack_ = true;
    return;
  }
  SLOG(WARNING) << "MQTT broker refused the connection"
                << Kv("reason", mosquitto_connack_string(rc));
  p->lost_ = true;
}

void MqttPublisher::OnDisconnect(struct mosquitto*, void* self, int) {
  static_cast<MqttPublisher*>(self)->lost_ = true;
}

void MqttPublisher::OnPublish(struct mosquitto*, void* self, int mid) {
  auto* p = static_cast<MqttPublisher*>(self);
  std::lock_guard<std::mutex> lock(p->mu_);
  for (size_t i = 0; i < p->in_flight_; ++i) {
    if (p->outbox_[i].mid == mid && !p->outbox_[i].acked) {
      p->outbox_[i].acked = true;
      break;
    }
  }
  p->PopAcknowledged();
}

void MqttPublisher::PopAcknowledged() {
  while (in_flight_ > 0 && outbox_.front().acked) {
    bytes_ -= outbox_.front().payload.size();
    outbox_.pop_front();
    --in_flight_;
    published_->Increment();
  }
  outbox_gauge_->Set(static_cast<double>(outbox_.size()));
  if (outbox_.empty()) cv_.notify_all();
}

}  // namespace stratus::ingest
