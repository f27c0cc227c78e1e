#include "services/recognition/face_store_notify.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace stratus::recognition {
namespace {

// `prefix` + seqs, in chunks that fit a notification.
std::vector<std::string> SeqPayloads(const std::string& prefix, const std::vector<int64_t>& seqs) {
  std::vector<std::string> out;
  for (size_t i = 0; i < seqs.size(); i += kSeqsPerNotification) {
    const size_t end = std::min(seqs.size(), i + kSeqsPerNotification);
    out.push_back(absl::StrCat(prefix, absl::StrJoin(seqs.begin() + i, seqs.begin() + end, ",")));
  }
  return out;
}

std::vector<int64_t> SeqsOf(const std::string& text) {
  std::vector<int64_t> seqs;
  for (absl::string_view s : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t v;
    if (absl::SimpleAtoi(s, &v)) seqs.push_back(v);
  }
  return seqs;
}

}  // namespace

std::string CollectionCreatedPayload(int64_t generation, const std::string& collection_id) {
  return absl::StrCat("C ", generation, " ", collection_id);
}

std::string CollectionDeletedPayload(int64_t generation, const std::string& collection_id) {
  return absl::StrCat("D ", generation, " ", collection_id);
}

std::vector<std::string> FacesAddedPayloads(const std::vector<int64_t>& seqs) {
  return SeqPayloads("A ", seqs);
}

std::vector<std::string> FacesRemovedPayloads(int64_t generation, const std::string& collection_id,
                                              const std::vector<int64_t>& seqs) {
  return SeqPayloads(absl::StrCat("R ", generation, " ", collection_id, " "), seqs);
}

std::optional<FaceStoreChange> ParseFaceStoreChange(const std::string& payload) {
  std::vector<std::string> parts = absl::StrSplit(payload, absl::MaxSplits(' ', 3));
  FaceStoreChange change;
  if (parts.size() >= 3 && (parts[0] == "C" || parts[0] == "D" || parts[0] == "R") &&
      absl::SimpleAtoi(parts[1], &change.generation)) {
    change.kind = parts[0] == "C"   ? FaceStoreChange::kCollectionCreated
                  : parts[0] == "D" ? FaceStoreChange::kCollectionDeleted
                                    : FaceStoreChange::kFacesRemoved;
    change.collection = parts[2];
    if (change.kind == FaceStoreChange::kFacesRemoved && parts.size() == 4) {
      change.seqs = SeqsOf(parts[3]);
    }
    return change;
  }
  if (parts.size() == 2 && parts[0] == "A") {
    change.kind = FaceStoreChange::kFacesAdded;
    change.seqs = SeqsOf(parts[1]);
    return change;
  }
  return std::nullopt;
}

}  // namespace stratus::recognition
