// Face collections: PostgreSQL is the source of truth, FAISS indexes in memory serve searches.
//
// Every write runs in one PostgreSQL transaction that also announces the change on the channel
// `stratus_recognition` (NOTIFY is delivered at commit, in commit order), in the text protocol of
// face_store_notify.h; a collection's `generation` tells a re-created collection from the one
// deleted before it. The writing replica updates its own index at once (read-your-writes on one
// replica); every replica (the writer included) also applies the notifications, which is
// harmless because index updates are idempotent. The listener (face_store_listener.h) LISTENs
// first and then (re)loads every collection, so nothing committed in between is missed; when its
// connection breaks, it reconnects and reloads (resync).
//
// Lists, counts and descriptions are read from PostgreSQL; only nearest-neighbour searches use
// the in-memory indexes. Users (named sets of faces) live only in PostgreSQL: the index holds
// descriptors, and which user a face belongs to is read with the matches, so users need no
// notifications to be consistent across replicas. A search on a collection this replica has not
// heard of yet loads it from PostgreSQL on the spot.
//
// Errors: NOT_FOUND (unknown collection, face or user), ALREADY_EXISTS (CreateCollection),
// ServiceQuotaExceededException (RESOURCE_EXHAUSTED: more than max_faces_per_collection faces,
// max_users_per_collection users or max_faces_per_user faces of a user), ConflictException
// (CreateUser of an existing user), IdempotentParameterMismatchException (a request token reused
// with other parameters), UNAVAILABLE (database down). The named ones are AwsError statuses
// (common/aws/aws_error.h).
// Thread-safe.
#ifndef STRATUS_SERVICES_RECOGNITION_FACE_STORE_H_
#define STRATUS_SERVICES_RECOGNITION_FACE_STORE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/db.h"
#include "services/recognition/face_store_listener.h"
#include "services/recognition/vector_index.h"
#include "stratus/v1/recognition.pb.h"

namespace stratus::recognition {

// Whether `s` has the form of the ids the store issues (face and image ids: UUIDs in text form,
// 8-4-4-4-12 hexadecimal digits).
bool IsStoreId(const std::string& s);
// Euclidean distance of two descriptors; 1e6 when their sizes differ or they are empty.
float DescriptorDistance(absl::Span<const float> a, absl::Span<const float> b);

struct CollectionInfo {
  std::string collection_id;
  std::string face_model_version;
  int64_t face_count = 0;
  int64_t user_count = 0;  // DescribeCollection only
  absl::Time created;
  int64_t generation = 0;
};

// A face to add: its box, confidence (0-100) and 128-d descriptor. face_id and image_id are
// assigned by the store.
struct NewFace {
  stratus::v1::BoundingBox box;
  float confidence = 0;
  std::vector<float> descriptor;
};

struct FaceMatchResult {
  stratus::v1::Face face;
  float distance = 0;  // Euclidean distance of the descriptors
};

struct UserInfo {
  std::string user_id;
  int64_t face_count = 0;
};

struct UserMatchResult {
  std::string user_id;
  float distance = 0;  // the smallest distance between a query and one of the user's faces
};

// The idempotency key of a write: the operation's name, the caller's token ("" = no
// idempotency) and the request's other fields (serialized), compared on a repeat.
struct RequestToken {
  std::string operation;
  std::string token;
  std::string request;
};

class FaceStore {
 public:
  struct Options {
    Database* db = nullptr;  // required, not owned; must outlive the store
    std::string listen_url;  // connection string of the listener; "" = db->url()
    bool listen = true;      // false: no cross-replica sync (single-process tools)
    VectorIndex::Options index;
    int64_t max_faces_per_collection = 20'000'000;  // Rekognition's quotas
    int64_t max_users_per_collection = 10'000'000;
    int max_faces_per_user = 100;
    absl::Duration request_token_lifetime = absl::Hours(24);  // how long a token replays
    std::chrono::milliseconds reconnect_delay{1000};
    int load_batch = 20000;  // rows per query when loading a collection
  };

  static absl::StatusOr<std::unique_ptr<FaceStore>> Create(const Options& options);
  ~FaceStore();  // stops the listener

  // Starts the listener thread, which loads every collection (retrying while the database is
  // down). Without `listen`, loads once, synchronously.
  absl::Status Start();
  // True once the first load completed; the readiness condition.
  bool synced() const { return synced_.load(); }
  // OK once synced, DEADLINE_EXCEEDED after `timeout`.
  absl::Status WaitUntilSynced(absl::Duration timeout) const;

  absl::StatusOr<CollectionInfo> CreateCollection(const std::string& collection_id,
                                                  const std::string& face_model_version,
                                                  const std::map<std::string, std::string>& tags);
  absl::Status DeleteCollection(const std::string& collection_id);
  // Up to `max` collections with id > start_after, in id order; *more set when others follow.
  absl::StatusOr<std::vector<CollectionInfo>> ListCollections(const std::string& start_after,
                                                              int max, bool* more);
  absl::StatusOr<CollectionInfo> DescribeCollection(const std::string& collection_id);

