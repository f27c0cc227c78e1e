// Assigns streams to ingest replicas through leases in PostgreSQL, so that each stream is run by
// exactly one live replica and moves to another within a lease period when its replica dies.
//
// Every round (call Tick() every lease/3), a replica: announces itself in ingest_replicas;
// renews the leases it holds; gives back streams above its fair share (ceil(streams / live
// replicas)) so a new replica gets work; and takes unowned or expired streams up to that share
// (FOR UPDATE SKIP LOCKED: replicas never take the same stream). Each take starts a new lease
// epoch (recorded in ingest_stream_epochs with its start), which the worker stamps on its events
// so that the event store can refuse the events of a replica that ran on after losing the lease.
// Each round is one transaction bounded by a statement timeout of lease/3, so a database that
// hangs cannot hold the caller for long. Thread-compatible: one caller.
#ifndef STRATUS_SERVICES_INGEST_LEASES_H_
#define STRATUS_SERVICES_INGEST_LEASES_H_

#include <chrono>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "common/db.h"
#include "stratus/v1/ingest.pb.h"

namespace stratus::ingest {

class LeaseManager {
 public:
  struct Options {
    std::string replica_id;             // unique per replica, e.g. hostname-pid
    std::chrono::seconds lease{10};     // how long a lease holds without renewal
  };

  // `db` is not owned.
  LeaseManager(Database* db, Options options) : db_(db), options_(std::move(options)) {}

  struct Lease {
    v1::StreamConfig config;
    int64_t epoch = 0;
  };
  struct Round {
    std::map<std::string, Lease> held;  // the streams this replica holds now, by name
    int64_t live_replicas = 0;          // this one included
  };
  // One round. On success every lease held lasts until at least `lease` after the call began.
  absl::StatusOr<Round> Tick();

  // Publishes the statuses of the streams this replica runs (ListStreams reads them).
  absl::Status PublishStatus(const std::map<std::string, v1::StreamStatus>& statuses);

  // Gives every lease back (graceful shutdown), so others take the streams at once.
  absl::Status ReleaseAll();

  const Options& options() const { return options_; }

 private:
  Database* db_;
  Options options_;
};

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_LEASES_H_
