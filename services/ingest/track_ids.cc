#include "services/ingest/track_ids.h"

#include <algorithm>

#include "common/logging.h"

namespace stratus::ingest {

TrackIds::TrackIds(Database* db, std::string stream, std::string replica, int64_t lease_epoch,
                   int64_t block)
    : db_(db),
      stream_(std::move(stream)),
      replica_(std::move(replica)),
      epoch_(lease_epoch),
      block_(std::max<int64_t>(1, block)) {}

absl::Status TrackIds::Reserve() {
  int64_t used;
  {
    std::lock_guard<std::mutex> lock(mu_);
    used = std::max(next_ - 1, limit_);
  }
  auto reserved = db_->Query<int64_t>([&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    tx.exec("SET LOCAL statement_timeout = 5000");
    // Above both what the table says and what this holder used, only under the live lease.
    auto rows = tx.exec_params(
        "INSERT INTO ingest_track_ids (stream, reserved) "
        "SELECT name, $4::bigint + $5 FROM ingest_streams "
        "WHERE name = $1 AND owner = $2 AND epoch = $3 AND lease_until > now() "
        "ON CONFLICT (stream) DO UPDATE SET reserved = GREATEST(ingest_track_ids.reserved, $4) + "
        "$5 "
        "RETURNING reserved",
        stream_, replica_, epoch_, used, block_);
    if (rows.empty()) {
      return absl::FailedPreconditionError(
          "track ids: this replica does not hold the stream's lease (epoch " +
          std::to_string(epoch_) + ") any more");
    }
    return rows[0][0].as<int64_t>();
  });
  if (!reserved.ok()) return reserved.status();
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t first = *reserved - block_ + 1;
  // Contiguous with the ids in hand (the usual top-up) or a fresh block above them.
  if (first != limit_ + 1) next_ = std::max(next_, first);
  limit_ = *reserved;
  overflow_logged_ = false;
  return absl::OkStatus();
}

int64_t TrackIds::Next() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t id = next_++;
  if (id > limit_ && !overflow_logged_) {
    overflow_logged_ = true;
    SLOG(WARNING) << "track ids: reserved block used up (database unreachable?); carrying on "
                     "above it"
                  << Kv("stream", stream_) << Kv("id", id);
  }
  return id;
}

bool TrackIds::Low() const {
  std::lock_guard<std::mutex> lock(mu_);
  return limit_ - next_ + 1 < block_ / 2 + 1;
}

}  // namespace stratus::ingest
