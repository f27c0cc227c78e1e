#include "services/recognition/schema.h"

namespace stratus::recognition {

const std::vector<Migration>& Migrations() {
  static const auto* kMigrations = new std::vector<Migration>{
      {1, "collections and faces",
       R"sql(
CREATE TABLE recognition_collections (
  collection_id      text PRIMARY KEY,
  face_model_version text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE recognition_faces (
  face_id            uuid PRIMARY KEY,
  collection_id      text NOT NULL REFERENCES recognition_collections ON DELETE CASCADE,
  image_id           uuid NOT NULL,
  external_image_id  text,
  confidence         real NOT NULL,
  box_left real NOT NULL, box_top real NOT NULL, box_width real NOT NULL, box_height real NOT NULL,
  embedding          bytea NOT NULL,     -- 128 little-endian float32
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recognition_faces_collection ON recognition_faces (collection_id, face_id);
)sql"},
  };
  return *kMigrations;
}

}  // namespace stratus::recognition
