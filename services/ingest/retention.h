// Retention: keeps what ingest leaves behind within age and size bounds, so that a small disk
// (and the database) does not fill up.
//
// Each pass (RunOnce(), on a thread every `interval` once Start() is called):
//  - events: deletes ingest_events older than `event_retention`, in batches of `event_batch`
//    (each its own transaction, oldest first, through the index on `at`). Only one replica
//    does it at a time: the pass holds a PostgreSQL session advisory lock while deleting, and a
//    replica that finds it taken skips the events this pass (Pass::events_skipped).
//    The same replica then prunes ingest_stream_epochs: of a stream's lease epochs that began
//    before the cutoff only the newest is kept, which refuses every stale event the pruned ones
//    would have (the fencing check of event_store.h, for events not older than the cutoff).
//  - snapshots: deletes the JPEG files (*.jpg) under `snapshot_dir` last modified more than
//    `snapshot_retention` ago, then, while the rest take more than `snapshot_max_bytes`, the
//    oldest of them. Other files and the folders are left alone. An event whose snapshot was
//    deleted keeps its snapshot_ref; reading it answers NOT_FOUND.
//  - spool: EventStore::EnforceSpoolLimit() (the store also enforces its bound by itself).
// A zero age or size disables that bound. "Now" is `now()`, so tests can move the clock.
// Metrics: stratus_ingest_retention_deleted_total{what=events|snapshots} (counter),
// stratus_ingest_snapshot_bytes (gauge: what the snapshot folder's JPEGs take after a pass).
// Thread-safe; RunOnce() may be called while the thread runs (passes take turns).
#ifndef STRATUS_SERVICES_INGEST_RETENTION_H_
#define STRATUS_SERVICES_INGEST_RETENTION_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/db.h"
#include "common/metrics.h"
#include "services/ingest/event_store.h"

namespace stratus::ingest {

class Retention {
 public:
  struct Options {
    std::chrono::seconds interval{std::chrono::minutes(10)};
    std::chrono::seconds event_retention{std::chrono::hours(24 * 30)};    // 0 = keep all
    int event_batch = 5000;                                               // rows per DELETE
    std::string snapshot_dir;                                             // "" = no snapshots
    std::chrono::seconds snapshot_retention{std::chrono::hours(24 * 7)};  // 0 = any age
    int64_t snapshot_max_bytes = int64_t{2} << 30;                        // 0 = any size
    std::function<std::chrono::system_clock::time_point()> now;  // empty = the system clock
  };

  // What one pass did.
  struct Pass {
    int64_t events_deleted = 0;
    bool events_skipped = false;  // another replica held the lock
    int64_t epochs_deleted = 0;   // ingest_stream_epochs rows pruned
    int64_t snapshots_deleted = 0;
    int64_t snapshot_bytes = 0;  // left after the pass
    size_t spool_dropped = 0;
  };

  // `db`, `events` (may be null: no spool bound here) and `registry` are not owned and must
  // outlive this object.
  Retention(Database* db, EventStore* events, metrics::Registry* registry, Options options);
  ~Retention();  // stops the thread

  // Runs a pass now and then every `interval`, until Stop().
  void Start();
  void Stop();

  // One pass. Each part runs even when another fails; the first failure is returned.
  absl::StatusOr<Pass> RunOnce();

  // The parts of a pass, for tests.
  // Deletes events older than now() - event_retention; sets `skipped` when another replica
  // holds the lock (nothing deleted then).
  absl::StatusOr<int64_t> DeleteOldEvents(bool* skipped, int64_t* epochs_deleted = nullptr);
  // Trims the snapshot folder; returns the files deleted and sets `bytes_left`.
  absl::StatusOr<int64_t> TrimSnapshots(int64_t* bytes_left);

  // The advisory lock key held while deleting events.
  static constexpr int64_t kRetentionLock = 0x5354524152455400;  // "STRARET\0"

 private:
  std::chrono::system_clock::time_point Now() const;
  void Loop();

  Database* db_;
  EventStore* events_;
  Options options_;
  std::mutex pass_mu_;  // one pass at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
  metrics::Counter* events_deleted_;
  metrics::Counter* snapshots_deleted_;
  metrics::Gauge* snapshot_bytes_;
};

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_RETENTION_H_
