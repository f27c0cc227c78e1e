// stratus-ingest: pulls live video, analyses frames and publishes events. Retention flags
// (--event-retention, --snapshot-retention, --snapshot-max-bytes, --spool-max-bytes,
// --retention-interval) keep the database, the snapshot folder and the spool bounded; see
// services/ingest/retention.h and docs/deployment.md.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "common/db.h"
#include "common/logging.h"
#include "common/service_flags.h"
#include "common/service_host.h"
#include "services/ingest/ingest.h"
#include "services/ingest/ingest_service.h"
#include "services/ingest/schema.h"

int main(int argc, char** argv) {
  stratus::FlagSet flags("stratus-ingest",
                         "Pulls live video, analyses frames and publishes events.");
  stratus::CommonServiceFlags common;
  stratus::RegisterCommonServiceFlags(stratus::kIngestDefaults, true, flags, &common);
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
  int exit_code = 0;
  if (!stratus::ParseFlagsOrExit(flags, argc, argv, &exit_code)) return exit_code;
  if (auto s = stratus::ApplyCommonServiceFlags(&common); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }
  if (common.database_url.empty()) {
    std::cerr << "error: --database-url (or STRATUS_DATABASE_URL) is required\n";
    return 2;
  }
  auto db = stratus::Database::Create({.url = common.database_url, .pool_size = 8});
  if (!db.ok()) {
    std::cerr << "error: " << db.status().message() << "\n";
    return 2;
  }
  auto host_or = stratus::ServiceHost::Create(common.host);
  if (!host_or.ok()) {
    std::cerr << "error: " << host_or.status().message() << "\n";
    return 2;
  }
  auto& service_host = *host_or;
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
  auto ingest = stratus::ingest::Ingest::Create(db->get(), &service_host->metrics(), options);
  if (!ingest.ok()) {
    std::cerr << "error: " << ingest.status().message() << "\n";
    return 2;
  }
  stratus::ingest::IngestServiceImpl service(ingest->get());
  service_host->AddService(&service, "stratus.v1.IngestService");
  service_host->AddReadinessCheck(
      "database",
      stratus::DatabaseReadinessCheck(db->get(), "ingest", stratus::ingest::Migrations()));
  if (auto s = service_host->Start(); !s.ok()) {
    SLOG(ERROR) << "cannot start" << stratus::Kv("error", s.message());
    return 1;
  }
  (*ingest)->Start();
  stratus::ServiceHost::InstallSignalHandlers(service_host.get());
  service_host->Wait();
  (*ingest)->Stop();
  return 0;
}
