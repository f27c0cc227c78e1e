// stratus-ingest: pulls live video, analyses frames and publishes events. Retention flags
// (--event-retention, --snapshot-retention, --snapshot-max-bytes, --spool-max-bytes,
// --retention-interval) keep the database, the snapshot folder and the spool bounded; see
// services/ingest/retention.h and docs/deployment.md.
#include <unistd.h>

#include <filesystem>

#include "common/service_main.h"
#include "services/ingest/ingest.h"
#include "services/ingest/ingest_service.h"
#include "services/ingest/schema.h"

int main(int argc, char** argv) {
  stratus::ServiceMain main({.binary = "stratus-ingest",
                             .summary = "Pulls live video, analyses frames and publishes events.",
                             .defaults = stratus::kIngestDefaults,
                             .uses_database = true});
  stratus::FlagSet& flags = main.flags();
  char host[256] = "replica";
  gethostname(host, sizeof(host) - 1);
  std::string replica = host;
  int lease_seconds = 10;
  std::string spool_dir = "var/spool";
  std::string snapshot_dir;
  std::string detector = "localhost:50052", mask = "localhost:50054",
              recognition = "localhost:50053";
  int max_in_flight = 2;
  std::string mqtt_url, mqtt_topic_prefix = "stratus";
  flags.String("replica-id", "STRATUS_REPLICA_ID", &replica,
               "this replica's name; unique among replicas and stable across restarts");
  flags.Int("lease-seconds", "STRATUS_LEASE_SECONDS", &lease_seconds,
            "stream lease: a dead replica's streams move within this time");
  flags.String("spool-dir", "STRATUS_SPOOL_DIR", &spool_dir,
               "events wait here while PostgreSQL is unreachable (a folder per replica)");
  flags.String("snapshot-dir", "STRATUS_SNAPSHOT_DIR", &snapshot_dir,
               "JPEG snapshots of events (default: <spool-dir>/../snapshots)");
  flags.String("detector", "STRATUS_DETECTOR_ADDR", &detector, "detector gRPC address");
  flags.String("mask", "STRATUS_MASK_ADDR", &mask, "mask gRPC address");
  flags.String("recognition", "STRATUS_RECOGNITION_ADDR", &recognition, "recognition gRPC address");
  flags.Int("max-in-flight", "", &max_in_flight, "detector requests outstanding per stream");
  std::vector<std::string> allow_sources, media_roots;
  flags.StringList("allow-source", "STRATUS_ALLOW_SOURCE", &allow_sources,
                   "CIDR that stream sources may connect to although it is loopback, private or "
                   "link-local (repeatable), e.g. 192.168.10.0/24 for cameras on the LAN");
  flags.StringList("media-root", "STRATUS_MEDIA_ROOT", &media_roots,
                   "folder that local video files may be streamed from (repeatable; none: no "
                   "local files)");
  flags.String("mqtt-url", "STRATUS_MQTT_URL", &mqtt_url,
               "also publish events to this MQTT broker, mqtt://[user[:password]@]host[:port]");
  flags.String("mqtt-topic-prefix", "STRATUS_MQTT_TOPIC_PREFIX", &mqtt_topic_prefix,
               "MQTT topics: <prefix>/<stream>/events (JSON), <prefix>/<stream>/snapshot (JPEG)");
  stratus::ingest::Retention::Options retention;
  int64_t spool_max_bytes = int64_t{512} << 20;
  flags.Duration("event-retention", "STRATUS_EVENT_RETENTION", &retention.event_retention,
                 "events older than this are deleted from PostgreSQL (0: kept for ever)");
  flags.Duration("snapshot-retention", "STRATUS_SNAPSHOT_RETENTION", &retention.snapshot_retention,
                 "snapshot JPEGs older than this are deleted (0: any age)");
  flags.Bytes("snapshot-max-bytes", "STRATUS_SNAPSHOT_MAX_BYTES", &retention.snapshot_max_bytes,
              "the snapshot folder is kept within this size, oldest deleted first (0: any size)");
  flags.Bytes("spool-max-bytes", "STRATUS_SPOOL_MAX_BYTES", &spool_max_bytes,
              "the event spool is kept within this size; when full, the oldest spooled events "
              "are dropped, counted in stratus_ingest_spool_dropped_total (0: unbounded)");
  flags.Duration("retention-interval", "STRATUS_RETENTION_INTERVAL", &retention.interval,
                 "how often retention runs");
  return main.Run(argc, argv, [&](stratus::ServiceContext& ctx) -> absl::Status {
    absl::StatusOr<stratus::Database*> db = ctx.database();
    if (!db.ok()) return db.status();
    if (snapshot_dir.empty()) {
      snapshot_dir = (std::filesystem::path(spool_dir) / ".." / "snapshots").lexically_normal();
    }
    stratus::ingest::Ingest::Options options;
    options.replica_id = replica;
    options.lease = std::chrono::seconds(lease_seconds);
    options.spool_dir = (std::filesystem::path(spool_dir) / replica).string();
    options.snapshot_dir = snapshot_dir;
    options.detector_address = detector;
    options.mask_address = mask;
    options.recognition_address = recognition;
    options.worker.max_in_flight = max_in_flight;
    options.sources.allowed_sources = allow_sources;
    options.sources.media_roots = media_roots;
    options.mqtt_url = mqtt_url;
    options.mqtt_topic_prefix = mqtt_topic_prefix;
    options.spool_max_bytes = spool_max_bytes;
    options.retention = retention;
    absl::StatusOr<std::unique_ptr<stratus::ingest::Ingest>> created =
        stratus::ingest::Ingest::Create(*db, &ctx.metrics(), options);
    if (!created.ok()) return created.status();
    stratus::ingest::Ingest* ingest = ctx.Keep(std::move(*created));
    ctx.host().AddService(ctx.Make<stratus::ingest::IngestServiceImpl>(ingest),
                          "stratus.v1.IngestService");
    ctx.host().AddReadinessCheck(
        "database", stratus::DatabaseReadinessCheck(*db, "ingest", stratus::ingest::Migrations()));
    ctx.OnStarted([ingest] { ingest->Start(); });
    ctx.OnStopped([ingest] { ingest->Stop(); });
    return absl::OkStatus();
  });
}
