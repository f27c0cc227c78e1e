#include "services/recognition/schema.h"

namespace stratus::recognition {

// Notes on the layout:
// * `seq` is the face's key in the in-memory FAISS index (an int64 id), stable for the life of
//   the row; face_id is the public UUID.
// * Embeddings are 128 little-endian float32 (512 bytes); PostgreSQL is the source of truth and
//   replicas rebuild their indexes from it.
// * Changes are announced on the channel `stratus_recognition` (see face_store_notify.h) in the
//   transaction that makes them, so replicas learn them at commit.
const std::vector<Migration>& Migrations() {
  static const auto* kMigrations = new std::vector<Migration>{
      {1, "collections and faces",
       R"sql(
CREATE TABLE recognition_collections (
  collection_id      text PRIMARY KEY,
  generation         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  face_model_version text NOT NULL,
  tags               jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE recognition_faces (
  seq                bigserial PRIMARY KEY,
  face_id            uuid NOT NULL UNIQUE,
  collection_id      text NOT NULL REFERENCES recognition_collections ON DELETE CASCADE,
  image_id           uuid NOT NULL,
  external_image_id  text NOT NULL DEFAULT '',
  confidence         real NOT NULL,
  box_left real NOT NULL, box_top real NOT NULL, box_width real NOT NULL, box_height real NOT NULL,
  model_version      text NOT NULL,
  embedding          bytea NOT NULL CHECK (length(embedding) = 512),
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recognition_faces_collection ON recognition_faces (collection_id, face_id);
CREATE INDEX recognition_faces_collection_seq ON recognition_faces (collection_id, seq);
)sql"},
      // Users: a face belongs to at most one user of its collection. DeleteUser clears the
      // faces' user_id before deleting the user (the key has no ON DELETE action, so a face can
      // never name a missing user). Idempotency tokens remember the first response of a write.
      {2, "users and idempotency tokens",
       R"sql(
CREATE TABLE recognition_users (
  collection_id text NOT NULL REFERENCES recognition_collections ON DELETE CASCADE,
  user_id       text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (collection_id, user_id)
);
ALTER TABLE recognition_faces ADD COLUMN user_id text;
ALTER TABLE recognition_faces ADD CONSTRAINT recognition_faces_user
  FOREIGN KEY (collection_id, user_id) REFERENCES recognition_users (collection_id, user_id);
CREATE INDEX recognition_faces_user ON recognition_faces (collection_id, user_id)
  WHERE user_id IS NOT NULL;
CREATE TABLE recognition_request_tokens (
  operation     text NOT NULL,
  token         text NOT NULL,
  collection_id text NOT NULL REFERENCES recognition_collections ON DELETE CASCADE,
  request       bytea NOT NULL,
  response      bytea NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (operation, token)
);
)sql"},
      // Stored video (video_jobs.h): a job, its lease while a worker runs it, and its results
      // (serialized LabelDetection / FaceDetection protos, `name` the label's for sorting).
      {3, "stored video jobs",
       R"sql(
CREATE TABLE recognition_video_jobs (
  job_id         text PRIMARY KEY,
  operation      text NOT NULL,
  client_token   text,
  request        bytea NOT NULL,
  path           text NOT NULL,
  status         text NOT NULL DEFAULT 'IN_PROGRESS',
  status_message text NOT NULL DEFAULT '',
  video_metadata bytea,
  model_version  text NOT NULL DEFAULT '',
  lease_owner    text,
  lease_until    timestamptz,
  attempts       int NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz
);
CREATE UNIQUE INDEX recognition_video_jobs_token ON recognition_video_jobs (operation, client_token)
  WHERE client_token IS NOT NULL;
CREATE INDEX recognition_video_jobs_waiting ON recognition_video_jobs (created_at)
  WHERE status = 'IN_PROGRESS';
CREATE TABLE recognition_video_results (
  job_id       text NOT NULL REFERENCES recognition_video_jobs ON DELETE CASCADE,
  seq          int NOT NULL,
  timestamp_ms bigint NOT NULL,
  name         text NOT NULL DEFAULT '',
  item         bytea NOT NULL,
  PRIMARY KEY (job_id, seq)
);
)sql"},
  };
  return *kMigrations;
}

}  // namespace stratus::recognition