  // Adds faces (all from one image: one image_id) with an optional external image id. Returns
  // the stored faces in the same order.
  absl::StatusOr<std::vector<stratus::v1::Face>> AddFaces(const std::string& collection_id,
                                                          const std::vector<NewFace>& faces,
                                                          const std::string& external_image_id,
                                                          const std::string& model_version);
  // Faces with face_id > start_after in face_id order, at most `max`, restricted to `only` when
  // non-empty and to the faces of `user_id` when non-empty; *more set when others follow.
  absl::StatusOr<std::vector<stratus::v1::Face>> ListFaces(const std::string& collection_id,
                                                           const std::string& start_after, int max,
                                                           const std::vector<std::string>& only,
                                                           bool* more,
                                                           const std::string& user_id = "");
  // Deletes the faces of `face_ids` that are in the collection and belong to no user; returns
  // those deleted. Faces of a user are left, listed in *associated (face_id, user_id) when
  // given. Malformed ids count as not found.
  absl::StatusOr<std::vector<std::string>> DeleteFaces(
      const std::string& collection_id, const std::vector<std::string>& face_ids,
      std::vector<std::pair<std::string, std::string>>* associated = nullptr);
  // The descriptor of a stored face (NOT_FOUND when not in that collection).
  absl::StatusOr<std::vector<float>> GetDescriptor(const std::string& collection_id,
                                                   const std::string& face_id);
  // Up to `max_faces` faces within `max_distance` of `descriptor`, nearest first, leaving out
  // `exclude_face_id`.
  absl::StatusOr<std::vector<FaceMatchResult>> Search(const std::string& collection_id,
                                                      const std::vector<float>& descriptor,
                                                      int max_faces, float max_distance,
                                                      const std::string& exclude_face_id = "");

  // Users. Each write runs in one transaction; with a token, a repeat of the same request
  // within request_token_lifetime returns the first answer without redoing it.
  absl::Status CreateUser(const std::string& collection_id, const std::string& user_id,
                          const RequestToken& token);
  // Deletes the user; its faces stay, without a user.
  absl::Status DeleteUser(const std::string& collection_id, const std::string& user_id,
                          const RequestToken& token);
  // Up to `max` users with user_id > start_after in bytewise order; *more set when others follow.
  absl::StatusOr<std::vector<UserInfo>> ListUsers(const std::string& collection_id,
                                                  const std::string& start_after, int max,
                                                  bool* more);
  // Associates faces with a user, as Rekognition's AssociateFaces (see recognition.proto): a
  // face must be within `min_similarity` of one of the faces the user had before the call,
  // similarity being `similarity(distance)`. RESOURCE_EXHAUSTED when the user already has
  // max_faces_per_user faces.
  absl::StatusOr<stratus::v1::AssociateFacesResponse> AssociateFaces(
      const std::string& collection_id, const std::string& user_id,
      const std::vector<std::string>& face_ids, float min_similarity,
      const std::function<float(float)>& similarity, const RequestToken& token);
  absl::StatusOr<stratus::v1::DisassociateFacesResponse> DisassociateFaces(
      const std::string& collection_id, const std::string& user_id,
      const std::vector<std::string>& face_ids, const RequestToken& token);
  // The descriptors of a user's faces (NOT_FOUND for an unknown user).
  absl::StatusOr<std::vector<std::vector<float>>> UserDescriptors(const std::string& collection_id,
                                                                  const std::string& user_id);
  // Users with a face within `max_distance` of one of `queries`, nearest first, at most
  // `max_users`, leaving out `exclude_user_id` and the face `exclude_face_id`. Each query looks
  // at its `neighbors` nearest faces of the index (faces of no user included).
  absl::StatusOr<std::vector<UserMatchResult>> SearchUsers(
      const std::string& collection_id, const std::vector<std::vector<float>>& queries,
      int max_users, float max_distance, const std::string& exclude_user_id = "",
      const std::string& exclude_face_id = "", int neighbors = 4096);

  // Faces in this replica's index of the collection (-1 when it has none): tests, metrics.
  int64_t IndexedFaces(const std::string& collection_id) const;
  std::string IndexDescription(const std::string& collection_id) const;

 private:
  struct Collection {
    int64_t generation = 0;
    std::unique_ptr<VectorIndex> index;
  };

  explicit FaceStore(const Options& options) : options_(options) {}
  absl::Status ReloadAll();
  // Loads one collection's faces from PostgreSQL into a new index.
  absl::StatusOr<std::shared_ptr<Collection>> LoadCollection(const std::string& collection_id,
                                                             int64_t generation);
  // The in-memory collection, loading it when this replica has not heard of it.
  absl::StatusOr<std::shared_ptr<Collection>> GetCollection(const std::string& collection_id);
  std::shared_ptr<Collection> Find(const std::string& collection_id) const;
  // Returns the entry for (id, generation), replacing an older generation.
  std::shared_ptr<Collection> Ensure(const std::string& collection_id, int64_t generation);
  void Forget(const std::string& collection_id, int64_t generation);
  absl::Status AddBySeq(const std::vector<int64_t>& seqs);
  // Applies a change announced by a replica (listener thread); non-OK asks for a resync.
  absl::Status HandleNotification(const std::string& payload);

  Options options_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Collection>> collections_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> synced_{false};
  std::unique_ptr<FaceStoreListener> listener_;  // set by Start() with `listen`
};

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_FACE_STORE_H_
