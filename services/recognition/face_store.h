// Face collections: PostgreSQL is the source of truth, FAISS indexes in memory serve searches.
//
// Every write runs in one PostgreSQL transaction that also announces the change on the channel
// `stratus_recognition` (NOTIFY is delivered at commit, in commit order):
//   "C <generation> <collection>"            collection created
//   "D <generation> <collection>"            collection deleted
//   "A <seq>,<seq>,..."                      faces added (replicas read them by seq)
//   "R <generation> <collection> <seq>,..."  faces removed (split to stay under 8000 bytes)
// A collection's `generation` tells a re-created collection from the one deleted before it.
// The writing replica updates its own index at once (read-your-writes on one replica); every
// replica (the writer included) also applies the notifications, which is harmless because index
// updates are idempotent. A dedicated listener connection LISTENs first and then (re)loads every
// collection, so nothing committed in between is missed; when that connection breaks, it
// reconnects and reloads (resync).
//
// Lists, counts and descriptions are read from PostgreSQL; only nearest-neighbour searches use
// the in-memory indexes. A search on a collection this replica has not heard of yet loads it
// from PostgreSQL on the spot.
//
// Errors: NOT_FOUND (unknown collection or face), ALREADY_EXISTS (CreateCollection),
// RESOURCE_EXHAUSTED (more than max_faces_per_collection), UNAVAILABLE (database down).
// Thread-safe.
#ifndef STRATUS_SERVICES_RECOGNITION_FACE_STORE_H_
#define STRATUS_SERVICES_RECOGNITION_FACE_STORE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db.h"
#include "services/recognition/vector_index.h"
#include "stratus/v1/recognition.pb.h"

namespace stratus::recognition {

inline constexpr char kNotifyChannel[] = "stratus_recognition";

struct CollectionInfo {
  std::string collection_id;
  std::string face_model_version;
  int64_t face_count = 0;
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

class FaceStore {
 public:
  struct Options {
    Database* db = nullptr;     // required, not owned; must outlive the store
    std::string listen_url;     // connection string of the listener; "" = db->url()
    bool listen = true;         // false: no cross-replica sync (single-process tools)
    VectorIndex::Options index;
    int64_t max_faces_per_collection = 20'000'000;  // Rekognition's quota
    std::chrono::milliseconds reconnect_delay{1000};
    int load_batch = 20000;     // rows per query when loading a collection
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
  // non-empty; *more set when others follow.
  absl::StatusOr<std::vector<stratus::v1::Face>> ListFaces(const std::string& collection_id,
                                                           const std::string& start_after, int max,
                                                           const std::vector<std::string>& only,
                                                           bool* more);
  // Deletes the faces of `face_ids` that are in the collection; returns those deleted.
  // Malformed ids count as not found.
  absl::StatusOr<std::vector<std::string>> DeleteFaces(const std::string& collection_id,
                                                       const std::vector<std::string>& face_ids);
  // The descriptor of a stored face (NOT_FOUND when not in that collection).
  absl::StatusOr<std::vector<float>> GetDescriptor(const std::string& collection_id,
                                                   const std::string& face_id);
  // Up to `max_faces` faces within `max_distance` of `descriptor`, nearest first, leaving out
  // `exclude_face_id`.
  absl::StatusOr<std::vector<FaceMatchResult>> Search(const std::string& collection_id,
                                                      const std::vector<float>& descriptor,
                                                      int max_faces, float max_distance,
                                                      const std::string& exclude_face_id = "");

  // Faces in this replica's index of the collection (-1 when it has none): tests, metrics.
  int64_t IndexedFaces(const std::string& collection_id) const;
  std::string IndexDescription(const std::string& collection_id) const;

 private:
  struct Collection {
    int64_t generation = 0;
    std::unique_ptr<VectorIndex> index;
  };

  explicit FaceStore(const Options& options) : options_(options) {}
  void ListenLoop();
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
  void HandleNotification(const std::string& payload);

  Options options_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Collection>> collections_;
  std::atomic<bool> synced_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> resync_{false};  // set by the listener thread only
  std::thread listener_;

  friend class NotificationReceiver;
};

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_FACE_STORE_H_
