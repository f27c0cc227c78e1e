// Assigns streams to ingest replicas through leases in PostgreSQL, so that each stream is run by
// exactly one live replica and moves to another within a lease period when its replica dies.
//
// Every round (call Tick() every lease/3), a replica: announces itself in ingest_replicas;
// renews the leases it holds; gives back streams above its fair share (ceil(streams / live
// replicas)) so a new replica gets work; and takes unowned or expired streams up to that share
// (FOR UPDATE SKIP LOCKED: replicas never take the same stream). Thread-compatible: one caller.
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

  // One round; returns the streams this replica holds now, by name, with their configs.
  absl::StatusOr<std::map<std::string, v1::StreamConfig>> Tick();

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
