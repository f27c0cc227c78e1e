// The user operations of the Recognizer (rekognition.h): CreateUser, DeleteUser, ListUsers,
// AssociateFaces, DisassociateFaces, SearchUsers, SearchUsersByImage.
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
using params::FaceIdList;
using params::Invalid;
using params::kMaxFacesPerImage;
using params::MaxUsers;
using params::Threshold;
using params::TokenOf;

constexpr float kDefaultUserMatchThreshold = 75.0f;  // AssociateFaces

}  // namespace

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
  STRATUS_ASSIGN_OR_RETURN(auto analysis, Analyze(image, kMaxFacesPerImage, true));
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

}  // namespace stratus::recognition
