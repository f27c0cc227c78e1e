// Round-trips messages of every stratus.v1 file through the binary and JSON
// encodings, and checks the defaults and JSON names other code relies on.

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <string>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "stratus/v1/common.pb.h"
#include "stratus/v1/detector.grpc.pb.h"
#include "stratus/v1/ingest.grpc.pb.h"
#include "stratus/v1/mask.grpc.pb.h"
#include "stratus/v1/recognition.grpc.pb.h"
#include "stratus/v1/sentiment.grpc.pb.h"

namespace stratus::v1 {
namespace {

using ::google::protobuf::util::JsonParseOptions;
using ::google::protobuf::util::JsonStringToMessage;
using ::google::protobuf::util::MessageToJsonString;

template <typename T>
T RoundTrip(const T& in) {
  std::string wire;
  EXPECT_TRUE(in.SerializeToString(&wire));
  T out;
  EXPECT_TRUE(out.ParseFromString(wire));
  return out;
}

TEST(ProtoTest, DetectRequestDefaultsAreZero) {
  DetectRequest req;
  EXPECT_EQ(req.model(), "");
  EXPECT_EQ(req.min_confidence(), 0.0f);
  EXPECT_EQ(req.max_results(), 0);
  EXPECT_EQ(req.image().source_case(), Image::SOURCE_NOT_SET);
  EXPECT_FALSE(req.has_image());
}

TEST(ProtoTest, DetectRoundTrip) {
  DetectRequest req;
  req.set_model("objects");
  req.mutable_image()->set_bytes(std::string("\xff\xd8\x00\x01", 4));
  req.set_min_confidence(0.25f);
  req.add_classes("person");
  req.set_max_results(7);
  req.set_sequence(1234567890123);
  DetectRequest got = RoundTrip(req);
  EXPECT_EQ(got.model(), "objects");
  ASSERT_EQ(got.image().source_case(), Image::kBytes);
  EXPECT_EQ(got.image().bytes(), std::string("\xff\xd8\x00\x01", 4));
  EXPECT_FLOAT_EQ(got.min_confidence(), 0.25f);
  ASSERT_EQ(got.classes_size(), 1);
  EXPECT_EQ(got.sequence(), 1234567890123);

  DetectResponse resp;
  resp.set_model("faces");
  resp.set_batch_size(4);
  Detection* d = resp.add_detections();
  d->set_label("face");
  d->set_confidence(0.9f);
  d->mutable_box()->set_left(0.1f);
  d->mutable_box()->set_top(0.2f);
  d->mutable_box()->set_width(0.3f);
  d->mutable_box()->set_height(0.4f);
  d->add_landmarks()->set_x(0.5f);
  DetectResponse r = RoundTrip(resp);
  ASSERT_EQ(r.detections_size(), 1);
  EXPECT_FLOAT_EQ(r.detections(0).box().height(), 0.4f);
  EXPECT_FLOAT_EQ(r.detections(0).landmarks(0).x(), 0.5f);
  EXPECT_EQ(r.batch_size(), 4);
}

TEST(ProtoTest, ImageOneofKeepsLastSource) {
  Image img;
  img.set_bytes("abc");
  img.mutable_s3_object()->set_bucket("b");
  EXPECT_EQ(img.source_case(), Image::kS3Object);
  EXPECT_EQ(img.bytes(), "");
  img.set_uri("file:///tmp/x.jpg");
  EXPECT_EQ(RoundTrip(img).uri(), "file:///tmp/x.jpg");
}

TEST(ProtoTest, FaceAnalysisMapsAndRepeated) {
  AnalyzeFacesResponse resp;
  FaceAnalysis* f = resp.add_faces();
  for (int i = 0; i < 68; ++i) f->add_landmarks68()->set_x(i / 68.0f);
  for (int i = 0; i < 128; ++i) f->add_face_descriptor(i * 0.01f);
  (*f->mutable_expressions())["happy"] = 0.75f;
  f->set_gender("female");
  AnalyzeFacesResponse r = RoundTrip(resp);
  ASSERT_EQ(r.faces_size(), 1);
  EXPECT_EQ(r.faces(0).landmarks68_size(), 68);
  EXPECT_EQ(r.faces(0).face_descriptor_size(), 128);
  EXPECT_FLOAT_EQ(r.faces(0).expressions().at("happy"), 0.75f);
}

TEST(ProtoTest, RecognitionOptionalFieldsTrackPresence) {
  SearchFacesByImageRequest req;
  EXPECT_FALSE(req.has_face_match_threshold());
  EXPECT_FALSE(req.has_max_faces());
  EXPECT_EQ(req.quality_filter(), QualityFilter::QUALITY_FILTER_UNSPECIFIED);
  req.set_face_match_threshold(0.0f);  // explicit 0 is not "unset"
  EXPECT_TRUE(RoundTrip(req).has_face_match_threshold());
}

TEST(ProtoTest, RecognitionParsesAwsJson) {
  // An IndexFaces body as the AWS SDKs send it.
  const std::string body = R"({
    "CollectionId": "my-coll",
    "Image": {"Bytes": "/9j/AA=="},
    "ExternalImageId": "img:1",
    "DetectionAttributes": ["ALL"],
    "MaxFaces": 3,
    "QualityFilter": "AUTO"
  })";
  IndexFacesRequest req;
  ASSERT_TRUE(JsonStringToMessage(body, &req).ok());
  EXPECT_EQ(req.collection_id(), "my-coll");
  EXPECT_EQ(req.image().bytes(), std::string("\xff\xd8\xff\x00", 4));
  EXPECT_EQ(req.external_image_id(), "img:1");
  ASSERT_EQ(req.detection_attributes_size(), 1);
  EXPECT_EQ(req.detection_attributes(0), FaceAttribute::ALL);
  ASSERT_TRUE(req.has_max_faces());
  EXPECT_EQ(req.max_faces(), 3);
  EXPECT_EQ(req.quality_filter(), QualityFilter::AUTO);

