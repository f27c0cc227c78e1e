// Rekognition's request parameters as the Recognizer (rekognition.h) checks them: id formats,
// ranges, defaults and limits, shared by its operations on images, collections and users.
// Each check returns INVALID_ARGUMENT (InvalidParameterException) with a message naming the
// field and what it must be.
//
// Internal to the recognition core. Pure functions, thread-safe.
#ifndef STRATUS_SERVICES_RECOGNITION_REKOGNITION_PARAMS_H_
#define STRATUS_SERVICES_RECOGNITION_REKOGNITION_PARAMS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_field.h"
#include "services/recognition/face_store.h"
#include "stratus/v1/detector.pb.h"
#include "stratus/v1/recognition.pb.h"

namespace stratus::recognition::params {

inline constexpr int kMaxFacesPerImage = 100;
inline constexpr int kMaxPageSize = 4096;

absl::Status Invalid(absl::string_view message);

// 1-255 characters of [a-zA-Z0-9_.-], and ':' when `allow_colon`.
bool ValidId(const std::string& s, bool allow_colon);

// 1-255 characters of [a-zA-Z0-9_.-].
absl::Status CheckCollectionId(const std::string& id);
// A UUID; `field` names the field in the message.
absl::Status CheckFaceId(const std::string& id, const char* field);
// 1-128 characters of [a-zA-Z0-9_.-:].
absl::Status CheckUserId(const std::string& id);

// The idempotency key of a write: `request` with its token cleared is what a repeat must match.
template <typename Req>
absl::StatusOr<RequestToken> TokenOf(const char* operation, const Req& request) {
  const std::string& token = request.client_request_token();
  if (!token.empty()) {
    bool ok = token.size() <= 64;
    for (char c : token) {
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_');
    }
    if (!ok) return Invalid("ClientRequestToken must be 1-64 characters of [a-zA-Z0-9-_]");
  }
  Req rest = request;
  rest.clear_client_request_token();
  RequestToken t;
  t.operation = operation;
  t.token = token;
  t.request = rest.SerializeAsString();
  return t;
}

// 1 to 100 face ids, each a UUID.
absl::StatusOr<std::vector<std::string>> FaceIdList(
    const google::protobuf::RepeatedPtrField<std::string>& ids);
// MaxUsers: 1-500, default 500.
absl::StatusOr<int> MaxUsers(bool has, int value, const char* field);
// A similarity threshold: 0-100, default 80.
absl::StatusOr<float> Threshold(bool has, float value, const char* field);
// MaxResults of a listing: 0-4096, default 1000.
absl::StatusOr<int> PageSize(bool has, int value);
// MaxFaces of a search: 1-4096, default 4096.
absl::StatusOr<int> MaxMatches(bool has, int value);

std::vector<float> Descriptor(const stratus::v1::FaceAnalysis& f);

}  // namespace stratus::recognition::params

#endif  // STRATUS_SERVICES_RECOGNITION_REKOGNITION_PARAMS_H_
