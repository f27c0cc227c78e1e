#include "services/ingest/schema.h"

namespace stratus::ingest {

const std::vector<Migration>& Migrations() {
  static const auto* kMigrations = new std::vector<Migration>{
      {1, "streams, leases and events",
       R"sql(
CREATE TABLE ingest_streams (
  name        text PRIMARY KEY,
  config      jsonb NOT NULL,           -- stratus.v1.StreamConfig as JSON
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- The replica running the stream and until when its lease holds.
  owner       text,
  lease_until timestamptz,
  status      jsonb                     -- stratus.v1.StreamStatus as last published by the owner
);
-- Replicas announce themselves on every lease round; the live ones share the streams.
CREATE TABLE ingest_replicas (
  replica     text PRIMARY KEY,
  seen        timestamptz NOT NULL
);
CREATE TABLE ingest_events (
  id          bigserial PRIMARY KEY,
  event_uid   text UNIQUE NOT NULL,     -- idempotency key: spooled events are replayed safely
  stream      text NOT NULL,
  type        text NOT NULL,
  at          timestamptz NOT NULL,
  payload     jsonb NOT NULL
);
CREATE INDEX ingest_events_stream_at ON ingest_events (stream, at);
CREATE INDEX ingest_events_type_at ON ingest_events (type, at);
)sql"},
      {2, "lease epochs",
       R"sql(
-- Every time a replica takes a stream, the lease gets a new epoch from one sequence, and the
-- moment it began is kept, so that an event can be checked against the leases that followed.
CREATE SEQUENCE ingest_lease_epochs;
ALTER TABLE ingest_streams ADD COLUMN epoch bigint NOT NULL DEFAULT 0;
CREATE TABLE ingest_stream_epochs (
  stream      text NOT NULL,
  epoch       bigint NOT NULL,
  owner       text NOT NULL,
  since       timestamptz NOT NULL,
  PRIMARY KEY (stream, epoch)
);
ALTER TABLE ingest_events ADD COLUMN lease_epoch bigint NOT NULL DEFAULT 0;
)sql"},
      {3, "events by time, for retention",
       R"sql(
-- Retention deletes the oldest events in batches: WHERE at < cutoff ORDER BY at LIMIT n.
CREATE INDEX ingest_events_at ON ingest_events (at);
)sql"},
      {4, "track id high-water marks",
       R"sql(
-- The highest track id handed out per stream name, advanced in blocks by the replica holding
-- the stream's lease, so ids stay unique within a stream across restarts and replicas. Kept
-- when a stream is removed: one added again under the same name continues above it.
CREATE TABLE ingest_track_ids (
  stream      text PRIMARY KEY,
  reserved    bigint NOT NULL
);
)sql"},
  };
  return *kMigrations;
}

}  // namespace stratus::ingest
