#include "services/recognition/rekognition.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/aws/aws_error.h"
#include "common/image.h"
#include "common/path_root.h"
#include "common/status.h"
#include "services/recognition/face_detail.h"
#include "services/recognition/labels.h"

namespace stratus::recognition {
namespace {

namespace v1 = ::stratus::v1;

constexpr int kMaxFacesPerImage = 100;
constexpr int kMaxPageSize = 4096;
constexpr int kDefaultPageSize = 1000;
constexpr float kDefaultSimilarity = 80.0f;
constexpr int kMaxPersons = 15;
constexpr size_t kMaxUserIdLength = 128;
constexpr int kMaxFacesPerUserCall = 100;
constexpr int kMaxUserResults = 500;
constexpr float kDefaultUserMatchThreshold = 75.0f;  // AssociateFaces

absl::Status Invalid(absl::string_view message) { return absl::InvalidArgumentError(message); }

absl::Status AwsInvalid(absl::string_view type, absl::string_view message) {
  return aws::AwsError(absl::StatusCode::kInvalidArgument, 400, type, message);
}

bool ValidId(const std::string& s, bool allow_colon) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-' || (allow_colon && c == ':');
    if (!ok) return false;
  }
  return true;
}

absl::Status CheckCollectionId(const std::string& id) {
  if (id.empty()) return Invalid("CollectionId is required");
  if (!ValidId(id, false)) {
    return Invalid(absl::StrCat("CollectionId '", id.substr(0, 300),
                                "' is invalid: 1-255 characters of [a-zA-Z0-9_.-]"));
  }
  return absl::OkStatus();
}

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

absl::Status CheckFaceId(const std::string& id, const char* field) {
  if (!IsUuid(id)) {
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

// Errors of the detector or mask service, as this service reports them.
absl::Status BackendError(const absl::Status& s, absl::string_view backend) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      if (aws::IsAwsError(s, "InvalidImageFormatException") ||
          aws::IsAwsError(s, "ImageTooLargeException")) {
        return s;
      }
      return AwsInvalid("InvalidImageFormatException", s.message());
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
      return absl::UnavailableError(absl::StrCat(backend, " is unavailable: ", s.message()));
    case absl::StatusCode::kResourceExhausted:
      return absl::ResourceExhaustedError(absl::StrCat(backend, " is overloaded: ", s.message()));
    case absl::StatusCode::kUnimplemented:
      return s;
    default:
      return absl::InternalError(absl::StrCat(backend, " failed: ", s.message()));
  }
}

v1::ComparedFace ToComparedFace(const v1::FaceAnalysis& f) {
  v1::ComparedFace c;
  *c.mutable_bounding_box() = f.box();
  c.set_confidence(f.confidence() * 100.0f);
  for (auto& l : RekognitionLandmarks(f)) *c.add_landmarks() = std::move(l);
  *c.mutable_pose() = f.pose();
  *c.mutable_quality() = f.quality();
  return c;
}

float Distance(const google::protobuf::RepeatedField<float>& a,
               const google::protobuf::RepeatedField<float>& b) {
  if (a.size() != b.size() || a.empty()) return 1e6f;
  double s = 0;
  for (int i = 0; i < a.size(); ++i) {
    const double d = double(a[i]) - b[i];
    s += d * d;
  }
  return static_cast<float>(std::sqrt(s));
}

std::vector<float> Descriptor(const v1::FaceAnalysis& f) {
  return std::vector<float>(f.face_descriptor().begin(), f.face_descriptor().end());
}

float Area(const v1::BoundingBox& b) { return b.width() * b.height(); }

bool Contains(const v1::BoundingBox& outer, float x, float y) {
  return x >= outer.left() && x <= outer.left() + outer.width() && y >= outer.top() &&
         y <= outer.top() + outer.height();
}

}  // namespace

std::string EncodePageToken(char kind, const std::string& last_key) {
  return absl::WebSafeBase64Escape(absl::StrCat(std::string(1, kind), ":", last_key));
}

absl::StatusOr<std::string> DecodePageToken(char kind, const std::string& token) {
  std::string raw;
  if (token.size() > 1024 || !absl::WebSafeBase64Unescape(token, &raw) || raw.size() < 2 ||
      raw[0] != kind || raw[1] != ':') {
    return aws::AwsError(absl::StatusCode::kInvalidArgument, 400,
                         "InvalidPaginationTokenException",
                         "NextToken is not a token this operation returned");
  }
  return raw.substr(2);
}

absl::StatusOr<std::unique_ptr<Recognizer>> Recognizer::Create(const Options& options) {
  if (options.store == nullptr) return absl::InvalidArgumentError("Recognizer needs a FaceStore");
  if (options.faces == nullptr) return absl::InvalidArgumentError("Recognizer needs a FaceAnalyzer");
  return std::unique_ptr<Recognizer>(new Recognizer(options));
}

