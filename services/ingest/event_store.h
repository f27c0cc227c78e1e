// Where ingest events go: PostgreSQL (ingest_events), through a local disk spool whenever the
// database is unreachable, so that nothing is lost.
//
// Record() writes an event straight to PostgreSQL when it can, within `write_deadline` (a write
// thread does the insert, so a database that hangs, e.g. frozen, cannot hold the caller; the
// transaction also carries that statement_timeout). When the write fails or misses its deadline,
// the event is appended to `<spool_dir>/events.jsonl` and fsynced (the folder too, when the file
// is new) before Record() returns OK; from then on every event goes to the spool until a
// background flush has replayed it into PostgreSQL in order. Events carry a unique id
// (`event_uid`, ON CONFLICT DO NOTHING), so a replay that is interrupted and repeated, by this
// process or the next one on the same spool, or a late commit of a write that missed its
// deadline, stores each event once. Spool lines that do not parse (a torn last line after a
// crash, a damaged disk) are moved to `events.rejected.jsonl` and counted, not dropped.
// Bounded spool: when `spool_max_bytes` is set and the spool files together grow past it, the
// oldest spooled events (those of the file being replayed first, then the oldest lines of the
// current one) are dropped until the spool is at 90% of the bound; they are counted
// (stratus_ingest_spool_dropped_total) and logged, never dropped silently. The flush thread
// enforces it (woken by an append that crossed the bound, and at start for a spool left over
// it), so the spool may exceed the bound by what arrives while a replay attempt is in progress.
//
// Fencing: an event whose lease_epoch is older than a lease of its stream that had begun when
// the event happened is refused and counted (result="fenced"); epoch 0 is never refused.
// Event times are the producing replica's clock and lease starts the database's, so clock skew
// between them shifts that boundary by as much.
// Readers: List() pages through stored events; After() returns events newer than an id, which
// is how WatchEvents follows events from every replica. Ids are assigned in commit order (the
// inserts of all replicas draw them under one PostgreSQL advisory lock held until commit), so a
// reader that moves its cursor to the last id it saw misses nothing; the price is that event
// writes commit one at a time across the cluster (a few hundred per second at the least, far
// above what streams produce).
// Thread-safe.
#ifndef STRATUS_SERVICES_INGEST_EVENT_STORE_H_
#define STRATUS_SERVICES_INGEST_EVENT_STORE_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db.h"
#include "common/metrics.h"
#include "stratus/v1/ingest.pb.h"

namespace stratus::ingest {

class EventStore {
 public:
  struct Options {
    std::string spool_dir;                           // required; created when missing
    std::chrono::milliseconds flush_interval{1000};  // retry period while spooling
    std::chrono::milliseconds write_deadline{2000};  // per database write, then the spool
    int64_t spool_max_bytes = 0;                     // 0 = unbounded
    // stratus_ingest_spool_events, stratus_ingest_spool_bytes (gauges),
    // stratus_ingest_spool_rejected_total, stratus_ingest_spool_dropped_total,
    // stratus_ingest_event_writes_total{result=stored|spooled|failed|fenced}; not owned; may be
    // null.
    metrics::Registry* metrics = nullptr;
  };

  // `db` is not owned and must outlive the store. The destructor waits for a database write in
  // progress (its transaction is bounded by statement_timeout, unless the server hangs).
  static absl::StatusOr<std::unique_ptr<EventStore>> Create(Database* db, const Options& options);
  ~EventStore();

  // Stores the event (assigning event_uid when empty). Fails only when neither PostgreSQL nor
  // the spool can take it (e.g. disk full).
  absl::Status Record(v1::Event event);

  struct Filter {
    std::string stream;                  // "" = all
    std::vector<std::string> streams;    // for After(); empty = all
    std::vector<v1::Event::Type> types;  // empty = all
    int64_t start_unix_ms = 0;           // 0 = unbounded
    int64_t end_unix_ms = 0;             // 0 = unbounded
  };
  // Events matching `filter` in id order (newest first if asked), after the cursor `page_token`
  // (an id). Returns at most `page_size` and the next token ("" at the end).
  absl::StatusOr<std::pair<std::vector<v1::Event>, std::string>> List(const Filter& filter,
                                                                      int page_size,
                                                                      const std::string& page_token,
                                                                      bool newest_first);
  // Up to `limit` events with id > after_id matching `filter`, oldest first.
  absl::StatusOr<std::vector<v1::Event>> After(int64_t after_id, const Filter& filter, int limit);
  // The largest stored id (0 when none): where a live watch starts.
  absl::StatusOr<int64_t> LastId();

  // Events waiting in the spool.
  size_t spooled() const { return spooled_.load(); }
  // Spool lines that did not parse, moved to events.rejected.jsonl since this store started.
  size_t rejected() const { return rejected_.load(); }
  // Events dropped from the spool to keep it within spool_max_bytes since this store started.
  size_t dropped() const { return dropped_.load(); }
  // Bytes the spool files take now.
  int64_t SpoolBytes() const;
  // Replays the spool now; OK when it is empty afterwards.
  absl::Status Flush();
  // Drops the oldest spooled events while the spool is over spool_max_bytes (to 90% of it);
  // returns how many were dropped. Called by the flush thread; public for retention and tests.
  absl::StatusOr<size_t> EnforceSpoolLimit();

 private:
  struct Write {
    v1::Event event;
    std::promise<absl::Status> done;
    std::atomic<bool> abandoned{false};  // the caller stopped waiting and spooled it
  };
  EventStore(Database* db, Options options);
  absl::Status Insert(const std::vector<v1::Event>& events);
  // Insert() on the write thread, waiting at most write_deadline.
  absl::Status InsertWithDeadline(const v1::Event& event);
  absl::Status AppendToSpool(const v1::Event& event);
  // EnforceSpoolLimit() with flush_mu_ and mu_ held.
  absl::StatusOr<size_t> TrimSpoolLocked();
  void SetSpooled(size_t n);
  void FlushLoop();
  void WriteLoop();

  Database* db_;
  Options options_;
  std::mutex mu_;        // guards spooling_ and the spool file
  std::mutex flush_mu_;  // one flush at a time
  bool spooling_ = false;
  std::atomic<size_t> spooled_{0};
  std::atomic<size_t> rejected_{0};
  std::atomic<size_t> dropped_{0};
  bool over_limit_ = false;  // an append crossed spool_max_bytes; guarded by mu_
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread flusher_;

  std::mutex write_mu_;  // guards writes_ and write_stop_
  std::condition_variable write_cv_;
  std::deque<std::shared_ptr<Write>> writes_;
  bool write_stop_ = false;
  std::thread writer_;

  metrics::Gauge* spool_gauge_ = nullptr;
  metrics::Counter* rejected_total_ = nullptr;
  metrics::Counter* dropped_total_ = nullptr;
  metrics::Gauge* spool_bytes_ = nullptr;
  metrics::Counter* stored_total_ = nullptr;
  metrics::Counter* fenced_total_ = nullptr;
  metrics::Counter* spooled_total_ = nullptr;
  metrics::Counter* failed_total_ = nullptr;
};

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_EVENT_STORE_H_
