// Where ingest events go: PostgreSQL (ingest_events), through a local disk spool whenever the
// database is unreachable, so that nothing is lost.
//
// Record() writes an event straight to PostgreSQL when it can. When that fails, the event is
// appended (and fsynced) to `<spool_dir>/events.jsonl`, and from then on every event goes to the
// spool until a background flush has replayed it into PostgreSQL in order; events carry a unique
// id (`event_uid`), so a replay that is interrupted and repeated writes each event once.
// Readers: List() pages through stored events; After() returns events newer than an id, which
// is how WatchEvents follows events from every replica.
// Thread-safe.
#ifndef STRATUS_SERVICES_INGEST_EVENT_STORE_H_
#define STRATUS_SERVICES_INGEST_EVENT_STORE_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db.h"
#include "stratus/v1/ingest.pb.h"

namespace stratus::ingest {

class EventStore {
 public:
  struct Options {
    std::string spool_dir;                          // required; created when missing
    std::chrono::milliseconds flush_interval{1000}; // retry period while spooling
  };

  // `db` is not owned and must outlive the store.
  static absl::StatusOr<std::unique_ptr<EventStore>> Create(Database* db, const Options& options);
  ~EventStore();

  // Stores the event (assigning event_uid when empty). Fails only when neither PostgreSQL nor
  // the spool can take it (e.g. disk full).
  absl::Status Record(v1::Event event);

  struct Filter {
    std::string stream;                 // "" = all
    std::vector<std::string> streams;   // for After(); empty = all
    std::vector<v1::Event::Type> types; // empty = all
    int64_t start_unix_ms = 0;          // 0 = unbounded
    int64_t end_unix_ms = 0;            // 0 = unbounded
  };
  // Events matching `filter` in id order (newest first if asked), after the cursor `page_token`
  // (an id). Returns at most `page_size` and the next token ("" at the end).
  absl::StatusOr<std::pair<std::vector<v1::Event>, std::string>> List(
      const Filter& filter, int page_size, const std::string& page_token, bool newest_first);
  // Up to `limit` events with id > after_id matching `filter`, oldest first.
  absl::StatusOr<std::vector<v1::Event>> After(int64_t after_id, const Filter& filter, int limit);
  // The largest stored id (0 when none): where a live watch starts.
  absl::StatusOr<int64_t> LastId();

  // Events waiting in the spool.
  size_t spooled() const { return spooled_.load(); }
  // Replays the spool now; OK when it is empty afterwards.
  absl::Status Flush();

 private:
  EventStore(Database* db, Options options) : db_(db), options_(std::move(options)) {}
  absl::Status Insert(const std::vector<v1::Event>& events);
  absl::Status AppendToSpool(const v1::Event& event);
  void FlushLoop();

  Database* db_;
  Options options_;
  std::mutex mu_;             // guards spooling_ and the spool file
  std::mutex flush_mu_;       // one flush at a time
  bool spooling_ = false;
  std::atomic<size_t> spooled_{0};
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread flusher_;
};

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_EVENT_STORE_H_