std::string Recognizer::Arn(const std::string& collection_id) const {
  return absl::StrCat("arn:aws:rekognition:", options_.region, ":", options_.account,
                      ":collection/", collection_id);
}

absl::StatusOr<v1::Image> Recognizer::CheckImage(const v1::Image& image,
                                                 const std::string& field) const {
  v1::Image out;
  switch (image.source_case()) {
    case v1::Image::SOURCE_NOT_SET:
      return Invalid(absl::StrCat(field, " is required: set ", field, ".Bytes to the image"));
    case v1::Image::kS3Object:
      return Invalid(absl::StrCat(field,
                                  ".S3Object is not supported: this Stratus server has no object "
                                  "store configured; send the image in ",
                                  field, ".Bytes"));
    case v1::Image::kUri: {
      const std::string& uri = image.uri();
      std::string path = absl::StartsWith(uri, "file://") ? uri.substr(7) : uri;
      // Component-wise under the root after resolving links and "..": a sibling folder whose
      // name starts with the root's name is outside.
      absl::StatusOr<std::filesystem::path> resolved =
          absl::PermissionDeniedError("no --file-uri-root");
      if (!options_.file_uri_root.empty()) {
        resolved = ResolveUnderRoot(path, options_.file_uri_root);
      }
      if (!resolved.ok()) {
        return AwsInvalid("InvalidS3ObjectException",
                          absl::StrCat(field, ".Uri is not allowed on this server"));
      }
      auto bytes = ReadImageFile(resolved->string(), 15 << 20);
      if (!bytes.ok()) {
        return AwsInvalid("InvalidS3ObjectException",
                          absl::StrCat(field, ".Uri cannot be read: ", bytes.status().message()));
      }
      out.set_bytes(std::move(*bytes));
      break;
    }
    case v1::Image::kBytes:
      if (image.bytes().empty()) return Invalid(absl::StrCat(field, ".Bytes is empty"));
      if (image.bytes().size() > options_.max_image_bytes) {
        return aws::AwsError(absl::StatusCode::kInvalidArgument, 400, "ImageTooLargeException",
                             absl::StrCat(field, " is ", image.bytes().size(),
                                          " bytes; the limit is ", options_.max_image_bytes,
                                          " bytes"));
      }
      out.set_bytes(image.bytes());
      break;
  }
  auto info = ProbeImage(out.bytes());
  if (!info.ok()) {
    return AwsInvalid("InvalidImageFormatException",
                      absl::StrCat(field, " is not a valid JPEG or PNG image: ",
                                   info.status().message()));
  }
  const ImageLimits limits;
  if (info->width > limits.max_dimension || info->height > limits.max_dimension ||
      int64_t{info->width} * info->height > limits.max_pixels) {
    return AwsInvalid("InvalidImageFormatException",
                      absl::StrCat(field, " is ", info->width, "x", info->height,
                                   " pixels, over the limits (16384 pixels a side, 40 megapixels)"));
  }
  if (info->width < options_.min_image_side || info->height < options_.min_image_side) {
    return Invalid(absl::StrCat(field, " is ", info->width, "x", info->height,
                                " pixels; images must be at least ", options_.min_image_side,
                                " pixels on each side"));
  }
  return out;
}

absl::StatusOr<v1::AnalyzeFacesResponse> Recognizer::Analyze(const v1::Image& image, int max_faces,
                                                             bool descriptors, bool attributes) {
  v1::AnalyzeFacesRequest request;
  *request.mutable_image() = image;
  request.set_max_faces(max_faces);
  request.set_descriptors(descriptors);
  request.set_attributes(attributes);
  auto response = options_.faces->AnalyzeFaces(request);
  if (!response.ok()) return BackendError(response.status(), "the face detector");
  return response;
}

absl::StatusOr<v1::DetectFacesResponse> Recognizer::DetectFaces(const v1::DetectFacesRequest& request) {
  STRATUS_ASSIGN_OR_RETURN(v1::Image image, CheckImage(request.image(), "Image"));
  const AttributeSet attributes = ParseAttributes(request.attributes());
  STRATUS_ASSIGN_OR_RETURN(auto analysis, Analyze(image, kMaxFacesPerImage, false,
                                                  attributes.NeedsModelAttributes()));
  v1::DetectFacesResponse response;
  for (const auto& f : analysis.faces()) {
    *response.add_face_details() = ToFaceDetail(f, attributes, analysis.image_size());
  }
  return response;
}