  // An unknown enum string is a parse error (the endpoint's
  // InvalidParameterException), not silently dropped.
  IndexFacesRequest bad;
  EXPECT_FALSE(JsonStringToMessage(R"({"QualityFilter": "BEST"})", &bad).ok());
}

TEST(ProtoTest, RecognitionWritesAwsMemberNames) {
  DescribeCollectionResponse resp;
  resp.set_collection_arn("arn:aws:rekognition:us-east-1:0:collection/c");
  resp.set_face_model_version("1.0");
  std::string json;
  ASSERT_TRUE(MessageToJsonString(resp, &json).ok());
  EXPECT_NE(json.find("\"CollectionARN\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"FaceModelVersion\""), std::string::npos) << json;

  DetectFacesResponse faces;
  FaceDetail* d = faces.add_face_details();
  d->mutable_gender()->set_value(Gender::Female);
  d->mutable_bounding_box()->set_left(0.5f);
  Emotion* e = d->add_emotions();
  e->set_type(Emotion::CALM);
  ASSERT_TRUE(MessageToJsonString(faces, &json).ok());
  EXPECT_NE(json.find("\"FaceDetails\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"Value\":\"Female\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"Type\":\"CALM\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"Left\":0.5"), std::string::npos) << json;
  // Unset orientation correction is not written.
  EXPECT_EQ(json.find("OrientationCorrection"), std::string::npos) << json;
}

TEST(ProtoTest, ProtectiveEquipmentRoundTrip) {
  DetectProtectiveEquipmentResponse resp;
  ProtectiveEquipmentPerson* p = resp.add_persons();
  p->set_id(0);
  ProtectiveEquipmentBodyPart* part = p->add_body_parts();
  part->set_name(ProtectiveEquipmentBodyPart::FACE);
  EquipmentDetection* eq = part->add_equipment_detections();
  eq->set_type(ProtectiveEquipmentType::FACE_COVER);
  eq->mutable_covers_body_part()->set_value(true);
  resp.mutable_summary()->add_persons_with_required_equipment(0);
  DetectProtectiveEquipmentResponse r = RoundTrip(resp);
  EXPECT_EQ(r.persons(0).body_parts(0).equipment_detections(0).type(),
            ProtectiveEquipmentType::FACE_COVER);
  EXPECT_TRUE(r.persons(0).body_parts(0).equipment_detections(0).covers_body_part().value());
  EXPECT_EQ(r.summary().persons_with_required_equipment_size(), 1);
}

TEST(ProtoTest, MaskRoundTrip) {
  ClassifyRequest req;
  req.add_crops()->set_bytes("x");
  req.add_crops()->set_uri("file:///a.jpg");
  EXPECT_FALSE(req.has_image());
  EXPECT_EQ(RoundTrip(req).crops_size(), 2);

  ClassifyResponse resp;
  FaceMask* m = resp.add_results();
  m->set_label("with_mask");
  (*m->mutable_probabilities())["with_mask"] = 0.8f;
  (*m->mutable_probabilities())["without_mask"] = 0.15f;
  (*m->mutable_probabilities())["mask_worn_incorrectly"] = 0.05f;
  EXPECT_EQ(RoundTrip(resp).results(0).probabilities().size(), 3u);
}

TEST(ProtoTest, SentimentComprehendJson) {
  BatchDetectSentimentRequest req;
  ASSERT_TRUE(
      JsonStringToMessage(R"({"TextList": ["good", "bad"], "LanguageCode": "en"})", &req).ok());
  EXPECT_EQ(req.text_list_size(), 2);
  EXPECT_EQ(req.language_code(), "en");

  DetectSentimentResponse resp;
  resp.set_sentiment(Sentiment::MIXED);
  resp.mutable_sentiment_score()->set_mixed(0.5f);
  std::string json;
  ASSERT_TRUE(MessageToJsonString(resp, &json).ok());
  EXPECT_NE(json.find("\"Sentiment\":\"MIXED\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"Mixed\":0.5"), std::string::npos) << json;
}

