// The listener that keeps a face store's in-memory indexes in step with PostgreSQL: a dedicated
// connection LISTENs on a channel first and then calls `load` (which reloads everything), so
// nothing committed in between is missed; then it hands each notification's payload to
// `apply`. When the connection breaks, or `apply` fails (a change it could not read), it waits
// `reconnect_delay`, reconnects and loads again (a resync).
//
// Thread-safety: `load` and `apply` run on the listener's own thread, one at a time; they must
// stay callable until the listener is destroyed. The destructor stops the thread and joins it
// (within about 200 ms plus a running `load` or `apply`).
#ifndef STRATUS_SERVICES_RECOGNITION_FACE_STORE_LISTENER_H_
#define STRATUS_SERVICES_RECOGNITION_FACE_STORE_LISTENER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"

namespace stratus::recognition {

class FaceStoreListener {
 public:
  struct Options {
    std::string url;      // libpq connection string or URL; a 3 s connect_timeout is added
    std::string channel;  // LISTEN channel
    std::chrono::milliseconds reconnect_delay{1000};
  };
  using LoadFn = std::function<absl::Status()>;
  // Non-OK: the change was not applied; the listener resyncs.
  using ApplyFn = std::function<absl::Status(const std::string& payload)>;

  // Starts the thread at once.
  FaceStoreListener(Options options, LoadFn load, ApplyFn apply);
  ~FaceStoreListener();

  FaceStoreListener(const FaceStoreListener&) = delete;
  FaceStoreListener& operator=(const FaceStoreListener&) = delete;

 private:
  class Receiver;
  void Loop();

  const Options options_;
  const LoadFn load_;
  const ApplyFn apply_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> resync_{false};  // set by the listener thread only
  std::thread thread_;
};

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_FACE_STORE_LISTENER_H_
