// The collection and face operations of the Recognizer (rekognition.h): CreateCollection,
// DeleteCollection, ListCollections, DescribeCollection, IndexFaces, ListFaces, DeleteFaces,
// SearchFaces, SearchFacesByImage.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/aws/aws_error.h"
#include "common/status_macros.h"
#include "services/recognition/face_detail.h"
#include "services/recognition/rekognition.h"
#include "services/recognition/rekognition_params.h"

namespace stratus::recognition {
namespace {

namespace v1 = ::stratus::v1;
using params::CheckCollectionId;
using params::CheckFaceId;
using params::CheckUserId;
using params::Descriptor;
using params::Invalid;
using params::kMaxFacesPerImage;
using params::kMaxPageSize;
using params::MaxMatches;
using params::PageSize;
using params::Threshold;
using params::ValidId;

}  // namespace

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
  STRATUS_ASSIGN_OR_RETURN(
      auto info,
      options_.store->CreateCollection(request.collection_id(), options_.face_model_version, tags));
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
  if (more)
    response.set_next_token(EncodePageToken('C', page.empty() ? after : page.back().collection_id));
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

absl::StatusOr<v1::IndexFacesResponse> Recognizer::IndexFaces(
    const v1::IndexFacesRequest& request) {
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
  STRATUS_ASSIGN_OR_RETURN(
      auto analysis, Analyze(image, kMaxFacesPerImage, true, attributes));
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
  STRATUS_ASSIGN_OR_RETURN(auto stored, options_.store->AddFaces(request.collection_id(), to_add,
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
    if (!IsStoreId(after)) return DecodePageToken('?', "").status();
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

absl::StatusOr<v1::DeleteFacesResponse> Recognizer::DeleteFaces(
    const v1::DeleteFacesRequest& request) {
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

absl::StatusOr<v1::SearchFacesResponse> Recognizer::SearchFaces(
    const v1::SearchFacesRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckCollectionId(request.collection_id()));
  STRATUS_RETURN_IF_ERROR(CheckFaceId(request.face_id(), "FaceId"));
  STRATUS_ASSIGN_OR_RETURN(int max, MaxMatches(request.has_max_faces(), request.max_faces()));
  STRATUS_ASSIGN_OR_RETURN(
      float threshold, Threshold(request.has_face_match_threshold(), request.face_match_threshold(),
                                 "FaceMatchThreshold"));
  STRATUS_ASSIGN_OR_RETURN(
      auto descriptor, options_.store->GetDescriptor(request.collection_id(), request.face_id()));
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
  STRATUS_ASSIGN_OR_RETURN(
      float threshold, Threshold(request.has_face_match_threshold(), request.face_match_threshold(),
                                 "FaceMatchThreshold"));
  STRATUS_ASSIGN_OR_RETURN(v1::Image image, CheckImage(request.image(), "Image"));
  STRATUS_ASSIGN_OR_RETURN(auto analysis, Analyze(image, 1, true));
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

}  // namespace stratus::recognition
