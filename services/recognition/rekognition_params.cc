#include "services/recognition/rekognition_params.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "services/recognition/face_store.h"

namespace stratus::recognition::params {
namespace {

namespace v1 = ::stratus::v1;

constexpr int kDefaultPageSize = 1000;
constexpr float kDefaultSimilarity = 80.0f;
constexpr size_t kMaxUserIdLength = 128;
constexpr int kMaxFacesPerUserCall = 100;
constexpr int kMaxUserResults = 500;

}  // namespace

bool ValidId(const std::string& s, bool allow_colon) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-' || (allow_colon && c == ':');
    if (!ok) return false;
  }
  return true;
}

absl::Status Invalid(absl::string_view message) { return absl::InvalidArgumentError(message); }

absl::Status CheckCollectionId(const std::string& id) {
  if (id.empty()) return Invalid("CollectionId is required");
  if (!ValidId(id, false)) {
    return Invalid(absl::StrCat("CollectionId '", id.substr(0, 300),
                                "' is invalid: 1-255 characters of [a-zA-Z0-9_.-]"));
  }
  return absl::OkStatus();
}

absl::Status CheckFaceId(const std::string& id, const char* field) {
  if (!IsStoreId(id)) {
    return Invalid(absl::StrCat(field, " '", id.substr(0, 100), "' is not a face id (a UUID)"));
  }
  return absl::OkStatus();
}

absl::Status CheckUserId(const std::string& id) {
  if (id.empty()) return Invalid("UserId is required");
  if (id.size() > kMaxUserIdLength || !ValidId(id, true)) {
    return Invalid(absl::StrCat("UserId '", id.substr(0, 200),
                                "' is invalid: 1-128 characters of [a-zA-Z0-9_.-:]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FaceIdList(
    const google::protobuf::RepeatedPtrField<std::string>& ids) {
  if (ids.empty() || ids.size() > kMaxFacesPerUserCall) {
    return Invalid("FaceIds must hold 1 to 100 face ids");
  }
  for (const auto& id : ids) STRATUS_RETURN_IF_ERROR(CheckFaceId(id, "FaceIds"));
  return std::vector<std::string>(ids.begin(), ids.end());
}

absl::StatusOr<int> MaxUsers(bool has, int value, const char* field) {
  if (!has) return kMaxUserResults;
  if (value < 1 || value > kMaxUserResults) {
    return Invalid(absl::StrCat(field, " must be between 1 and 500, got ", value));
  }
  return value;
}

absl::StatusOr<float> Threshold(bool has, float value, const char* field) {
  if (!has) return kDefaultSimilarity;
  if (!(value >= 0 && value <= 100)) {
    return Invalid(absl::StrCat(field, " must be between 0 and 100, got ", value));
  }
  return value;
}

absl::StatusOr<int> PageSize(bool has, int value) {
  if (!has) return kDefaultPageSize;
  if (value < 0 || value > kMaxPageSize) {
    return Invalid(absl::StrCat("MaxResults must be between 0 and 4096, got ", value));
  }
  return value;
}

absl::StatusOr<int> MaxMatches(bool has, int value) {
  if (!has) return kMaxPageSize;
  if (value < 1 || value > kMaxPageSize) {
    return Invalid(absl::StrCat("MaxFaces must be between 1 and 4096, got ", value));
  }
  return value;
}

std::vector<float> Descriptor(const v1::FaceAnalysis& f) {
  return std::vector<float>(f.face_descriptor().begin(), f.face_descriptor().end());
}

}  // namespace stratus::recognition::params
