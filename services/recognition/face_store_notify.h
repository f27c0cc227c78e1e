// The text protocol face stores use to announce changes to each other, on the PostgreSQL
// channel kNotifyChannel (a NOTIFY is delivered at commit, in commit order):
//   "C <generation> <collection>"            collection created
//   "D <generation> <collection>"            collection deleted
//   "A <seq>,<seq>,..."                      faces added (replicas read them by seq)
//   "R <generation> <collection> <seq>,..."  faces removed
// Seq lists are split over several notifications of at most kSeqsPerNotification seqs each, to
// stay under PostgreSQL's 8000-byte payload limit. A collection's `generation` tells a
// re-created collection from the one deleted before it.
//
// Pure functions of their arguments (no database, thread-safe).
#ifndef STRATUS_SERVICES_RECOGNITION_FACE_STORE_NOTIFY_H_
#define STRATUS_SERVICES_RECOGNITION_FACE_STORE_NOTIFY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stratus::recognition {

inline constexpr char kNotifyChannel[] = "stratus_recognition";
inline constexpr int kSeqsPerNotification = 500;  // ~6 KB per payload

struct FaceStoreChange {
  enum Kind { kCollectionCreated, kCollectionDeleted, kFacesAdded, kFacesRemoved };
  Kind kind = kFacesAdded;
  int64_t generation = 0;     // kCollection*, kFacesRemoved
  std::string collection;     // kCollection*, kFacesRemoved
  std::vector<int64_t> seqs;  // kFaces*: the seqs that parse as integers, others skipped
};

std::string CollectionCreatedPayload(int64_t generation, const std::string& collection_id);
std::string CollectionDeletedPayload(int64_t generation, const std::string& collection_id);
// One payload per kSeqsPerNotification seqs; none for no seqs.
std::vector<std::string> FacesAddedPayloads(const std::vector<int64_t>& seqs);
std::vector<std::string> FacesRemovedPayloads(int64_t generation, const std::string& collection_id,
                                              const std::vector<int64_t>& seqs);

// The change a payload announces; nullopt for a payload that is none of the above. A removal
// without its seq list parses as a removal of no faces.
std::optional<FaceStoreChange> ParseFaceStoreChange(const std::string& payload);

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_FACE_STORE_NOTIFY_H_
