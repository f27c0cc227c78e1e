// Track ids unique within a stream across restarts and replicas (stratus.v1.Event.track_id).
//
// PostgreSQL keeps, per stream name, the highest id reserved so far (ingest_track_ids). The
// replica holding the stream's lease reserves ids in blocks: Reserve() advances the mark by
// `block` in one statement that succeeds only while (stream, replica, epoch) is the live lease,
// so a replica that has lost the stream cannot reserve for it any more, and whoever holds it
// next starts above every id reserved before. Next() hands out the reserved ids in order; the
// holder tops the block up ahead of need (Low(), on its lease rounds). Ids therefore stay small
// and only grow within a stream, with gaps of at most a block per worker that stops.
// Should a block run out while the database is unreachable, Next() carries on above it (the
// tracker must go on) and the next reservation starts above what was used; only a replica that
// took the stream over during that outage could hand out those ids again.
// Thread-safe.
#ifndef STRATUS_SERVICES_INGEST_TRACK_IDS_H_
#define STRATUS_SERVICES_INGEST_TRACK_IDS_H_

#include <cstdint>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "common/db.h"

namespace stratus::ingest {

class TrackIds {
 public:
  static constexpr int64_t kDefaultBlock = 256;

  // `db` is not owned and must outlive this object.
  TrackIds(Database* db, std::string stream, std::string replica, int64_t lease_epoch,
           int64_t block = kDefaultBlock);

  // Reserves the next block. FAILED_PRECONDITION when (stream, replica, lease_epoch) is not the
  // stream's live lease; UNAVAILABLE etc. from the database (the ids in hand stay usable).
  absl::Status Reserve();
  // The next id (> 0), increasing.
  int64_t Next();
  // Fewer than half a block left (or none reserved yet): time to Reserve().
  bool Low() const;

  const std::string& stream() const { return stream_; }

 private:
  Database* db_;
  const std::string stream_;
  const std::string replica_;
  const int64_t epoch_;
  const int64_t block_;
  mutable std::mutex mu_;
  int64_t next_ = 1;   // the next id to hand out
  int64_t limit_ = 0;  // the last id reserved (0: none yet)
  bool overflow_logged_ = false;
};

}  // namespace stratus::ingest

#endif  // STRATUS_SERVICES_INGEST_TRACK_IDS_H_
