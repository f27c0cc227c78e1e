#include "services/ingest/leases.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"

namespace stratus::ingest {

absl::StatusOr<LeaseManager::Round> LeaseManager::Tick() {
  const int64_t lease_s = options_.lease.count();
  return db_->Query<Round>([&](pqxx::work& tx) -> absl::StatusOr<Round> {
    tx.exec(absl::StrCat("SET LOCAL statement_timeout = ", lease_s * 1000 / 3));
    tx.exec_params(
        "INSERT INTO ingest_replicas (replica, seen) VALUES ($1, now()) "
        "ON CONFLICT (replica) DO UPDATE SET seen = now()",
        options_.replica_id);
    const int64_t live = tx.exec_params1(
        "SELECT count(*) FROM ingest_replicas WHERE seen > now() - make_interval(secs => $1)",
        lease_s)[0].as<int64_t>();
    const int64_t total = tx.exec1("SELECT count(*) FROM ingest_streams")[0].as<int64_t>();
    const int64_t share = live > 0 ? (total + live - 1) / live : total;
    // Renew.
    auto mine = tx.exec_params(
        "UPDATE ingest_streams SET lease_until = now() + make_interval(secs => $2) "
        "WHERE owner = $1 RETURNING name",
        options_.replica_id, lease_s);
    int64_t held = static_cast<int64_t>(mine.size());
    // Give back what is above the fair share.
    if (held > share) {
      tx.exec_params(
          "UPDATE ingest_streams SET owner = NULL, lease_until = NULL WHERE name IN ("
          " SELECT name FROM ingest_streams WHERE owner = $1 ORDER BY name DESC LIMIT $2)",
          options_.replica_id, held - share);
      held = share;
    }
    // Take free or expired streams up to the share.
    if (held < share) {
      tx.exec_params(
          "WITH taken AS ("
          "  UPDATE ingest_streams SET owner = $1, lease_until = now() + make_interval(secs => $2),"
          "    epoch = nextval('ingest_lease_epochs') "
          "  WHERE name IN (SELECT name FROM ingest_streams "
          "    WHERE owner IS NULL OR lease_until < now() ORDER BY name LIMIT $3 "
          "    FOR UPDATE SKIP LOCKED) "
          "  RETURNING name, epoch) "
          "INSERT INTO ingest_stream_epochs (stream, epoch, owner, since) "
          "SELECT name, epoch, $1, now() FROM taken",
          options_.replica_id, lease_s, share - held);
    }
    Round round;
    round.live_replicas = live;
    auto rows = tx.exec_params(
        "SELECT name, config::text, epoch FROM ingest_streams WHERE owner = $1",
        options_.replica_id);
    for (const auto& row : rows) {
      Lease lease;
      auto s = google::protobuf::util::JsonStringToMessage(row[1].as<std::string>(), &lease.config);
      if (!s.ok()) {
        return absl::DataLossError(absl::StrCat("stream ", row[0].as<std::string>(),
                                                ": bad config: ", s.ToString()));
      }
      lease.epoch = row[2].as<int64_t>();
      round.held[row[0].as<std::string>()] = std::move(lease);
    }
    return round;
  });
}

absl::Status LeaseManager::PublishStatus(const std::map<std::string, v1::StreamStatus>& statuses) {
  return db_->Transact([&](pqxx::work& tx) {
    for (const auto& [name, status] : statuses) {
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(status, &json);
      tx.exec_params(
          "UPDATE ingest_streams SET status = $3::jsonb WHERE name = $1 AND owner = $2", name,
          options_.replica_id, json);
    }
    return absl::OkStatus();
  });
}

absl::Status LeaseManager::ReleaseAll() {
  return db_->Transact([&](pqxx::work& tx) {
    tx.exec_params("UPDATE ingest_streams SET owner = NULL, lease_until = NULL WHERE owner = $1",
                   options_.replica_id);
    tx.exec_params("DELETE FROM ingest_replicas WHERE replica = $1", options_.replica_id);
    return absl::OkStatus();
  });
}

}  // namespace stratus::ingest
