// What the face store's files (face_store.cc: collections, faces and the index;
// face_store_users.cc: users) share: row mappings, the locks and checks of their transactions,
// idempotency tokens, and their errors. Internal to FaceStore.
#ifndef STRATUS_SERVICES_RECOGNITION_FACE_STORE_SQL_H_
#define STRATUS_SERVICES_RECOGNITION_FACE_STORE_SQL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/recognition/face_store.h"
#include "stratus/v1/recognition.pb.h"

namespace stratus::recognition::face_store_sql {

inline constexpr size_t kDescriptorBytes = kDescriptorDim * sizeof(float);
// The columns FaceFromRow() reads, in its order.
inline constexpr char kFaceColumns[] =
    "seq, face_id::text, image_id::text, external_image_id, confidence, box_left, box_top, "
    "box_width, box_height, model_version, coalesce(user_id, '')";
// The columns CollectionFromRow() reads, in its order.
inline constexpr char kCollectionColumns[] =
    "collection_id, face_model_version, generation, extract(epoch from created_at)::float8";

// A bytea literal ("\\x...") of the floats' bytes.
std::string HexBytea(const std::vector<float>& v);
// "{a,b,c}": a PostgreSQL array literal of values that need no quoting (uuids, integers).
template <typename C>
std::string ArrayLiteral(const C& values) {
  return absl::StrCat("{", absl::StrJoin(values, ","), "}");
}
// A face from a row of kFaceColumns; its seq in *seq when not null.
v1::Face FaceFromRow(const pqxx::row& r, int64_t* seq);
CollectionInfo CollectionFromRow(const pqxx::row& r);
// The 128 floats of a descriptor column; empty when its size is wrong.
std::vector<float> DescriptorOf(const pqxx::field& f);

// pg_notify on the store's channel (face_store_notify.h), delivered at commit.
absl::Status Notify(pqxx::work& tx, const std::string& payload);
absl::Status NotifyAll(pqxx::work& tx, const std::vector<std::string>& payloads);

// Rekognition's errors.
absl::Status NotFoundCollection(const std::string& id);
absl::Status NotFoundUser(const std::string& collection_id, const std::string& user_id);
absl::Status QuotaExceeded(absl::string_view message);  // ServiceQuotaExceededException

// Locks the collection row against deletion for the transaction; NOT_FOUND when it is absent.
absl::Status LockCollection(pqxx::work& tx, const std::string& collection_id);
// Locks the user row for the transaction; returns its face count, NOT_FOUND when absent.
absl::StatusOr<int64_t> LockUser(pqxx::work& tx, const std::string& collection_id,
                                 const std::string& user_id);
// The response a token already answered, if any (under a lock on the token held until commit,
// so that concurrent repeats wait for the first one); a token reused with another request is
// IdempotentParameterMismatchException.
absl::StatusOr<std::optional<std::string>> Replay(pqxx::work& tx, const RequestToken& t,
                                                  absl::Duration lifetime);
// Stores the response to `t` (a no-op without a token).
void Remember(pqxx::work& tx, const RequestToken& t, const std::string& collection_id,
              const std::string& response);
// A user's UserStatus from its face count.
v1::UserStatus::Value StatusOf(int64_t face_count);

}  // namespace stratus::recognition::face_store_sql

#endif  // STRATUS_SERVICES_RECOGNITION_FACE_STORE_SQL_H_
