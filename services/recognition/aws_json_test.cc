#include "services/recognition/aws_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "stratus/v1/recognition.pb.h"

namespace stratus::recognition {
namespace {

namespace v1 = ::stratus::v1;
using nlohmann::json;
using ::testing::HasSubstr;

TEST(ToAwsJson, WritesResponsesAsAwsDoes) {
  v1::DetectFacesResponse r;
  v1::FaceDetail* face = r.add_face_details();
  face->set_confidence(99.5f);
  face->mutable_bounding_box()->set_left(0.1f);
  face->mutable_smile()->set_value(false);  // false is written, not left out
  face->mutable_smile()->set_confidence(0);
  face->mutable_gender();  // Value GENDER_UNSPECIFIED: left out
  face->add_emotions()->set_type(v1::Emotion::CALM);
  const json j = ToAwsJson(r);
  ASSERT_EQ(j["FaceDetails"].size(), 1u);
  const json& f = j["FaceDetails"][0];
  EXPECT_EQ(f["Confidence"], 99.5);
  EXPECT_EQ(f["BoundingBox"]["Left"].dump(), "0.1");  // the float's shortest decimal
  EXPECT_EQ(f["BoundingBox"]["Top"], 0);              // numbers always written
  EXPECT_EQ(f["Smile"], (json{{"Value", false}, {"Confidence", 0}}));
  EXPECT_EQ(f["Gender"], (json{{"Confidence", 0}}));
  EXPECT_EQ(f["Emotions"], (json::array({{{"Type", "CALM"}, {"Confidence", 0}}})));
  EXPECT_EQ(f["Landmarks"], json::array());  // empty lists kept
  EXPECT_FALSE(f.contains("Pose"));           // unset messages left out
  EXPECT_FALSE(j.contains("OrientationCorrection"));  // *_UNSPECIFIED left out
}

TEST(ToAwsJson, CountsAndTimestampsAreNumbers) {
  v1::DescribeCollectionResponse d;
  d.set_face_count(int64_t{1} << 40);
  d.set_user_count(3);
  d.set_collection_arn("arn:aws:rekognition:us-east-1:0:collection/c");
  d.mutable_creation_timestamp()->set_seconds(1700000000);
  d.mutable_creation_timestamp()->set_nanos(500000000);
  const json j = ToAwsJson(d);
  EXPECT_EQ(j["FaceCount"], int64_t{1} << 40);
  EXPECT_EQ(j["UserCount"], 3);
  EXPECT_DOUBLE_EQ(j["CreationTimestamp"].get<double>(), 1700000000.5);
  EXPECT_EQ(j["CollectionARN"], "arn:aws:rekognition:us-east-1:0:collection/c");
  EXPECT_FALSE(j.contains("FaceModelVersion"));  // empty string left out
}

TEST(FromAwsJson, ParsesOnceWithAwsNamesAndIgnoresUnknownMembers) {
  v1::CompareFacesRequest req;
  ASSERT_TRUE(FromAwsJson(R"({"SourceImage":{"Bytes":"aGVsbG8="},"TargetImage":{"Bytes":"eA=="},
                              "SimilarityThreshold":0,"QualityFilter":"NONE","Newer":1})",
                          &req)
                  .ok());
  EXPECT_EQ(req.source_image().bytes(), "hello");
  EXPECT_EQ(req.target_image().bytes(), "x");
  EXPECT_TRUE(req.has_similarity_threshold());  // an explicit 0 is kept as set
  v1::ListCollectionsRequest empty;
  EXPECT_TRUE(FromAwsJson("", &empty).ok());
}

TEST(FromAwsJson, RefusesUriAndBadShapes) {
  v1::DetectFacesRequest req;
  absl::Status s = FromAwsJson(R"({"Image":{"Uri":"file:///etc/passwd"}})", &req);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("Image.Uri is not part of the AWS API"));
  for (const char* body : {R"({"Image":5})", R"({"Image":{"Bytes":5}})",
                           R"({"Image":{"Bytes":"not base64!"}})", R"({"Image": )"}) {
    s = FromAwsJson(body, &req);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << body;
    EXPECT_THAT(s.message(), HasSubstr("DetectFacesRequest")) << body;
  }
}

}  // namespace
}  // namespace stratus::recognition