TEST(ProtoTest, PostAndTrendsTimestamps) {
  Post post;
  post.set_id("1");
  post.mutable_time()->set_seconds(1700000000);
  post.add_hashtags("stratus");
  Post p = RoundTrip(post);
  EXPECT_EQ(p.time().seconds(), 1700000000);
  EXPECT_EQ(p.hashtags(0), "stratus");

  GetTrendsRequest req;
  EXPECT_FALSE(req.has_start());
  EXPECT_EQ(req.window_seconds(), 0);
}

TEST(ProtoTest, IngestDefaultsAndEvents) {
  StreamConfig cfg;
  EXPECT_EQ(cfg.transport(), StreamConfig::AUTO);
  EXPECT_EQ(cfg.analyses_size(), 0);
  cfg.set_name("door");
  cfg.add_analyses(StreamConfig::FACE_SEARCH);
  StreamStatus st;
  *st.mutable_config() = cfg;
  st.set_state(StreamStatus::BACKING_OFF);
  StreamStatus s = RoundTrip(st);
  EXPECT_EQ(s.config().analyses(0), StreamConfig::FACE_SEARCH);
  EXPECT_EQ(s.state(), StreamStatus::BACKING_OFF);

  Event ev;
  ev.set_id(42);
  ev.set_type(Event::FACE_MATCHED);
  ev.add_boxes()->set_width(0.1f);
  ev.add_labels("face");
  ev.add_confidences(0.9f);
  Event e = RoundTrip(ev);
  EXPECT_EQ(e.type(), Event::FACE_MATCHED);
  EXPECT_EQ(e.boxes_size(), e.labels_size());
}

TEST(ProtoTest, ErrorInfoTravelsInGoogleRpcStatus) {
  google::rpc::ErrorInfo info;
  info.set_reason("InvalidImageFormatException");
  info.set_domain("stratus");
  (*info.mutable_metadata())["field"] = "image";
  google::rpc::Status status;
  status.set_code(3);
  status.set_message("image is truncated");
  ASSERT_TRUE(status.add_details()->PackFrom(info));
  EXPECT_EQ(status.details(0).type_url(), "type.googleapis.com/google.rpc.ErrorInfo");

  google::rpc::Status got = RoundTrip(status);
  ASSERT_EQ(got.details_size(), 1);
  google::rpc::ErrorInfo out;
  ASSERT_TRUE(got.details(0).UnpackTo(&out));
  EXPECT_EQ(out.reason(), "InvalidImageFormatException");
  EXPECT_EQ(out.metadata().at("field"), "image");
  // A different message type does not unpack as ErrorInfo.
  EXPECT_FALSE(got.details(0).Is<google::rpc::Status>());
}

TEST(ProtoTest, ServicesHaveTheAgreedMethods) {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  auto service = [&](const char* name) {
    return pool->FindServiceByName(std::string("stratus.v1.") + name);
  };
  EXPECT_STREQ(DetectorService::service_full_name(), "stratus.v1.DetectorService");
  const auto* det = service("DetectorService");
  ASSERT_NE(det, nullptr);
  ASSERT_NE(det->FindMethodByName("DetectStream"), nullptr);
  EXPECT_TRUE(det->FindMethodByName("DetectStream")->client_streaming());
  EXPECT_TRUE(det->FindMethodByName("DetectStream")->server_streaming());
  ASSERT_NE(service("RecognitionService"), nullptr);
  EXPECT_EQ(service("RecognitionService")->method_count(), 27);
  ASSERT_NE(service("MaskService"), nullptr);
  EXPECT_EQ(service("MaskService")->method_count(), 1);
  ASSERT_NE(service("SentimentService"), nullptr);
  EXPECT_EQ(service("SentimentService")->method_count(), 10);
  EXPECT_TRUE(service("SentimentService")->FindMethodByName("Feed")->client_streaming());
  const auto* ingest = service("IngestService");
  ASSERT_NE(ingest, nullptr);
  EXPECT_EQ(ingest->method_count(), 7);
  EXPECT_TRUE(ingest->FindMethodByName("WatchEvents")->server_streaming());
  for (const char* unary : {"GetStreamFrame", "GetSnapshot"}) {
    const auto* m = ingest->FindMethodByName(unary);
    ASSERT_NE(m, nullptr) << unary;
    EXPECT_FALSE(m->client_streaming()) << unary;
    EXPECT_FALSE(m->server_streaming()) << unary;
  }
  EXPECT_EQ(ingest->FindMethodByName("GetStreamFrame")->output_type()->full_name(),
            "stratus.v1.GetStreamFrameResponse");
}

}  // namespace
}  // namespace stratus::v1
