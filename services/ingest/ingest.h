// The ingest core: streams (configs in PostgreSQL), their assignment to this replica through
// leases, one StreamWorker per stream held, and the event store. No gRPC server code here; the
// adapter is ingest_service.h.
//
// A background loop runs a lease round every lease/3 (and at once after AddStream/RemoveStream),
// starts workers for streams newly held, stops those lost or removed, restarts those whose
// config changed, and publishes the statuses of its streams for ListStreams on any replica.
//
// Fencing: a replica that cannot renew its leases (the database unreachable, or hanging) while
// other replicas were live at its last round stops all its workers once 2/3 of the lease has
// passed since the last round that renewed them, so it has stopped before another replica may
// take the streams over; a round that succeeds again starts them again. A replica that was
// alone keeps its streams through a database outage, spooling their events. The events carry
// the lease epoch, and the event store refuses those a replica produced after its lease had
// passed on (a process paused past the fence, or a replica that appeared during an outage).
//
// Live view: GetFrame() answers with the last analysed frame of a stream this replica holds
// (long-polling for a newer one); only the holder has it, others say which replica does.
// ReadSnapshot() reads an event's snapshot JPEG, confined to the snapshot folder.
//
// Retention (services/ingest/retention.h), on its own thread from Start() to Stop(), every
// `retention.interval`: events older than `retention.event_retention` (default 30 days) are
// deleted, by one replica at a time; the snapshot folder is kept within
// `retention.snapshot_retention` (7 days) and `retention.snapshot_max_bytes` (2 GiB), oldest
// first; the spool within `spool_max_bytes` (512 MiB), its oldest events dropped and counted.
//
// Track ids (services/ingest/track_ids.h): a worker starts only once a first block of its
// stream's track ids is reserved under its lease (else on a later round); rounds top blocks up
// ahead of need, so ids stay unique within a stream across restarts and replicas.
//
// Metrics: a stream's series (stratus_ingest_frames_total, _events_total, _event_latency_seconds
// and _analysis_latency_seconds labelled with it) last while a worker of the stream does on this
// replica: once the stream is removed, or lost to another replica, the next round removes them
// (a worker replaced by one for the same stream hands its series on).
// Thread-safe.
#ifndef STRATUS_SERVICES_INGEST_INGEST_H_
#define STRATUS_SERVICES_INGEST_INGEST_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db.h"
#include "common/metrics.h"
#include "services/ingest/event_store.h"
#include "services/ingest/leases.h"
#include "services/ingest/retention.h"
#include "services/ingest/source_policy.h"
#include "services/ingest/stream_worker.h"

namespace stratus::ingest {

class Ingest {
 public:
  struct Options {
    std::string replica_id;  // required, unique per replica, stable over restarts
    std::chrono::seconds lease{10};
    std::string spool_dir;                         // required: this replica's event spool
    int64_t spool_max_bytes = int64_t{512} << 20;  // 0 = unbounded
    std::string snapshot_dir;                      // "" = no JPEG snapshots; made absolute
    std::string detector_address = "localhost:50052";
    std::string mask_address = "localhost:50054";
    std::string recognition_address = "localhost:50053";
    std::string mqtt_url;  // "" = no MQTT; else events go there too
    std::string mqtt_topic_prefix = "stratus";
    WorkerOptions worker;
    // Which sources streams may name (services/ingest/source_policy.h): by default network
    // sources outside private and special ranges, and no local files.
    SourcePolicy::Options sources;
    // Ages, sizes and the interval; its snapshot_dir is this snapshot_dir, set by Create().
    Retention::Options retention;
  };

  // `db` and `registry` are not owned.
  static absl::StatusOr<std::unique_ptr<Ingest>> Create(Database* db, metrics::Registry* registry,
                                                        const Options& options);
  ~Ingest();

  void Start();
  // Stops every worker and gives the leases back (unless told not to, as a replica that dies
  // would not: tests use that to show failover).
  void Stop(bool release_leases = true);

