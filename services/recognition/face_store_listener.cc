#include "services/recognition/face_store_listener.h"

#include <exception>
#include <pqxx/pqxx>
#include <utility>

#include "common/db.h"
#include "common/logging.h"

namespace stratus::recognition {

class FaceStoreListener::Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, FaceStoreListener* listener)
      : pqxx::notification_receiver(c, listener->options_.channel), listener_(listener) {}
  void operator()(const std::string& payload, int) override {
    if (!listener_->apply_(payload).ok()) listener_->resync_ = true;
  }

 private:
  FaceStoreListener* listener_;
};

FaceStoreListener::FaceStoreListener(Options options, LoadFn load, ApplyFn apply)
    : options_(std::move(options)), load_(std::move(load)), apply_(std::move(apply)) {
  thread_ = std::thread([this] { Loop(); });
}

FaceStoreListener::~FaceStoreListener() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void FaceStoreListener::Loop() {
  std::string url = options_.url;
  url += url.find("://") != std::string::npos
             ? (url.find('?') == std::string::npos ? "?connect_timeout=3" : "&connect_timeout=3")
             : " connect_timeout=3";
  while (!stop_) {
    absl::Status failure;
    try {
      pqxx::connection conn(url);
      Receiver receiver(conn, this);  // LISTEN before loading: nothing is missed
      failure = load_();
      if (failure.ok()) {
        resync_ = false;
        while (!stop_ && !resync_) conn.await_notification(0, 200000);
        if (resync_) failure = absl::UnavailableError("a change could not be applied");
      }
    } catch (const std::exception& e) {
      failure = Database::StatusFromException(e);
    }
    if (stop_) break;
    SLOG(WARNING) << "recognition listener: resyncing after a failure"
                  << Kv("error", failure.message());
    for (auto waited = std::chrono::milliseconds(0); waited < options_.reconnect_delay && !stop_;
         waited += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

}  // namespace stratus::recognition
