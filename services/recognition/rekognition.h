// The Rekognition operations with Rekognition's semantics, defaults and limits, on top of the
// face store (collections) and the analysis backends (detector, mask). No gRPC or HTTP here:
// the gRPC adapter (recognition_service.h) and the AWS JSON endpoint (aws_endpoint.h) both call
// this class.
//
// Errors are absl statuses; where Rekognition names a specific exception the status carries it
// (common/aws/aws_error.h AwsError payload): InvalidImageFormatException, ImageTooLargeException,
// InvalidPaginationTokenException, ServiceQuotaExceededException, ConflictException,
// IdempotentParameterMismatchException. Plain codes otherwise:
// INVALID_ARGUMENT (InvalidParameterException), NOT_FOUND (ResourceNotFoundException),
// ALREADY_EXISTS, UNAVAILABLE (ServiceUnavailableException 503: a backend is down or too slow),
// RESOURCE_EXHAUSTED (ThrottlingException: a backend is overloaded), UNIMPLEMENTED (a feature
// whose backend is not configured, e.g. FACE_COVER without the mask service).
//
// Thread-safe; the pointers in Options are not owned and must outlive the Recognizer.
#ifndef STRATUS_SERVICES_RECOGNITION_REKOGNITION_H_
#define STRATUS_SERVICES_RECOGNITION_REKOGNITION_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/image.h"
#include "services/recognition/face_analyzer.h"
#include "services/recognition/face_detail.h"
#include "services/recognition/face_store.h"
#include "runtime/text_reader.h"
#include "stratus/v1/recognition.pb.h"

namespace stratus::recognition {

class Recognizer {
 public:
  struct Options {
    FaceStore* store = nullptr;               // required
    FaceAnalyzer* faces = nullptr;            // required
    ObjectDetector* objects = nullptr;        // required for DetectLabels / PPE
    MaskClassifier* masks = nullptr;          // null: FACE_COVER is UNIMPLEMENTED
    runtime::TextReader* text = nullptr;      // null: DetectText is UNIMPLEMENTED
    std::string region = "us-east-1";         // for collection ARNs
    std::string account = "000000000000";
    // Version string of the face pipeline, stored with each face (IndexFacesModelVersion).
    std::string face_model_version = "stratus-faceapi-1.0";
    // Images given as Image.uri (internal callers only) must lie under this folder; "" refuses
    // every uri.
    std::string file_uri_root;
    // Rekognition's limits.
    size_t max_image_bytes = kMaxInlineImageBytes;
    int min_image_side = 80;
  };

  static absl::StatusOr<std::unique_ptr<Recognizer>> Create(const Options& options);

  absl::StatusOr<stratus::v1::DetectFacesResponse> DetectFaces(
      const stratus::v1::DetectFacesRequest& request);
  absl::StatusOr<stratus::v1::CompareFacesResponse> CompareFaces(
      const stratus::v1::CompareFacesRequest& request);
  absl::StatusOr<stratus::v1::CreateCollectionResponse> CreateCollection(
      const stratus::v1::CreateCollectionRequest& request);
  absl::StatusOr<stratus::v1::DeleteCollectionResponse> DeleteCollection(
      const stratus::v1::DeleteCollectionRequest& request);
  absl::StatusOr<stratus::v1::ListCollectionsResponse> ListCollections(
      const stratus::v1::ListCollectionsRequest& request);
  absl::StatusOr<stratus::v1::DescribeCollectionResponse> DescribeCollection(
      const stratus::v1::DescribeCollectionRequest& request);
  absl::StatusOr<stratus::v1::IndexFacesResponse> IndexFaces(
      const stratus::v1::IndexFacesRequest& request);
  absl::StatusOr<stratus::v1::ListFacesResponse> ListFaces(
      const stratus::v1::ListFacesRequest& request);
  absl::StatusOr<stratus::v1::DeleteFacesResponse> DeleteFaces(
      const stratus::v1::DeleteFacesRequest& request);
  absl::StatusOr<stratus::v1::SearchFacesResponse> SearchFaces(
      const stratus::v1::SearchFacesRequest& request);
  absl::StatusOr<stratus::v1::SearchFacesByImageResponse> SearchFacesByImage(
      const stratus::v1::SearchFacesByImageRequest& request);
  absl::StatusOr<stratus::v1::DetectLabelsResponse> DetectLabels(
      const stratus::v1::DetectLabelsRequest& request);
  absl::StatusOr<stratus::v1::DetectProtectiveEquipmentResponse> DetectProtectiveEquipment(
      const stratus::v1::DetectProtectiveEquipmentRequest& request);
  // Users (recognition.proto "Users"): durable in the face store, idempotent with a
  // ClientRequestToken.
  absl::StatusOr<stratus::v1::CreateUserResponse> CreateUser(
      const stratus::v1::CreateUserRequest& request);
  absl::StatusOr<stratus::v1::DeleteUserResponse> DeleteUser(
      const stratus::v1::DeleteUserRequest& request);
  absl::StatusOr<stratus::v1::ListUsersResponse> ListUsers(
      const stratus::v1::ListUsersRequest& request);
  absl::StatusOr<stratus::v1::AssociateFacesResponse> AssociateFaces(
      const stratus::v1::AssociateFacesRequest& request);
  absl::StatusOr<stratus::v1::DisassociateFacesResponse> DisassociateFaces(
      const stratus::v1::DisassociateFacesRequest& request);
  absl::StatusOr<stratus::v1::SearchUsersResponse> SearchUsers(
      const stratus::v1::SearchUsersRequest& request);
  absl::StatusOr<stratus::v1::SearchUsersByImageResponse> SearchUsersByImage(
      const stratus::v1::SearchUsersByImageRequest& request);
  // Text in an image (detect_text.h, which implements it).
  absl::StatusOr<stratus::v1::DetectTextResponse> DetectText(
      const stratus::v1::DetectTextRequest& request);

  const Options& options() const { return options_; }

 private:
  explicit Recognizer(const Options& options) : options_(options) {}
  // Checks an Image and returns it as bytes (reading an allowed uri).
  absl::StatusOr<stratus::v1::Image> CheckImage(const stratus::v1::Image& image,
                                                const std::string& field) const;
  // The detector's analysis of `image`; `attributes` says which model attributes it computes
  // (age/gender/expressions, eye direction; none by default).
  absl::StatusOr<stratus::v1::AnalyzeFacesResponse> Analyze(const stratus::v1::Image& image,
                                                            int max_faces, bool descriptors,
                                                            const AttributeSet& attributes = {});
  std::string Arn(const std::string& collection_id) const;

  Options options_;
};

// Pagination tokens (opaque to clients): base64url of a kind letter and the last key returned.
std::string EncodePageToken(char kind, const std::string& last_key);
absl::StatusOr<std::string> DecodePageToken(char kind, const std::string& token);

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_REKOGNITION_H_