  absl::StatusOr<v1::StreamStatus> AddStream(const v1::StreamConfig& config, bool replace);
  absl::Status RemoveStream(const std::string& name);
  absl::StatusOr<std::vector<v1::StreamStatus>> ListStreams();

  // The longest GetFrame() wait, and the largest snapshot ReadSnapshot() reads.
  static constexpr std::chrono::milliseconds kMaxFrameWait{10000};
  static constexpr int64_t kMaxSnapshotBytes = 10 << 20;

  // The last analysed frame of `stream`, which this replica must hold. Waits up to `wait` for
  // one with a sequence greater than `after_sequence` (returning early when `cancelled` says
  // so, checked every 100 ms), then answers with the newest it has, new or not.
  // INVALID_ARGUMENT: empty stream, `wait` outside 0..kMaxFrameWait. NOT_FOUND: no such stream.
  // FAILED_PRECONDITION: no frame analysed yet (after waiting), or the stream is held by another
  // replica (named) or by none. UNAVAILABLE: the database, asked who holds it, is unreachable.
  absl::StatusOr<StreamWorker::LatestFrame> GetFrame(
      const std::string& stream, int64_t after_sequence, std::chrono::milliseconds wait,
      const std::function<bool()>& cancelled = nullptr);
  // The JPEG named by an event's snapshot_ref ("file://" + path), which must lie in
  // the snapshot folder (symbolic links and ".." resolved first). INVALID_ARGUMENT: another
  // scheme, a path outside the folder or not a regular file. NOT_FOUND: the file is gone.
  // FAILED_PRECONDITION: no snapshot folder configured, the file is not a JPEG or is larger
  // than kMaxSnapshotBytes.
  absl::StatusOr<std::string> ReadSnapshot(const std::string& snapshot_ref);

  EventStore* events() { return events_.get(); }
  Retention* retention() { return retention_.get(); }
  const SourcePolicy& sources() const { return *sources_; }
  // Runs one lease round and reconciles workers now (tests; the loop does it by itself).
  absl::Status Reconcile();
  std::vector<std::string> RunningStreams();

 private:
  Ingest(Database* db, metrics::Registry* registry, Options options);
  void Loop();
  // Stops every worker when the leases may be about to expire unrenewed.
  void FenceLoop();

  Database* db_;
  metrics::Registry* registry_;
  // The worker of `stream` when this replica runs it; otherwise why not (see GetFrame()).
  absl::StatusOr<std::shared_ptr<StreamWorker>> HeldWorker(const std::string& stream);

  Options options_;
  LeaseManager leases_;
  std::unique_ptr<EventStore> events_;
  std::unique_ptr<Retention> retention_;
  std::unique_ptr<SourcePolicy> sources_;
  std::unique_ptr<MqttPublisher> mqtt_;
  WorkerDeps deps_;

  std::mutex mu_;  // guards workers_ and the loop state
  // Shared so that a GetFrame() waiting on a worker keeps it alive while it is replaced.
  std::map<std::string, std::shared_ptr<StreamWorker>> workers_;
  // When the last round that renewed the leases began (steady clock); guarded by mu_.
  std::chrono::steady_clock::time_point renewed_at_{};
  bool has_peers_ = false;  // the last round saw other live replicas; guarded by mu_
  std::thread fence_;
  std::mutex reconcile_mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool kick_ = false;
  std::thread loop_;
  metrics::Gauge* streams_gauge_;
  metrics::Gauge* spool_gauge_;
  metrics::Counter* leases_taken_;
  metrics::Counter* leases_released_;
  metrics::Counter* fenced_;
};

// Checks a stream config: name, URI syntax and scheme, rates and analyses. INVALID_ARGUMENT
// naming the field. Whether the source may be opened is the SourcePolicy's to say (AddStream
// asks it, and each worker asks again on every connect).
absl::Status ValidateStreamConfig(const v1::StreamConfig& config);

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_INGEST_H_