absl::StatusOr<v1::CompareFacesResponse> Recognizer::CompareFaces(
    const v1::CompareFacesRequest& request) {
  STRATUS_ASSIGN_OR_RETURN(float threshold, Threshold(request.has_similarity_threshold(),
                                                      request.similarity_threshold(),
                                                      "SimilarityThreshold"));
  STRATUS_ASSIGN_OR_RETURN(v1::Image source, CheckImage(request.source_image(), "SourceImage"));
  STRATUS_ASSIGN_OR_RETURN(v1::Image target, CheckImage(request.target_image(), "TargetImage"));
  const auto filter = request.quality_filter();
  STRATUS_ASSIGN_OR_RETURN(auto src, Analyze(source, 1, true, false));
  if (src.faces().empty() || !QualityReasons(src.faces(0), filter, src.image_size()).empty()) {
    return Invalid("There are no faces in the source image that pass the quality filter");
  }
  const v1::FaceAnalysis& s = src.faces(0);
  STRATUS_ASSIGN_OR_RETURN(auto tgt, Analyze(target, kMaxFacesPerImage, true, false));
  v1::CompareFacesResponse response;
  *response.mutable_source_image_face()->mutable_bounding_box() = s.box();
  response.mutable_source_image_face()->set_confidence(s.confidence() * 100.0f);
  std::vector<std::pair<float, v1::ComparedFace>> matches;
  for (const auto& t : tgt.faces()) {
    if (!QualityReasons(t, filter, tgt.image_size()).empty()) continue;
    const float similarity = SimilarityFromDistance(Distance(s.face_descriptor(), t.face_descriptor()));
    if (similarity >= threshold) {
      matches.emplace_back(similarity, ToComparedFace(t));
    } else {
      *response.add_unmatched_faces() = ToComparedFace(t);
    }
  }
  std::stable_sort(matches.begin(), matches.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (auto& [similarity, face] : matches) {
    v1::CompareFacesMatch* m = response.add_face_matches();
    m->set_similarity(similarity);
    *m->mutable_face() = std::move(face);
  }
  return response;
}

absl::StatusOr<v1::CreateCollectionResponse> Recognizer::CreateCollection(
    const v1::CreateCollectionRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  if (request.tags_size() > 200) return Invalid("at most 200 Tags");
  std::map<std::string, std::string> tags;
  for (const auto& [k, v] : request.tags()) {
    if (k.empty() || k.size() > 128 || v.size() > 256) {
      return Invalid("tag keys are 1-128 characters and values at most 256");
    }
    tags[k] = v;
  }
  STRATUS_ASSIGN_OR_RETURN(auto info, options_.store->CreateCollection(
                                          request.collection_id(), options_.face_model_version, tags));
  v1::CreateCollectionResponse response;
  response.set_status_code(200);
  response.set_collection_arn(Arn(info.collection_id));
  response.set_face_model_version(info.face_model_version);
  return response;
}

absl::StatusOr<v1::DeleteCollectionResponse> Recognizer::DeleteCollection(
    const v1::DeleteCollectionRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  STRATUS_RETURN_IF_ERROR(options_.store->DeleteCollection(request.collection_id()));
  v1::DeleteCollectionResponse response;
  response.set_status_code(200);
  return response;
}

absl::StatusOr<v1::ListCollectionsResponse> Recognizer::ListCollections(
    const v1::ListCollectionsRequest& request) {
  STRATUS_ASSIGN_OR_RETURN(int max, PageSize(request.has_max_results(), request.max_results()));
  std::string after;
  if (!request.next_token().empty()) {
    STRATUS_ASSIGN_OR_RETURN(after, DecodePageToken('C', request.next_token()));
  }
  bool more = false;
  STRATUS_ASSIGN_OR_RETURN(auto page, options_.store->ListCollections(after, max, &more));
  v1::ListCollectionsResponse response;
  for (const auto& c : page) {
    response.add_collection_ids(c.collection_id);
    response.add_face_model_versions(c.face_model_version);
  }
  if (more) response.set_next_token(EncodePageToken('C', page.empty() ? after : page.back().collection_id));
  return response;
}

absl::StatusOr<v1::DescribeCollectionResponse> Recognizer::DescribeCollection(
    const v1::DescribeCollectionRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  STRATUS_ASSIGN_OR_RETURN(auto info, options_.store->DescribeCollection(request.collection_id()));
  v1::DescribeCollectionResponse response;
  response.set_face_count(info.face_count);
  response.set_face_model_version(info.face_model_version);
  response.set_collection_arn(Arn(info.collection_id));
  const int64_t micros = absl::ToUnixMicros(info.created);
  response.mutable_creation_timestamp()->set_seconds(micros / 1000000);
  response.mutable_creation_timestamp()->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  response.set_user_count(info.user_count);
  return response;
}

absl::StatusOr<v1::IndexFacesResponse> Recognizer::IndexFaces(const v1::IndexFacesRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  if (!request.external_image_id().empty() && !ValidId(request.external_image_id(), true)) {
    return Invalid("ExternalImageId must be 1-255 characters of [a-zA-Z0-9_.-:]");
  }
  int max_faces = kMaxFacesPerImage;
  if (request.has_max_faces()) {
    if (request.max_faces() < 1) {
      return Invalid(absl::StrCat("MaxFaces must be at least 1, got ", request.max_faces()));
    }
    max_faces = std::min(request.max_faces(), kMaxFacesPerImage);
  }
  const auto filter = request.quality_filter() == v1::QualityFilter::QUALITY_FILTER_UNSPECIFIED
                          ? v1::QualityFilter::AUTO
                          : request.quality_filter();
  STRATUS_ASSIGN_OR_RETURN(v1::Image image, CheckImage(request.image(), "Image"));
  const AttributeSet attributes = ParseAttributes(request.detection_attributes());
  STRATUS_ASSIGN_OR_RETURN(auto analysis, Analyze(image, kMaxFacesPerImage, true,
                                                  attributes.NeedsModelAttributes()));
  v1::IndexFacesResponse response;
  response.set_face_model_version(options_.face_model_version);
  std::vector<NewFace> to_add;
  std::vector<v1::FaceDetail> details;
  for (const auto& f : analysis.faces()) {  // largest first
    v1::FaceDetail detail = ToFaceDetail(f, attributes, analysis.image_size());
    auto reasons = QualityReasons(f, filter, analysis.image_size());
    if (reasons.empty() && static_cast<int>(to_add.size()) >= max_faces) {
      reasons.push_back(v1::UnindexedFace::EXCEEDS_MAX_FACES);
    }
    if (reasons.empty() && f.face_descriptor_size() != kDescriptorDim) {
      reasons.push_back(v1::UnindexedFace::LOW_FACE_QUALITY);
    }
    if (!reasons.empty()) {
      v1::UnindexedFace* u = response.add_unindexed_faces();
      for (auto r : reasons) u->add_reasons(r);
      *u->mutable_face_detail() = std::move(detail);
      continue;
    }
    NewFace n;
    n.box = f.box();
    n.confidence = f.confidence() * 100.0f;
    n.descriptor = Descriptor(f);
    to_add.push_back(std::move(n));
    details.push_back(std::move(detail));
  }
  STRATUS_ASSIGN_OR_RETURN(auto stored,
                           options_.store->AddFaces(request.collection_id(), to_add,
                                                    request.external_image_id(),
                                                    options_.face_model_version));
  for (size_t i = 0; i < stored.size(); ++i) {
    v1::FaceRecord* r = response.add_face_records();
    *r->mutable_face() = std::move(stored[i]);
    *r->mutable_face_detail() = std::move(details[i]);
  }
  return response;
}

absl::StatusOr<v1::ListFacesResponse> Recognizer::ListFaces(const v1::ListFacesRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  STRATUS_ASSIGN_OR_RETURN(int max, PageSize(request.has_max_results(), request.max_results()));
  if (request.face_ids_size() > kMaxPageSize) return Invalid("at most 4096 FaceIds");
  for (const auto& id : request.face_ids()) STRATUS_RETURN_IF_ERROR(CheckFaceId(id, "FaceIds"));
  if (!request.user_id().empty()) STRATUS_RETURN_IF_ERROR(CheckUserId(request.user_id()));
  std::string after;
  if (!request.next_token().empty()) {
    STRATUS_ASSIGN_OR_RETURN(after, DecodePageToken('F', request.next_token()));
    if (!IsUuid(after)) return DecodePageToken('?', "").status();
  }
  v1::ListFacesResponse response;
  response.set_face_model_version(options_.face_model_version);
  bool more = false;
  std::vector<std::string> only(request.face_ids().begin(), request.face_ids().end());
  STRATUS_ASSIGN_OR_RETURN(
      auto faces, options_.store->ListFaces(request.collection_id(), after, max, only, &more,
                                            request.user_id()));
  for (auto& f : faces) *response.add_faces() = std::move(f);
  if (more) {
    response.set_next_token(EncodePageToken(
        'F', response.faces().empty() ? after : response.faces().rbegin()->face_id()));
  }
  return response;
}

absl::StatusOr<v1::DeleteFacesResponse> Recognizer::DeleteFaces(const v1::DeleteFacesRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  if (request.face_ids().empty() || request.face_ids_size() > kMaxPageSize) {
    return Invalid("FaceIds must hold 1 to 4096 face ids");
  }
  for (const auto& id : request.face_ids()) STRATUS_RETURN_IF_ERROR(CheckFaceId(id, "FaceIds"));
  std::vector<std::string> ids(request.face_ids().begin(), request.face_ids().end());
  std::vector<std::pair<std::string, std::string>> associated;
  STRATUS_ASSIGN_OR_RETURN(auto deleted,
                           options_.store->DeleteFaces(request.collection_id(), ids, &associated));
  v1::DeleteFacesResponse response;
  std::set<std::string> gone;
  for (auto& id : deleted) {
    gone.insert(absl::AsciiStrToLower(id));
    response.add_deleted_faces(id);
  }
  std::map<std::string, std::string> owner(associated.begin(), associated.end());
  std::set<std::string> reported;
  for (const auto& id : ids) {
    const std::string lower = absl::AsciiStrToLower(id);
    if (gone.contains(lower) || !reported.insert(lower).second) continue;
    auto* u = response.add_unsuccessful_face_deletions();
    u->set_face_id(id);
    if (auto it = owner.find(lower); it != owner.end()) {
      u->set_user_id(it->second);
      u->add_reasons(v1::UnsuccessfulFaceDeletion::ASSOCIATED_TO_AN_EXISTING_USER);
    } else {
      u->add_reasons(v1::UnsuccessfulFaceDeletion::FACE_NOT_FOUND);
    }
  }
  return response;
}

absl::StatusOr<v1::SearchFacesResponse> Recognizer::SearchFaces(const v1::SearchFacesRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  STRATUS_RETURN_IF_ERROR(CheckFaceId(request.face_id(), "FaceId"));
  STRATUS_ASSIGN_OR_RETURN(int max, MaxMatches(request.has_max_faces(), request.max_faces()));
  STRATUS_ASSIGN_OR_RETURN(float threshold, Threshold(request.has_face_match_threshold(),
                                                      request.face_match_threshold(),
                                                      "FaceMatchThreshold"));
  STRATUS_ASSIGN_OR_RETURN(auto descriptor,
                           options_.store->GetDescriptor(request.collection_id(), request.face_id()));
  STRATUS_ASSIGN_OR_RETURN(auto matches,
                           options_.store->Search(request.collection_id(), descriptor, max,
                                                  MaxDistanceForSimilarity(threshold),
                                                  absl::AsciiStrToLower(request.face_id())));
  v1::SearchFacesResponse response;
  response.set_searched_face_id(request.face_id());
  response.set_face_model_version(options_.face_model_version);
  for (auto& m : matches) {
    v1::FaceMatch* fm = response.add_face_matches();
    fm->set_similarity(SimilarityFromDistance(m.distance));
    *fm->mutable_face() = std::move(m.face);
  }
  return response;
}

absl::StatusOr<v1::SearchFacesByImageResponse> Recognizer::SearchFacesByImage(
    const v1::SearchFacesByImageRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  STRATUS_ASSIGN_OR_RETURN(int max, MaxMatches(request.has_max_faces(), request.max_faces()));
  STRATUS_ASSIGN_OR_RETURN(float threshold, Threshold(request.has_face_match_threshold(),
                                                      request.face_match_threshold(),
                                                      "FaceMatchThreshold"));
  STRATUS_ASSIGN_OR_RETURN(v1::Image image, CheckImage(request.image(), "Image"));
  STRATUS_ASSIGN_OR_RETURN(auto analysis, Analyze(image, 1, true, false));
  if (analysis.faces().empty() ||
      !QualityReasons(analysis.faces(0), request.quality_filter(), analysis.image_size()).empty()) {
    return Invalid("There are no faces in the image that pass the quality filter");
  }
  const v1::FaceAnalysis& face = analysis.faces(0);
  STRATUS_ASSIGN_OR_RETURN(auto matches,
                           options_.store->Search(request.collection_id(), Descriptor(face), max,
                                                  MaxDistanceForSimilarity(threshold)));
  v1::SearchFacesByImageResponse response;
  *response.mutable_searched_face_bounding_box() = face.box();
  response.set_searched_face_confidence(face.confidence() * 100.0f);
  response.set_face_model_version(options_.face_model_version);
  for (auto& m : matches) {
    v1::FaceMatch* fm = response.add_face_matches();
    fm->set_similarity(SimilarityFromDistance(m.distance));
    *fm->mutable_face() = std::move(m.face);
  }
  return response;
}

absl::StatusOr<v1::CreateUserResponse> Recognizer::CreateUser(
    const v1::CreateUserRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  STRATUS_RETURN_IF_ERROR(CheckUserId(request.user_id()));
  STRATUS_ASSIGN_OR_RETURN(RequestToken token, TokenOf("CreateUser", request));
  STRATUS_RETURN_IF_ERROR(
      options_.store->CreateUser(request.collection_id(), request.user_id(), token));
  return v1::CreateUserResponse();
}

absl::StatusOr<v1::DeleteUserResponse> Recognizer::DeleteUser(
    const v1::DeleteUserRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  STRATUS_RETURN_IF_ERROR(CheckUserId(request.user_id()));
  STRATUS_ASSIGN_OR_RETURN(RequestToken token, TokenOf("DeleteUser", request));
  STRATUS_RETURN_IF_ERROR(
      options_.store->DeleteUser(request.collection_id(), request.user_id(), token));
  return v1::DeleteUserResponse();
}

absl::StatusOr<v1::ListUsersResponse> Recognizer::ListUsers(const v1::ListUsersRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  STRATUS_ASSIGN_OR_RETURN(
      int max, MaxUsers(request.has_max_results(), request.max_results(), "MaxResults"));
  std::string after;
  if (!request.next_token().empty()) {
    STRATUS_ASSIGN_OR_RETURN(after, DecodePageToken('U', request.next_token()));
  }
  bool more = false;
  STRATUS_ASSIGN_OR_RETURN(auto users,
                           options_.store->ListUsers(request.collection_id(), after, max, &more));
  v1::ListUsersResponse response;
  for (const UserInfo& u : users) {
    v1::User* out = response.add_users();
    out->set_user_id(u.user_id);
    out->set_user_status(u.face_count > 0 ? v1::UserStatus::ACTIVE : v1::UserStatus::CREATED);
  }
  if (more)
    response.set_next_token(EncodePageToken('U', users.empty() ? after : users.back().user_id));
  return response;
}

absl::StatusOr<v1::AssociateFacesResponse> Recognizer::AssociateFaces(
    const v1::AssociateFacesRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  STRATUS_RETURN_IF_ERROR(CheckUserId(request.user_id()));
  STRATUS_ASSIGN_OR_RETURN(auto ids, FaceIdList(request.face_ids()));
  float threshold = kDefaultUserMatchThreshold;
  if (request.has_user_match_threshold()) {
    STRATUS_ASSIGN_OR_RETURN(threshold,
                             Threshold(true, request.user_match_threshold(), "UserMatchThreshold"));
  }
  STRATUS_ASSIGN_OR_RETURN(RequestToken token, TokenOf("AssociateFaces", request));
  return options_.store->AssociateFaces(request.collection_id(), request.user_id(), ids, threshold,
                                        SimilarityFromDistance, token);
}

absl::StatusOr<v1::DisassociateFacesResponse> Recognizer::DisassociateFaces(
    const v1::DisassociateFacesRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  STRATUS_RETURN_IF_ERROR(CheckUserId(request.user_id()));
  STRATUS_ASSIGN_OR_RETURN(auto ids, FaceIdList(request.face_ids()));
  STRATUS_ASSIGN_OR_RETURN(RequestToken token, TokenOf("DisassociateFaces", request));
  return options_.store->DisassociateFaces(request.collection_id(), request.user_id(), ids, token);
}

namespace {

void AddUserMatches(const std::vector<UserMatchResult>& matches,
                    google::protobuf::RepeatedPtrField<v1::UserMatch>* out) {
  for (const UserMatchResult& m : matches) {
    v1::UserMatch* um = out->Add();
    um->set_similarity(SimilarityFromDistance(m.distance));
    um->mutable_user()->set_user_id(m.user_id);
    um->mutable_user()->set_user_status(v1::UserStatus::ACTIVE);  // it has a matching face
  }
}

}  // namespace

absl::StatusOr<v1::SearchUsersResponse> Recognizer::SearchUsers(
    const v1::SearchUsersRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  const bool by_user = !request.user_id().empty(), by_face = !request.face_id().empty();
  if (by_user == by_face) return Invalid("SearchUsers needs exactly one of UserId and FaceId");
  if (by_user) STRATUS_RETURN_IF_ERROR(CheckUserId(request.user_id()));
  if (by_face) STRATUS_RETURN_IF_ERROR(CheckFaceId(request.face_id(), "FaceId"));
  STRATUS_ASSIGN_OR_RETURN(
      float threshold, Threshold(request.has_user_match_threshold(), request.user_match_threshold(),
                                 "UserMatchThreshold"));
  STRATUS_ASSIGN_OR_RETURN(int max,
                           MaxUsers(request.has_max_users(), request.max_users(), "MaxUsers"));
  std::vector<std::vector<float>> queries;
  v1::SearchUsersResponse response;
  response.set_face_model_version(options_.face_model_version);
  if (by_user) {
    STRATUS_ASSIGN_OR_RETURN(
        queries, options_.store->UserDescriptors(request.collection_id(), request.user_id()));
    response.mutable_searched_user()->set_user_id(request.user_id());
  } else {
    STRATUS_ASSIGN_OR_RETURN(
        auto d, options_.store->GetDescriptor(request.collection_id(), request.face_id()));
    queries.push_back(std::move(d));
    response.mutable_searched_face()->set_face_id(request.face_id());
  }
  if (queries.empty()) return response;  // a user without faces matches nobody
  STRATUS_ASSIGN_OR_RETURN(
      auto matches, options_.store->SearchUsers(
                        request.collection_id(), queries, max, MaxDistanceForSimilarity(threshold),
                        request.user_id(), absl::AsciiStrToLower(request.face_id())));
  AddUserMatches(matches, response.mutable_user_matches());
  return response;
}

absl::StatusOr<v1::SearchUsersByImageResponse> Recognizer::SearchUsersByImage(
    const v1::SearchUsersByImageRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  STRATUS_ASSIGN_OR_RETURN(
      float threshold, Threshold(request.has_user_match_threshold(), request.user_match_threshold(),
                                 "UserMatchThreshold"));
  STRATUS_ASSIGN_OR_RETURN(int max,
                           MaxUsers(request.has_max_users(), request.max_users(), "MaxUsers"));
  STRATUS_ASSIGN_OR_RETURN(v1::Image image, CheckImage(request.image(), "Image"));
  STRATUS_ASSIGN_OR_RETURN(auto analysis, Analyze(image, kMaxFacesPerImage, true, false));
  v1::SearchUsersByImageResponse response;
  response.set_face_model_version(options_.face_model_version);
  const AttributeSet defaults = ParseAttributes(google::protobuf::RepeatedField<int>());
  const v1::FaceAnalysis* searched = nullptr;
  for (const auto& f : analysis.faces()) {  // largest first
    auto quality = QualityReasons(f, request.quality_filter(), analysis.image_size());
    if (searched == nullptr && quality.empty() && f.face_descriptor_size() == kDescriptorDim) {
      searched = &f;
      *response.mutable_searched_face()->mutable_face_detail() =
          ToFaceDetail(f, defaults, analysis.image_size());
      continue;
    }
    v1::UnsearchedFace* u = response.add_unsearched_faces();
    *u->mutable_face_details() = ToFaceDetail(f, defaults, analysis.image_size());
    if (searched != nullptr) u->add_reasons(v1::UnsearchedFace::FACE_NOT_LARGEST);
    for (auto r : quality) {
      // UnindexedFace and UnsearchedFace name the same quality reasons.
      v1::UnsearchedFace::Reason reason;
      if (v1::UnsearchedFace::Reason_Parse(v1::UnindexedFace::Reason_Name(r), &reason)) {
        u->add_reasons(reason);
      }
    }
  }
  std::vector<std::vector<float>> queries;
  if (searched != nullptr) queries.push_back(Descriptor(*searched));
  // Without a face, the search still checks that the collection exists.
  STRATUS_ASSIGN_OR_RETURN(auto matches,
                           options_.store->SearchUsers(request.collection_id(), queries, max,
                                                       MaxDistanceForSimilarity(threshold)));
  AddUserMatches(matches, response.mutable_user_matches());
  return response;
}

absl::StatusOr<v1::DetectLabelsResponse> Recognizer::DetectLabels(
    const v1::DetectLabelsRequest& request) {
  if (request.has_max_labels() && request.max_labels() < 0) {
    return Invalid(absl::StrCat("MaxLabels must be >= 0, got ", request.max_labels()));
  }
  float min_confidence = 55.0f;
  if (request.has_min_confidence()) {
    if (!(request.min_confidence() >= 0 && request.min_confidence() <= 100)) {
      return Invalid(absl::StrCat("MinConfidence must be between 0 and 100, got ",
                                  request.min_confidence()));
    }
    min_confidence = request.min_confidence();
  }
  STRATUS_ASSIGN_OR_RETURN(v1::Image image, CheckImage(request.image(), "Image"));
  if (options_.objects == nullptr) return absl::UnimplementedError("DetectLabels has no object detector configured");
  v1::DetectRequest detect;
  detect.set_model("objects");
  *detect.mutable_image() = image;
  detect.set_min_confidence(std::max(0.01f, min_confidence / 100.0f));
  detect.set_max_results(1000);
  auto detected = options_.objects->Detect(detect);
  if (!detected.ok()) return BackendError(detected.status(), "the object detector");
  v1::DetectLabelsResponse response;
  for (auto& l : LabelsFromDetections(detected->detections(), min_confidence,
                                      request.has_max_labels() ? request.max_labels() : -1)) {
    *response.add_labels() = std::move(l);
  }
  response.set_label_model_version(detected->model_version());
  return response;
}

absl::StatusOr<v1::DetectProtectiveEquipmentResponse> Recognizer::DetectProtectiveEquipment(
    const v1::DetectProtectiveEquipmentRequest& request) {
  float min_confidence = 50.0f;
  const bool summarize = request.has_summarization_attributes();
  if (summarize) {
    const auto& s = request.summarization_attributes();
    if (!(s.min_confidence() >= 0 && s.min_confidence() <= 100)) {
      return Invalid(absl::StrCat("SummarizationAttributes.MinConfidence must be between 0 and "
                                  "100, got ",
                                  s.min_confidence()));
    }
    if (s.required_equipment_types().empty()) {
      return Invalid("SummarizationAttributes.RequiredEquipmentTypes needs at least one type");
    }
    min_confidence = std::max(50.0f, s.min_confidence());
  }
  STRATUS_ASSIGN_OR_RETURN(v1::Image image, CheckImage(request.image(), "Image"));
  if (options_.objects == nullptr) {
    return absl::UnimplementedError("DetectProtectiveEquipment has no object detector configured");
  }
  v1::DetectRequest detect;
  detect.set_model("objects");
  *detect.mutable_image() = image;
  detect.add_classes("person");
  detect.set_min_confidence(0.5f);
  detect.set_max_results(100);
  auto persons = options_.objects->Detect(detect);
  if (!persons.ok()) return BackendError(persons.status(), "the object detector");
  STRATUS_ASSIGN_OR_RETURN(auto faces, Analyze(image, kMaxFacesPerImage, false, false));

  struct Person {
    v1::BoundingBox box;
    float confidence;
    int face = -1;  // index into faces
  };
  std::vector<Person> people;
  for (const auto& d : persons->detections()) people.push_back({d.box(), d.confidence() * 100.0f});
  std::stable_sort(people.begin(), people.end(),
                   [](const Person& a, const Person& b) { return Area(a.box) > Area(b.box); });
  if (static_cast<int>(people.size()) > kMaxPersons) people.resize(kMaxPersons);
  // Each face goes to the smallest person box around its centre that has no face yet; a face
  // outside every person box (a close-up) is a person of its own.
  for (int i = 0; i < faces.faces_size(); ++i) {
    const auto& b = faces.faces(i).box();
    const float cx = b.left() + b.width() / 2, cy = b.top() + b.height() / 2;
    int best = -1;
    for (int p = 0; p < static_cast<int>(people.size()); ++p) {
      if (people[p].face >= 0 || !Contains(people[p].box, cx, cy)) continue;
      if (best < 0 || Area(people[p].box) < Area(people[best].box)) best = p;
    }
    if (best >= 0) {
      people[best].face = i;
    } else if (static_cast<int>(people.size()) < kMaxPersons) {
      people.push_back({b, faces.faces(i).confidence() * 100.0f, i});
    }
  }
  std::vector<int> face_of_result;  // mask results, one per face that belongs to a person
  v1::ClassifyResponse masks;
  v1::ClassifyRequest classify;
  for (const Person& p : people) {
    if (p.face < 0) continue;
    *classify.add_boxes() = faces.faces(p.face).box();
    face_of_result.push_back(p.face);
  }
  std::map<int, v1::FaceMask> mask_by_face;
  if (!face_of_result.empty()) {
    *classify.mutable_image() = image;
    absl::StatusOr<v1::ClassifyResponse> classified =
        options_.masks == nullptr ? absl::UnimplementedError("no mask service configured")
                                  : options_.masks->Classify(classify);
    if (!classified.ok()) {
      // Not configured or not offering it: a request this deployment cannot serve. Down, slow
      // or overloaded: BackendError's retryable codes.
      if (absl::IsUnimplemented(classified.status())) {
        return absl::UnimplementedError(absl::StrCat(
            "DetectProtectiveEquipment: FACE_COVER detection needs the mask service (",
            classified.status().message(), ")"));
      }
      return BackendError(classified.status(), "the mask service");
    }
    masks = std::move(*classified);
    for (int i = 0; i < masks.results_size() && i < static_cast<int>(face_of_result.size()); ++i) {
      mask_by_face[face_of_result[i]] = masks.results(i);
    }
  }

  v1::DetectProtectiveEquipmentResponse response;
  response.set_protective_equipment_model_version(masks.model_version());
  v1::ProtectiveEquipmentSummary summary;
  bool needs_undetectable = false;
  if (summarize) {
    for (int t : request.summarization_attributes().required_equipment_types()) {
      if (t != v1::ProtectiveEquipmentType::FACE_COVER) needs_undetectable = true;
    }
  }
  for (int id = 0; id < static_cast<int>(people.size()); ++id) {
    const Person& p = people[id];
    v1::ProtectiveEquipmentPerson* out = response.add_persons();
    out->set_id(id);
    *out->mutable_bounding_box() = p.box;
    out->set_confidence(p.confidence);
    float with = 0, without = 0, face_confidence = 0;
    if (p.face >= 0) {
      const auto& f = faces.faces(p.face);
      face_confidence = f.confidence() * 100.0f;
      auto* part = out->add_body_parts();
      part->set_name(v1::ProtectiveEquipmentBodyPart::FACE);
      part->set_confidence(face_confidence);
      auto m = mask_by_face.find(p.face);
      if (m != mask_by_face.end()) {
        auto prob = [&](const char* label) {
          auto it = m->second.probabilities().find(label);
          return it == m->second.probabilities().end() ? 0.0f : it->second * 100.0f;
        };
        with = prob("with_mask");
        without = prob("without_mask") + prob("mask_worn_incorrectly");
        if (m->second.label() == "with_mask" || m->second.label() == "mask_worn_incorrectly") {
          auto* e = part->add_equipment_detections();
          *e->mutable_bounding_box() = f.box();
          e->set_confidence((with + prob("mask_worn_incorrectly")));
          e->set_type(v1::ProtectiveEquipmentType::FACE_COVER);
          e->mutable_covers_body_part()->set_value(m->second.label() == "with_mask");
          e->mutable_covers_body_part()->set_confidence(m->second.confidence() * 100.0f);
        }
      }
    }
    if (!summarize) continue;
    if (needs_undetectable || p.face < 0 || face_confidence < min_confidence ||
        p.confidence < min_confidence) {
      summary.add_persons_indeterminate(id);
    } else if (with >= min_confidence) {
      summary.add_persons_with_required_equipment(id);
    } else if (without >= min_confidence) {
      summary.add_persons_without_required_equipment(id);
    } else {
      summary.add_persons_indeterminate(id);
    }
  }
  if (summarize) *response.mutable_summary() = std::move(summary);
  return response;
}

}  // namespace stratus::recognition
