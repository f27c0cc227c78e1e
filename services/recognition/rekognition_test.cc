// Service-level tests: the Recognizer (Rekognition semantics), its gRPC status conversion and
// its AWS JSON endpoint, on a real embedded PostgreSQL with fake analysis backends (golden
// face-api outputs for real descriptors, synthetic faces for the rest).
#include "services/recognition/rekognition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "cli/recognition.h"
#include "common/aws/aws_error.h"
#include "common/aws/json_protocol.h"
#include "common/paths.h"
#include "common/status.h"
#include "common/testing/postgres_suite.h"
#include "runtime/text_reader.h"
#include "services/recognition/aws_endpoint.h"
#include "services/recognition/face_detail.h"
#include "services/recognition/recognition_service.h"
#include "services/recognition/schema.h"
#include "services/recognition/testing/fake_analyzers.h"

namespace stratus::recognition {
namespace {

namespace v1 = ::stratus::v1;
using ::stratus::cli::IsRecognitionCommand;
using ::stratus::cli::RunRecognitionCommand;
using testing::DescriptorAtDistance;
using testing::FakeFaceAnalyzer;
using testing::FakeMaskClassifier;
using testing::FakeObjectDetector;
using ::testing::HasSubstr;
using testing::MakeFace;
using testing::MakeImage;
using testing::RandomDescriptor;
using ::testing::SizeIs;
using testing::SyntheticFace;

std::string GoldenDir() {
  const char* env = std::getenv("STRATUS_GOLDEN_DIR");
  return env ? env : (SharedDir() / "golden" / "faceapi").string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class RekognitionTest : public testing_util::PostgresSuite {
 protected:
  void SetUp() override {
    db_ = Connect();
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(db_->Migrate("recognition", Migrations()).ok());
    ASSERT_TRUE(db_->Transact([](pqxx::work& tx) {
                     tx.exec("DELETE FROM recognition_collections");
                     return absl::OkStatus();
                   })
                    .ok());
    FaceStore::Options so;
    so.db = db_.get();
    so.listen = false;
    auto store = FaceStore::Create(so);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Start().ok());
    Recognizer::Options o;
    o.store = store_.get();
    o.faces = &faces_;
    o.objects = &objects_;
    o.masks = &masks_;
    // Tesseract (Debian's tesseract-ocr-eng), for DetectText.
    auto text = runtime::TextReader::Create({.instances = 1});
    ASSERT_TRUE(text.ok()) << text.status();
    text_ = std::move(*text);
    o.text = text_.get();
    auto r = Recognizer::Create(o);
    ASSERT_TRUE(r.ok());
    rec_ = std::move(*r);
  }

  // A 200x200 PNG whose fake analysis is `faces`.
  std::string Image(std::vector<v1::FaceAnalysis> faces, uint64_t seed) {
    std::string png = MakeImage(200, 200, seed);
    v1::AnalyzeFacesResponse r;
    for (auto& f : faces) *r.add_faces() = std::move(f);
    faces_.Add(png, r);
    return png;
  }
  static v1::Image Bytes(const std::string& b) {
    v1::Image i;
    i.set_bytes(b);
    return i;
  }
  static std::string Golden(int n) {
    return ReadFile(absl::StrCat(GoldenDir(), "/sample", n, ".png"));
  }
  bool HaveGolden() {
    auto n = faces_.AddFaceApiGolden(GoldenDir());
    return n.ok() && *n >= 2;
  }

  std::unique_ptr<Database> db_;
  std::unique_ptr<FaceStore> store_;
  FakeFaceAnalyzer faces_;
  FakeObjectDetector objects_;
  FakeMaskClassifier masks_;
  std::unique_ptr<runtime::TextReader> text_;
  std::unique_ptr<Recognizer> rec_;
};

TEST(SimilarityTest, MappingMatchesTheContract) {
  EXPECT_NEAR(SimilarityFromDistance(0.6f), 80.0f, 1e-3);
  EXPECT_NEAR(SimilarityFromDistance(0.0f), 100.0f, 0.01);
  EXPECT_NEAR(SimilarityFromDistance(0.5f), 96.7f, 0.05);
  EXPECT_NEAR(SimilarityFromDistance(0.7f), 35.1f, 0.05);
  EXPECT_NEAR(MaxDistanceForSimilarity(80.0f), 0.6f, 1e-5);
  EXPECT_NEAR(SimilarityFromDistance(MaxDistanceForSimilarity(95.0f)), 95.0f, 1e-3);
  EXPECT_EQ(MaxDistanceForSimilarity(100.0f), 0.0f);
  EXPECT_GT(MaxDistanceForSimilarity(0.0f), 100.0f);
}

TEST(FaceDetailTest, LandmarksAndDerivedAttributes) {
  SyntheticFace s;
  s.mouth_open = 0.3f;
  s.eyes_open = 0.05f;
  v1::ImageSize size;
  size.set_width(400);
  size.set_height(400);
  AttributeSet all;
  all.age_range = all.gender = all.emotions = all.smile = all.eyes_open = all.mouth_open = true;
  v1::FaceDetail d = ToFaceDetail(MakeFace(s), all, size);
  ASSERT_THAT(d.landmarks(), SizeIs(30));
  std::map<std::string, v1::Landmark> by_type;
  for (const auto& l : d.landmarks()) by_type[l.type()] = l;
  EXPECT_LT(by_type["eyeLeft"].x(), by_type["eyeRight"].x());
  EXPECT_LT(by_type["eyeLeft"].y(), by_type["mouthLeft"].y());
  EXPECT_GT(by_type["chinBottom"].y(), by_type["nose"].y());
  EXPECT_TRUE(d.mouth_open().value());
  EXPECT_FALSE(d.eyes_open().value());
  EXPECT_TRUE(d.smile().value());  // happy 0.7 in MakeFace
  EXPECT_EQ(d.age_range().low(), 24);
  EXPECT_EQ(d.age_range().high(), 36);
  EXPECT_EQ(d.gender().value(), v1::Gender::Female);
  ASSERT_THAT(d.emotions(), SizeIs(2));
  EXPECT_EQ(d.emotions(0).type(), v1::Emotion::HAPPY);
  EXPECT_NEAR(d.confidence(), 99.0f, 1e-3);

  s.mouth_open = 0.0f;
  s.eyes_open = 0.35f;
  d = ToFaceDetail(MakeFace(s), all, size);
  EXPECT_FALSE(d.mouth_open().value());
  EXPECT_TRUE(d.eyes_open().value());
  // DEFAULT leaves the attributes out.
  d = ToFaceDetail(MakeFace(s), AttributeSet{}, size);
  EXPECT_FALSE(d.has_age_range());
  EXPECT_FALSE(d.has_smile());
  EXPECT_TRUE(d.has_pose());
  EXPECT_FALSE(d.has_eye_direction());
}

TEST(FaceDetailTest, EyeDirectionWhenAskedAndTheDetectorGaveIt) {
  google::protobuf::RepeatedField<int> asked;
  asked.Add(v1::FaceAttribute::EYE_DIRECTION);
  const AttributeSet eyes = ParseAttributes(asked);
  EXPECT_TRUE(eyes.eye_direction);
  EXPECT_FALSE(eyes.NeedsModelAttributes());
  google::protobuf::RepeatedField<int> all;
  all.Add(v1::FaceAttribute::ALL);
  EXPECT_TRUE(ParseAttributes(all).eye_direction);

  v1::FaceAnalysis face;
  face.set_confidence(0.9f);
  v1::ImageSize size;
  size.set_width(100);
  size.set_height(100);
  // No gaze from the detector (no face_iris model): absent, not zero.
  EXPECT_FALSE(ToFaceDetail(face, eyes, size).has_eye_direction());
  face.mutable_eye_gaze()->set_yaw(12.5f);
  face.mutable_eye_gaze()->set_pitch(-4.0f);
  const v1::FaceDetail d = ToFaceDetail(face, eyes, size);
  ASSERT_TRUE(d.has_eye_direction());
  EXPECT_FLOAT_EQ(d.eye_direction().yaw(), 12.5f);
  EXPECT_FLOAT_EQ(d.eye_direction().pitch(), -4.0f);
  EXPECT_FLOAT_EQ(d.eye_direction().confidence(), 90.0f);
  EXPECT_FALSE(ToFaceDetail(face, AttributeSet{}, size).has_eye_direction());
}

TEST_F(RekognitionTest, BadImagesGetRekognitionErrors) {
  v1::DetectFacesRequest r;
  auto s = rec_->DetectFaces(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("Image is required"));

  r.mutable_image()->mutable_s3_object()->set_bucket("b");
  s = rec_->DetectFaces(r).status();
  EXPECT_TRUE(aws::IsAwsError(s, "InvalidParameterException") ||
              s.code() == absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("S3Object is not supported"));

  r.mutable_image()->set_bytes("");
  EXPECT_THAT(rec_->DetectFaces(r).status().message(), HasSubstr("empty"));

  r.mutable_image()->set_bytes("this is not an image at all");
  s = rec_->DetectFaces(r).status();
  EXPECT_TRUE(aws::IsAwsError(s, "InvalidImageFormatException")) << s;

  r.mutable_image()->set_bytes(std::string(5 * 1024 * 1024 + 1, 'x'));
  s = rec_->DetectFaces(r).status();
  EXPECT_TRUE(aws::IsAwsError(s, "ImageTooLargeException")) << s;

  r.mutable_image()->set_bytes(MakeImage(60, 200, 1));
  s = rec_->DetectFaces(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("at least 80 pixels"));

  std::string png = MakeImage(200, 200, 2);
  r.mutable_image()->set_bytes(png.substr(0, png.size() / 2));  // truncated
  s = rec_->DetectFaces(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;

  r.mutable_image()->set_uri("file:///etc/passwd");
  EXPECT_TRUE(aws::IsAwsError(rec_->DetectFaces(r).status(), "InvalidS3ObjectException"));

  // A healthy image without faces: no faces, not an error.
  r.mutable_image()->set_bytes(MakeImage(120, 100, 3));
  auto ok = rec_->DetectFaces(r);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->face_details_size(), 0);

  // The detector down or too slow: UNAVAILABLE (ServiceUnavailableException 503, retried by the
  // SDKs); overloaded: RESOURCE_EXHAUSTED (ThrottlingException).
  for (absl::Status down :
       {absl::UnavailableError("connection refused"), absl::DeadlineExceededError("deadline")}) {
    faces_.FailWith(down);
    s = rec_->DetectFaces(r).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
    aws::AwsErrorInfo e = aws::ToAwsError(s, aws::RekognitionErrorDefaults());
    EXPECT_EQ(e.type, "ServiceUnavailableException");
    EXPECT_EQ(e.http_status, 503);
  }
  faces_.FailWith(absl::ResourceExhaustedError("queue full"));
  s = rec_->DetectFaces(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(aws::ToAwsError(s, aws::RekognitionErrorDefaults()).type, "ThrottlingException");
}

TEST_F(RekognitionTest, ImageUrisOnlyUnderTheFileRoot) {
  const std::filesystem::path root = dir() / "images";
  const std::filesystem::path sibling = dir() / "images-private";
  std::filesystem::create_directories(root);
  std::filesystem::create_directories(sibling);
  const std::string png = Image({}, 11);
  for (const auto& d : {root, sibling}) std::ofstream(d / "a.png", std::ios::binary) << png;
  Recognizer::Options o;
  o.store = store_.get();
  o.faces = &faces_;
  o.file_uri_root = root.string();
  auto rec = Recognizer::Create(o);
  ASSERT_TRUE(rec.ok());
  v1::DetectFacesRequest r;
  r.mutable_image()->set_uri("file://" + (root / "a.png").string());
  auto ok = (*rec)->DetectFaces(r);
  EXPECT_TRUE(ok.ok()) << ok.status();
  // A sibling folder whose name starts with the root's name, reached directly or through "..".
  for (const std::string& uri : {"file://" + (sibling / "a.png").string(),
                                 "file://" + (root / ".." / "images-private" / "a.png").string(),
                                 (sibling / "a.png").string()}) {
    r.mutable_image()->set_uri(uri);
    EXPECT_TRUE(aws::IsAwsError((*rec)->DetectFaces(r).status(), "InvalidS3ObjectException"))
        << uri;
  }
}

TEST_F(RekognitionTest, DetectFacesOnGoldenFaces) {
  if (!HaveGolden()) GTEST_SKIP() << "no golden face-api outputs in " << GoldenDir();
  v1::DetectFacesRequest r;
  r.mutable_image()->set_bytes(Golden(5));
  r.add_attributes(v1::FaceAttribute::ALL);
  auto d = rec_->DetectFaces(r);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_THAT(d->face_details(), SizeIs(5));
  for (const auto& f : d->face_details()) {
    EXPECT_THAT(f.landmarks(), SizeIs(30));
    EXPECT_GT(f.confidence(), 50.0f);
    EXPECT_TRUE(f.has_age_range());
    EXPECT_TRUE(f.has_gender());
    EXPECT_FALSE(f.emotions().empty());
  }
  // Largest first.
  const auto area = [](const v1::FaceDetail& f) {
    return f.bounding_box().width() * f.bounding_box().height();
  };
  EXPECT_GE(area(d->face_details(0)), area(d->face_details(4)));
}

TEST_F(RekognitionTest, CompareFaces) {
  const auto alice = RandomDescriptor(1);
  SyntheticFace a;
  a.descriptor = alice;
  std::string source = Image({MakeFace(a)}, 10);
  SyntheticFace same = a, other = a;
  same.descriptor = DescriptorAtDistance(alice, 0.4f, 1);
  same.left = 0.05f;
  same.width = 0.4f;
  other.descriptor = RandomDescriptor(2);
  other.left = 0.55f;
  other.width = 0.3f;
  std::string target = Image({MakeFace(same), MakeFace(other)}, 11);
  v1::CompareFacesRequest r;
  *r.mutable_source_image() = Bytes(source);
  *r.mutable_target_image() = Bytes(target);
  auto c = rec_->CompareFaces(r);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_THAT(c->face_matches(), SizeIs(1));
  EXPECT_NEAR(c->face_matches(0).similarity(), SimilarityFromDistance(0.4f), 0.01);
  EXPECT_NEAR(c->face_matches(0).face().bounding_box().left(), 0.05f, 1e-6);
  ASSERT_THAT(c->unmatched_faces(), SizeIs(1));
  EXPECT_TRUE(c->has_source_image_face());

  r.set_similarity_threshold(99.9f);
  c = rec_->CompareFaces(r);
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(c->face_matches(), SizeIs(0));
  EXPECT_THAT(c->unmatched_faces(), SizeIs(2));
  r.set_similarity_threshold(101);
  EXPECT_EQ(rec_->CompareFaces(r).status().code(), absl::StatusCode::kInvalidArgument);

  // No face in the source: InvalidParameterException.
  r.clear_similarity_threshold();
  *r.mutable_source_image() = Bytes(MakeImage(100, 100, 12));
  auto s = rec_->CompareFaces(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("no faces"));
}

TEST_F(RekognitionTest, CollectionsIndexSearchListDelete) {
  v1::CreateCollectionRequest create;
  create.set_collection_id("staff");
  auto created = rec_->CreateCollection(create);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->collection_arn(),
            "arn:aws:rekognition:us-east-1:000000000000:collection/staff");
  EXPECT_EQ(created->status_code(), 200);
  EXPECT_EQ(rec_->CreateCollection(create).status().code(), absl::StatusCode::kAlreadyExists);
  create.set_collection_id("bad name!");
  EXPECT_EQ(rec_->CreateCollection(create).status().code(), absl::StatusCode::kInvalidArgument);

  // Three faces in one image; MaxFaces 2 leaves the smallest out; a blurry one fails AUTO.
  const auto p1 = RandomDescriptor(11), p2 = RandomDescriptor(12), p3 = RandomDescriptor(13);
  SyntheticFace f1, f2, f3, blurry;
  f1.descriptor = p1, f1.width = 0.4f, f1.left = 0.0f;
  f2.descriptor = p2, f2.width = 0.3f, f2.left = 0.45f;
  f3.descriptor = p3, f3.width = 0.2f, f3.left = 0.78f;
  blurry.descriptor = RandomDescriptor(14), blurry.width = 0.25f, blurry.sharpness = 0;
  std::string group = Image({MakeFace(f1), MakeFace(f2), MakeFace(blurry), MakeFace(f3)}, 20);
  v1::IndexFacesRequest index;
  index.set_collection_id("staff");
  *index.mutable_image() = Bytes(group);
  index.set_external_image_id("group:1");
  index.set_max_faces(2);
  auto indexed = rec_->IndexFaces(index);
  ASSERT_TRUE(indexed.ok()) << indexed.status();
  ASSERT_THAT(indexed->face_records(), SizeIs(2));
  EXPECT_EQ(indexed->face_records(0).face().external_image_id(), "group:1");
  ASSERT_THAT(indexed->unindexed_faces(), SizeIs(2));
  EXPECT_EQ(indexed->unindexed_faces(0).reasons(0), v1::UnindexedFace::LOW_SHARPNESS);
  EXPECT_EQ(indexed->unindexed_faces(1).reasons(0), v1::UnindexedFace::EXCEEDS_MAX_FACES);
  index.set_max_faces(0);
  EXPECT_EQ(rec_->IndexFaces(index).status().code(), absl::StatusCode::kInvalidArgument);
  index.clear_max_faces();
  index.set_external_image_id("bad id with spaces");
  EXPECT_EQ(rec_->IndexFaces(index).status().code(), absl::StatusCode::kInvalidArgument);
  index.clear_external_image_id();
  index.set_collection_id("missing");
  EXPECT_EQ(rec_->IndexFaces(index).status().code(), absl::StatusCode::kNotFound);
  for (int i = 0; i < 3; ++i) {
    SyntheticFace f;
    f.descriptor = RandomDescriptor(100 + i);
    index.set_collection_id("staff");
    *index.mutable_image() = Bytes(Image({MakeFace(f)}, 30 + i));
    ASSERT_TRUE(rec_->IndexFaces(index).ok());
  }

  // SearchFacesByImage: person 2 from another photo.
  SyntheticFace again;
  again.descriptor = DescriptorAtDistance(p2, 0.35f, 7);
  v1::SearchFacesByImageRequest search;
  search.set_collection_id("staff");
  *search.mutable_image() = Bytes(Image({MakeFace(again)}, 40));
  auto found = rec_->SearchFacesByImage(search);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_THAT(found->face_matches(), SizeIs(1));
  EXPECT_EQ(found->face_matches(0).face().face_id(), indexed->face_records(1).face().face_id());
  EXPECT_NEAR(found->face_matches(0).similarity(), SimilarityFromDistance(0.35f), 0.05);
  search.set_face_match_threshold(99.9f);
  EXPECT_THAT(rec_->SearchFacesByImage(search)->face_matches(), SizeIs(0));
  search.set_collection_id("missing");
  EXPECT_EQ(rec_->SearchFacesByImage(search).status().code(), absl::StatusCode::kNotFound);
  search.set_collection_id("staff");
  *search.mutable_image() = Bytes(MakeImage(100, 100, 41));
  EXPECT_EQ(rec_->SearchFacesByImage(search).status().code(), absl::StatusCode::kInvalidArgument);

  // SearchFaces by id: p1's face matches nothing else.
  v1::SearchFacesRequest by_id;
  by_id.set_collection_id("staff");
  by_id.set_face_id(indexed->face_records(0).face().face_id());
  auto by_id_result = rec_->SearchFaces(by_id);
  ASSERT_TRUE(by_id_result.ok()) << by_id_result.status();
  EXPECT_THAT(by_id_result->face_matches(), SizeIs(0));
  by_id.set_face_match_threshold(0);
  by_id.set_max_faces(2);
  EXPECT_THAT(rec_->SearchFaces(by_id)->face_matches(), SizeIs(2));
  by_id.set_face_id("00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(rec_->SearchFaces(by_id).status().code(), absl::StatusCode::kNotFound);
  by_id.set_face_id("nope");
  EXPECT_EQ(rec_->SearchFaces(by_id).status().code(), absl::StatusCode::kInvalidArgument);

  // ListFaces, 2 per page: 5 faces -> 3 pages.
  v1::ListFacesRequest list;
  list.set_collection_id("staff");
  list.set_max_results(2);
  int pages = 0, total = 0;
  do {
    auto page = rec_->ListFaces(list);
    ASSERT_TRUE(page.ok()) << page.status();
    total += page->faces_size();
    ++pages;
    list.set_next_token(page->next_token());
  } while (!list.next_token().empty() && pages < 10);
  EXPECT_EQ(total, 5);
  EXPECT_EQ(pages, 3);
  list.set_next_token("garbage!");
  EXPECT_TRUE(aws::IsAwsError(rec_->ListFaces(list).status(), "InvalidPaginationTokenException"));

  v1::DescribeCollectionRequest describe;
  describe.set_collection_id("staff");
  EXPECT_EQ(rec_->DescribeCollection(describe)->face_count(), 5);

  v1::DeleteFacesRequest del;
  del.set_collection_id("staff");
  del.add_face_ids(indexed->face_records(1).face().face_id());
  del.add_face_ids("00000000-0000-4000-8000-000000000000");
  auto deleted = rec_->DeleteFaces(del);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_THAT(deleted->deleted_faces(), SizeIs(1));
  ASSERT_THAT(deleted->unsuccessful_face_deletions(), SizeIs(1));
  EXPECT_EQ(deleted->unsuccessful_face_deletions(0).reasons(0),
            v1::UnsuccessfulFaceDeletion::FACE_NOT_FOUND);
  search.set_collection_id("staff");
  search.clear_face_match_threshold();
  *search.mutable_image() = Bytes(Image({MakeFace(again)}, 40));
  EXPECT_THAT(rec_->SearchFacesByImage(search)->face_matches(), SizeIs(0));
  del.clear_face_ids();
  EXPECT_EQ(rec_->DeleteFaces(del).status().code(), absl::StatusCode::kInvalidArgument);

  v1::ListCollectionsRequest lc;
  auto collections = rec_->ListCollections(lc);
  ASSERT_TRUE(collections.ok());
  EXPECT_THAT(collections->collection_ids(), ::testing::ElementsAre("staff"));
  v1::DeleteCollectionRequest dc;
  dc.set_collection_id("staff");
  ASSERT_TRUE(rec_->DeleteCollection(dc).ok());
  EXPECT_EQ(rec_->DeleteCollection(dc).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RekognitionTest, GoldenFacesFindThemselves) {
  if (!HaveGolden()) GTEST_SKIP() << "no golden face-api outputs";
  v1::CreateCollectionRequest create;
  create.set_collection_id("golden");
  ASSERT_TRUE(rec_->CreateCollection(create).ok());
  v1::IndexFacesRequest index;
  index.set_collection_id("golden");
  index.set_quality_filter(v1::QualityFilter::NONE);
  int faces = 0;
  for (int n = 1; n <= 6; ++n) {
    *index.mutable_image() = Bytes(Golden(n));
    index.set_external_image_id(absl::StrCat("sample", n));
    auto r = rec_->IndexFaces(index);
    ASSERT_TRUE(r.ok()) << r.status();
    faces += r->face_records_size();
    EXPECT_EQ(r->unindexed_faces_size(), 0) << n << ": " << r->DebugString().substr(0, 3000);
  }
  EXPECT_EQ(faces, 22);  // 3 + 3 + 3 + 4 + 5 + 4
  v1::SearchFacesByImageRequest search;
  search.set_collection_id("golden");
  *search.mutable_image() = Bytes(Golden(3));
  auto found = rec_->SearchFacesByImage(search);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_GE(found->face_matches_size(), 1);
  EXPECT_EQ(found->face_matches(0).face().external_image_id(), "sample3");
  EXPECT_GT(found->face_matches(0).similarity(), 99.9f);
}

TEST_F(RekognitionTest, DetectLabels) {
  std::string img = MakeImage(300, 200, 50);
  v1::DetectResponse d;
  d.set_model_version("nanodet-1");
  auto add = [&](const char* label, float c, float left) {
    auto* x = d.add_detections();
    x->set_label(label);
    x->set_confidence(c);
    x->mutable_box()->set_left(left);
    x->mutable_box()->set_width(0.1f);
    x->mutable_box()->set_height(0.1f);
  };
  add("car", 0.9f, 0.1f);
  add("car", 0.7f, 0.3f);
  add("person", 0.8f, 0.5f);
  add("dog", 0.52f, 0.7f);
  objects_.Add(img, d);
  v1::DetectLabelsRequest r;
  r.mutable_image()->set_bytes(img);
  auto labels = rec_->DetectLabels(r);
  ASSERT_TRUE(labels.ok()) << labels.status();
  std::vector<std::string> names;
  for (const auto& l : labels->labels()) names.push_back(l.name());
  EXPECT_THAT(names, ::testing::ElementsAre("Car", "Transportation", "Vehicle", "Person"));
  EXPECT_THAT(labels->labels(0).instances(), SizeIs(2));
  EXPECT_NEAR(labels->labels(0).confidence(), 90.0f, 1e-3);
  EXPECT_EQ(labels->label_model_version(), "nanodet-1");
  r.set_max_labels(1);
  r.set_min_confidence(50);
  labels = rec_->DetectLabels(r);
  ASSERT_THAT(labels->labels(), SizeIs(1));
  r.set_min_confidence(150);
  EXPECT_EQ(rec_->DetectLabels(r).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RekognitionTest, ProtectiveEquipment) {
  SyntheticFace f;
  f.left = 0.3f, f.top = 0.1f, f.width = 0.2f, f.height = 0.2f;
  std::string img = Image({MakeFace(f)}, 60);
  v1::DetectResponse persons;
  auto* p = persons.add_detections();
  p->set_label("person");
  p->set_confidence(0.95f);
  p->mutable_box()->set_left(0.2f);
  p->mutable_box()->set_top(0.05f);
  p->mutable_box()->set_width(0.5f);
  p->mutable_box()->set_height(0.9f);
  objects_.Add(img, persons);
  v1::DetectProtectiveEquipmentRequest r;
  r.mutable_image()->set_bytes(img);
  r.mutable_summarization_attributes()->set_min_confidence(80);
  r.mutable_summarization_attributes()->add_required_equipment_types(
      v1::ProtectiveEquipmentType::FACE_COVER);
  // The mask service not offering it: UNIMPLEMENTED for FACE_COVER.
  auto s = rec_->DetectProtectiveEquipment(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), HasSubstr("FACE_COVER"));
  // The mask service down or slow: a retryable 503, not InvalidParameterException; overloaded:
  // ThrottlingException.
  for (absl::Status down :
       {absl::UnavailableError("connection refused"), absl::DeadlineExceededError("deadline")}) {
    masks_.Set([down](const v1::ClassifyRequest&) -> absl::StatusOr<v1::ClassifyResponse> {
      return down;
    });
    s = rec_->DetectProtectiveEquipment(r).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    aws::AwsErrorInfo e = aws::ToAwsError(s, aws::RekognitionErrorDefaults());
    EXPECT_EQ(e.type, "ServiceUnavailableException");
    EXPECT_EQ(e.http_status, 503);
  }
  masks_.Set([](const v1::ClassifyRequest&) -> absl::StatusOr<v1::ClassifyResponse> {
    return absl::ResourceExhaustedError("queue full");
  });
  s = rec_->DetectProtectiveEquipment(r).status();
  EXPECT_EQ(aws::ToAwsError(s, aws::RekognitionErrorDefaults()).type, "ThrottlingException");

  masks_.Set([](const v1::ClassifyRequest& req) -> absl::StatusOr<v1::ClassifyResponse> {
    v1::ClassifyResponse out;
    out.set_model_version("mask-1");
    for (const auto& b : req.boxes()) {
      auto* m = out.add_results();
      *m->mutable_box() = b;
      m->set_label("with_mask");
      m->set_confidence(0.97f);
      (*m->mutable_probabilities())["with_mask"] = 0.97f;
      (*m->mutable_probabilities())["without_mask"] = 0.02f;
      (*m->mutable_probabilities())["mask_worn_incorrectly"] = 0.01f;
    }
    return out;
  });
  auto ppe = rec_->DetectProtectiveEquipment(r);
  ASSERT_TRUE(ppe.ok()) << ppe.status();
  ASSERT_THAT(ppe->persons(), SizeIs(1));
  ASSERT_THAT(ppe->persons(0).body_parts(), SizeIs(1));
  ASSERT_THAT(ppe->persons(0).body_parts(0).equipment_detections(), SizeIs(1));
  EXPECT_TRUE(ppe->persons(0).body_parts(0).equipment_detections(0).covers_body_part().value());
  EXPECT_THAT(ppe->summary().persons_with_required_equipment(), ::testing::ElementsAre(0));
  EXPECT_EQ(ppe->protective_equipment_model_version(), "mask-1");
  r.mutable_summarization_attributes()->add_required_equipment_types(
      v1::ProtectiveEquipmentType::HAND_COVER);
  ppe = rec_->DetectProtectiveEquipment(r);
  EXPECT_THAT(ppe->summary().persons_indeterminate(), ::testing::ElementsAre(0));
}

TEST_F(RekognitionTest, GrpcStatusCarriesTheAwsReason) {
  v1::DetectFacesRequest r;
  r.mutable_image()->set_bytes("junk");
  grpc::Status g = ToGrpcWithReason(rec_->DetectFaces(r).status());
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ErrorReason(g), "InvalidImageFormatException");
  v1::DescribeCollectionRequest d;
  d.set_collection_id("nope");
  EXPECT_EQ(ErrorReason(ToGrpcWithReason(rec_->DescribeCollection(d).status())),
            "ResourceNotFoundException");
}

TEST_F(RekognitionTest, AwsJsonEndpoint) {
  aws::CredentialsStore keys;
  ASSERT_TRUE(keys.Add({"AKIDTESTTESTTEST", "secretsecretsecretsecret", ""}).ok());
  aws::AwsJsonEndpoint::Options o;
  o.credentials = &keys;
  o.sigv4.service = "rekognition";
  auto endpoint = aws::AwsJsonEndpoint::Create(o);
  ASSERT_TRUE(endpoint.ok());
  RegisterRekognitionOperations(endpoint->get(), rec_.get());
  auto call = [&](const std::string& op, const std::string& body, bool sign = true,
                  const std::string& secret = "secretsecretsecretsecret") {
    std::map<std::string, std::string> headers = {{"host", "localhost:8083"},
                                                  {"content-type", "application/x-amz-json-1.1"},
                                                  {"x-amz-target", "RekognitionService." + op}};
    if (sign) {
      aws::SigningParams p;
      p.credentials = {"AKIDTESTTESTTEST", secret, ""};
      p.service = "rekognition";
      EXPECT_TRUE(aws::SignRequest(p, "POST", "/", "", body, &headers).ok());
    }
    HttpRequest req;
    req.method = "POST";
    req.path = "/";
    for (auto& [k, v] : headers) req.headers[absl::AsciiStrToLower(k)] = v;
    req.body = body;
    return (*endpoint)->Handle(req);
  };
  auto json_of = [](const HttpResponse& r) { return nlohmann::json::parse(r.body); };

  auto r = call("CreateCollection", R"({"CollectionId":"web"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r)["StatusCode"], 200);
  r = call("CreateCollection", R"({"CollectionId":"web"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json_of(r)["__type"], "ResourceAlreadyExistsException");
  r = call("DescribeCollection", R"({"CollectionId":"web"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json_of(r)["FaceCount"].is_number());
  EXPECT_TRUE(json_of(r)["CreationTimestamp"].is_number());
  EXPECT_EQ(json_of(r)["CollectionARN"],
            "arn:aws:rekognition:us-east-1:000000000000:collection/web");

  SyntheticFace f;
  f.descriptor = RandomDescriptor(77);
  const std::string img = Image({MakeFace(f)}, 70);
  r = call("DetectFaces",
           nlohmann::json{{"Image", {{"Bytes", aws::Base64Encode(img)}}}, {"Attributes", {"ALL"}}}
               .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json_of(r);
  ASSERT_EQ(j["FaceDetails"].size(), 1u);
  EXPECT_EQ(j["FaceDetails"][0]["Landmarks"].size(), 30u);
  EXPECT_TRUE(j["FaceDetails"][0].contains("AgeRange"));
  EXPECT_FALSE(j.contains("OrientationCorrection"));
  r = call("SearchFacesByImage",
           nlohmann::json{{"CollectionId", "web"}, {"Image", {{"Bytes", aws::Base64Encode(img)}}}}
               .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json_of(r)["FaceMatches"].is_array());
  EXPECT_EQ(json_of(r)["FaceMatches"].size(), 0u);

  r = call("DetectFaces", R"({"Image":{"Bytes":"not base64!"}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json_of(r)["__type"], "InvalidParameterException");
  r = call("DetectFaces",
           nlohmann::json{{"Image", {{"Bytes", aws::Base64Encode("GIF89a....")}}}}.dump());
  EXPECT_EQ(json_of(r)["__type"], "InvalidImageFormatException");
  r = call("DetectFaces", R"({"Image":{"S3Object":{"Bucket":"b","Name":"k.jpg"}}})");
  EXPECT_EQ(json_of(r)["__type"], "InvalidParameterException");
  EXPECT_THAT(json_of(r)["message"].get<std::string>(), HasSubstr("S3Object"));
  r = call("DetectFaces", R"({"Image":{"Uri":"file:///etc/passwd"}})");
  EXPECT_EQ(json_of(r)["__type"], "InvalidParameterException");
  r = call("DetectFaces", R"({"Image": 5})");
  EXPECT_EQ(json_of(r)["__type"], "InvalidParameterException");
  r = call("DetectFaces", R"({"Image": {"Bytes": 5}})");
  EXPECT_EQ(json_of(r)["__type"], "InvalidParameterException");
  r = call("IndexFaces",
           R"({"CollectionId":"nope","Image":{"Bytes":")" + aws::Base64Encode(img) + "\"}}");
  EXPECT_EQ(json_of(r)["__type"], "ResourceNotFoundException");
  r = call("ListFaces", R"({"CollectionId":"web","MaxResults":"many"})");
  EXPECT_EQ(json_of(r)["__type"], "InvalidParameterException");
  r = call("DetectFaces", R"({"Image": )");
  EXPECT_EQ(r.status, 400);
  EXPECT_FALSE(r.body.empty());
  // Wrongly signed and unsigned requests are refused.
  r = call("ListCollections", "{}", true, "the-wrong-secret-the-wrong-secret");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json_of(r)["__type"], "InvalidSignatureException");
  r = call("ListCollections", "{}", false);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json_of(r)["__type"], "MissingAuthenticationTokenException");
}

TEST_F(RekognitionTest, CommandLineOverGrpc) {
  RecognitionServiceImpl service(rec_.get());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  const std::string endpoint = absl::StrCat("--endpoint=127.0.0.1:", port);
  const std::string dir = (this->dir() / "cli").string();
  std::filesystem::create_directories(dir);
  SyntheticFace f;
  f.descriptor = RandomDescriptor(500);
  const std::string photo = dir + "/alice photo.png";
  std::ofstream(photo, std::ios::binary) << Image({MakeFace(f)}, 80);
  auto run = [&](std::vector<std::string> args, int* code) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    ::testing::internal::CaptureStdout();
    *code = RunRecognitionCommand(args[0], static_cast<int>(argv.size()), argv.data());
    return ::testing::internal::GetCapturedStdout();
  };
  int code = -1;
  std::string out = run({"create-collection", endpoint, "cli"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(nlohmann::json::parse(out)["StatusCode"], 200);
  out = run({"index-faces", endpoint, "cli", photo}, &code);
  ASSERT_EQ(code, 0) << out;
  auto indexed = nlohmann::json::parse(out);
  EXPECT_EQ(indexed["FaceRecords"][0]["Face"]["ExternalImageId"], "alice_photo.png");
  out = run({"search-faces-by-image", endpoint, "cli", photo, photo}, &code);
  ASSERT_EQ(code, 0);
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(2));  // one object per image
  EXPECT_EQ(nlohmann::json::parse(lines[0])["FaceMatches"][0]["Face"]["FaceId"],
            indexed["FaceRecords"][0]["Face"]["FaceId"]);
  out = run({"list-faces", endpoint, "--max-results=1", "cli"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_THAT(std::vector<std::string>(absl::StrSplit(out, '\n', absl::SkipEmpty())), SizeIs(1));
  out = run({"detect-faces", endpoint, dir + "/missing.jpg"}, &code);
  EXPECT_EQ(code, 1);
  out = run({"search-faces-by-image", endpoint, "nope", photo}, &code);
  EXPECT_EQ(code, 1);  // ResourceNotFoundException on stderr
  out = run({"compare-faces", endpoint, photo}, &code);
  EXPECT_EQ(code, 2);
  out = run({"create-user", endpoint, "cli", "alice"}, &code);
  EXPECT_EQ(code, 0) << out;
  out = run({"associate-faces", endpoint, "cli", "alice",
             indexed["FaceRecords"][0]["Face"]["FaceId"].get<std::string>()},
            &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out)["UserStatus"], "ACTIVE");
  out = run({"search-users-by-image", endpoint, "cli", photo}, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out)["UserMatches"][0]["User"]["UserId"], "alice");
  out = run({"list-users", endpoint, "cli"}, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out)["Users"][0]["UserId"], "alice");
  out = run({"list-faces", endpoint, "--user-id=alice", "cli"}, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out)["Faces"].size(), 1u);
  out = run({"search-users", endpoint, "cli"}, &code);
  EXPECT_EQ(code, 2);  // neither --user-id nor --face-id
  out = run({"create-user", endpoint, "cli", "alice"}, &code);
  EXPECT_EQ(code, 1);  // ConflictException
  // --output on the list commands: every page fetched, merged (json) or tabulated (table).
  out = run({"index-faces", endpoint, "cli", photo}, &code);
  ASSERT_EQ(code, 0) << out;
  out = run({"list-faces", endpoint, "--max-results=1", "cli"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_THAT(std::vector<std::string>(absl::StrSplit(out, '\n', absl::SkipEmpty())), SizeIs(2));
  out = run({"list-faces", endpoint, "--max-results=1", "--output=json", "cli"}, &code);
  ASSERT_EQ(code, 0) << out;
  ASSERT_THAT(std::vector<std::string>(absl::StrSplit(out, '\n', absl::SkipEmpty())), SizeIs(1));
  auto merged = nlohmann::json::parse(out);
  EXPECT_EQ(merged["faces"].size(), 2u);
  EXPECT_FALSE(merged.contains("next_token"));
  out = run({"list-users", endpoint, "--output", "table", "cli"}, &code);
  ASSERT_EQ(code, 0) << out;
  lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_THAT(lines[0], ::testing::StartsWith("USER_ID"));
  EXPECT_THAT(lines[1], ::testing::MatchesRegex("alice +ACTIVE *"));
  out = run({"list-collections", endpoint, "--output=table"}, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("COLLECTION_ID"));
  EXPECT_THAT(out, ::testing::ContainsRegex("\ncli +"));
  out = run({"list-users", endpoint, "--output=yaml", "cli"}, &code);
  EXPECT_EQ(code, 2);
  // detect-text: a sign rendered here, read by Tesseract through the service.
  cv::Mat sign(240, 900, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::putText(sign, "OPEN LATE", {40, 150}, cv::FONT_HERSHEY_SIMPLEX, 3.0, {0, 0, 0}, 8);
  const std::string sign_path = dir + "/sign.png";
  ASSERT_TRUE(cv::imwrite(sign_path, sign));
  out = run({"detect-text", endpoint, sign_path}, &code);
  ASSERT_EQ(code, 0) << out;
  auto text = nlohmann::json::parse(out);
  ASSERT_FALSE(text["TextDetections"].empty()) << out;
  EXPECT_EQ(text["TextDetections"][0]["Type"], "LINE");
  EXPECT_EQ(text["TextDetections"][0]["DetectedText"], "OPEN LATE") << out;
  out = run({"detect-text", endpoint, "--min-confidence=101", sign_path}, &code);
  EXPECT_EQ(code, 1);  // InvalidParameterException on stderr
  out = run({"detect-text", endpoint}, &code);
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(IsRecognitionCommand("detect-ppe"));
  EXPECT_FALSE(IsRecognitionCommand("detect"));
  server->Shutdown();
}

// Rekognition's Users API through the Recognizer: shapes, limits, idempotency, errors, and the
// gRPC and AWS JSON forms of its errors.
TEST_F(RekognitionTest, UsersCreateAssociateSearchDelete) {
  v1::CreateCollectionRequest create;
  create.set_collection_id("club");
  ASSERT_TRUE(rec_->CreateCollection(create).ok());
  // Two people, two photos each, and one more photo of each to search with.
  const auto ann = RandomDescriptor(201), ben = RandomDescriptor(202);
  auto photo = [&](const std::vector<float>& who, float d, uint64_t seed) {
    SyntheticFace f;
    f.descriptor = d == 0 ? who : DescriptorAtDistance(who, d, seed);
    return Image({MakeFace(f)}, 300 + seed);
  };
  std::vector<std::string> ann_faces, ben_faces;
  for (int i = 0; i < 4; ++i) {
    const bool is_ann = i % 2 == 0;
    v1::IndexFacesRequest index;
    index.set_collection_id("club");
    *index.mutable_image() = Bytes(photo(is_ann ? ann : ben, 0.3f, i));
    auto r = rec_->IndexFaces(index);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->face_records_size(), 1);
    EXPECT_EQ(r->face_records(0).face().user_id(), "");
    (is_ann ? ann_faces : ben_faces).push_back(r->face_records(0).face().face_id());
  }

  v1::CreateUserRequest cu;
  cu.set_collection_id("club");
  cu.set_user_id("ann");
  cu.set_client_request_token("7e1c3a52-0000-4000-8000-000000000001");
  ASSERT_TRUE(rec_->CreateUser(cu).ok());
  ASSERT_TRUE(rec_->CreateUser(cu).ok());  // a retry with the same token
  cu.clear_client_request_token();
  EXPECT_EQ(ErrorReason(ToGrpcWithReason(rec_->CreateUser(cu).status())), "ConflictException");
  cu.set_user_id("ben");
  cu.set_client_request_token("7e1c3a52-0000-4000-8000-000000000001");
  EXPECT_EQ(ErrorReason(ToGrpcWithReason(rec_->CreateUser(cu).status())),
            "IdempotentParameterMismatchException");
  cu.clear_client_request_token();
  ASSERT_TRUE(rec_->CreateUser(cu).ok());
  // Bad input: Rekognition's exceptions, never an internal error.
  for (const char* bad : {"", "has space", "x/y"}) {
    cu.set_user_id(bad);
    EXPECT_EQ(rec_->CreateUser(cu).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  cu.set_user_id(std::string(129, 'u'));
  EXPECT_EQ(rec_->CreateUser(cu).status().code(), absl::StatusCode::kInvalidArgument);
  cu.set_user_id(std::string(128, 'u'));
  cu.set_client_request_token("bad token!");
  EXPECT_EQ(rec_->CreateUser(cu).status().code(), absl::StatusCode::kInvalidArgument);
  cu.set_client_request_token(std::string(65, 't'));
  EXPECT_EQ(rec_->CreateUser(cu).status().code(), absl::StatusCode::kInvalidArgument);
  cu.clear_client_request_token();
  cu.set_collection_id("nope");
  EXPECT_EQ(ErrorReason(ToGrpcWithReason(rec_->CreateUser(cu).status())), "ResourceNotFoundException");

  v1::AssociateFacesRequest af;
  af.set_collection_id("club");
  af.set_user_id("ann");
  for (const auto& id : ann_faces) af.add_face_ids(id);
  af.add_face_ids(ben_faces[0]);  // not ann: under the 75 threshold once ann has a face
  auto assoc = rec_->AssociateFaces(af);
  ASSERT_TRUE(assoc.ok()) << assoc.status();
  // Into an empty user every face goes, so ben's face too; take it back out.
  EXPECT_EQ(assoc->associated_faces_size(), 3);
  EXPECT_EQ(assoc->user_status(), v1::UserStatus::ACTIVE);
  v1::DisassociateFacesRequest df;
  df.set_collection_id("club");
  df.set_user_id("ann");
  df.add_face_ids(ben_faces[0]);
  auto dis = rec_->DisassociateFaces(df);
  ASSERT_TRUE(dis.ok()) << dis.status();
  ASSERT_EQ(dis->disassociated_faces_size(), 1);
  EXPECT_EQ(dis->user_status(), v1::UserStatus::ACTIVE);
  // Now ann has faces: ben's face is refused with its similarity.
  af.clear_face_ids();
  af.add_face_ids(ben_faces[0]);
  assoc = rec_->AssociateFaces(af);
  ASSERT_TRUE(assoc.ok());
  ASSERT_EQ(assoc->unsuccessful_face_associations_size(), 1);
  EXPECT_EQ(assoc->unsuccessful_face_associations(0).reasons(0),
            v1::UnsuccessfulFaceAssociation::LOW_MATCH_CONFIDENCE);
  EXPECT_LT(assoc->unsuccessful_face_associations(0).confidence(), 75);
  af.set_user_match_threshold(0);  // any face passes a 0 threshold
  af.set_user_id("ben");
  for (const auto& id : ben_faces) af.add_face_ids(id);
  assoc = rec_->AssociateFaces(af);
  ASSERT_TRUE(assoc.ok());
  EXPECT_EQ(assoc->associated_faces_size(), 2);  // the repeated id counts once
  af.clear_face_ids();
  EXPECT_EQ(rec_->AssociateFaces(af).status().code(), absl::StatusCode::kInvalidArgument);
  for (int i = 0; i < 101; ++i) af.add_face_ids(ben_faces[0]);
  EXPECT_EQ(rec_->AssociateFaces(af).status().code(), absl::StatusCode::kInvalidArgument);
  af.clear_face_ids();
  af.add_face_ids("not-a-uuid");
  EXPECT_EQ(rec_->AssociateFaces(af).status().code(), absl::StatusCode::kInvalidArgument);
  af.set_face_ids(0, ben_faces[0]);
  af.set_user_match_threshold(101);
  EXPECT_EQ(rec_->AssociateFaces(af).status().code(), absl::StatusCode::kInvalidArgument);
  af.clear_user_match_threshold();
  af.set_user_id("nobody");
  EXPECT_EQ(ErrorReason(ToGrpcWithReason(rec_->AssociateFaces(af).status())),
            "ResourceNotFoundException");

  v1::ListUsersRequest lu;
  lu.set_collection_id("club");
  lu.set_max_results(1);
  auto users = rec_->ListUsers(lu);
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->users_size(), 1);
  EXPECT_EQ(users->users(0).user_id(), "ann");
  EXPECT_EQ(users->users(0).user_status(), v1::UserStatus::ACTIVE);
  ASSERT_FALSE(users->next_token().empty());
  lu.set_next_token(users->next_token());
  users = rec_->ListUsers(lu);
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->users_size(), 1);
  EXPECT_EQ(users->users(0).user_id(), "ben");
  lu.set_max_results(0);
  EXPECT_EQ(rec_->ListUsers(lu).status().code(), absl::StatusCode::kInvalidArgument);
  lu.set_max_results(10);
  lu.set_next_token("bogus");
  EXPECT_EQ(ErrorReason(ToGrpcWithReason(rec_->ListUsers(lu).status())),
            "InvalidPaginationTokenException");
  v1::DescribeCollectionRequest dc;
  dc.set_collection_id("club");
  EXPECT_EQ(rec_->DescribeCollection(dc)->user_count(), 2);
  v1::ListFacesRequest lf;
  lf.set_collection_id("club");
  lf.set_user_id("ben");
  auto listed = rec_->ListFaces(lf);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->faces_size(), 2);
  for (const auto& f : listed->faces()) EXPECT_EQ(f.user_id(), "ben");
  lf.set_user_id("bad user!");
  EXPECT_EQ(rec_->ListFaces(lf).status().code(), absl::StatusCode::kInvalidArgument);

  // Search by image: the user, with the similarity of its nearest face; no face: no matches.
  v1::SearchUsersByImageRequest sbi;
  sbi.set_collection_id("club");
  *sbi.mutable_image() = Bytes(photo(ann, 0.2f, 50));
  auto found = rec_->SearchUsersByImage(sbi);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->user_matches_size(), 1);
  EXPECT_EQ(found->user_matches(0).user().user_id(), "ann");
  EXPECT_EQ(found->user_matches(0).user().user_status(), v1::UserStatus::ACTIVE);
  EXPECT_GE(found->user_matches(0).similarity(), 80);
  EXPECT_TRUE(found->has_searched_face());
  EXPECT_EQ(found->searched_face().face_detail().landmarks_size(), 30);
  *sbi.mutable_image() = Bytes(Image({}, 60));
  found = rec_->SearchUsersByImage(sbi);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->user_matches_size(), 0);
  EXPECT_FALSE(found->has_searched_face());
  // Two faces: the smaller one is unsearched.
  SyntheticFace big, small;
  big.descriptor = DescriptorAtDistance(ben, 0.2f, 61), big.width = 0.4f, big.left = 0.0f;
  small.descriptor = ann, small.width = 0.2f, small.left = 0.6f;
  *sbi.mutable_image() = Bytes(Image({MakeFace(big), MakeFace(small)}, 62));
  found = rec_->SearchUsersByImage(sbi);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->user_matches_size(), 1);
  EXPECT_EQ(found->user_matches(0).user().user_id(), "ben");
  ASSERT_EQ(found->unsearched_faces_size(), 1);
  EXPECT_EQ(found->unsearched_faces(0).reasons(0), v1::UnsearchedFace::FACE_NOT_LARGEST);
  sbi.set_user_match_threshold(-1);
  EXPECT_EQ(rec_->SearchUsersByImage(sbi).status().code(), absl::StatusCode::kInvalidArgument);
  sbi.clear_user_match_threshold();
  sbi.set_max_users(501);
  EXPECT_EQ(rec_->SearchUsersByImage(sbi).status().code(), absl::StatusCode::kInvalidArgument);
  sbi.clear_max_users();
  sbi.set_collection_id("nope");
  EXPECT_EQ(rec_->SearchUsersByImage(sbi).status().code(), absl::StatusCode::kNotFound);

  // Search by user and by face.
  v1::SearchUsersRequest su;
  su.set_collection_id("club");
  su.set_user_id("ann");
  su.set_user_match_threshold(0);
  auto by_user = rec_->SearchUsers(su);
  ASSERT_TRUE(by_user.ok()) << by_user.status();
  EXPECT_EQ(by_user->searched_user().user_id(), "ann");
  ASSERT_EQ(by_user->user_matches_size(), 1);  // ann herself left out
  EXPECT_EQ(by_user->user_matches(0).user().user_id(), "ben");
  EXPECT_LT(by_user->user_matches(0).similarity(), 80);
  su.clear_user_id();
  su.set_face_id(ann_faces[0]);
  su.clear_user_match_threshold();
  auto by_face = rec_->SearchUsers(su);
  ASSERT_TRUE(by_face.ok()) << by_face.status();
  EXPECT_EQ(by_face->searched_face().face_id(), ann_faces[0]);
  ASSERT_EQ(by_face->user_matches_size(), 1);  // through ann's other face
  EXPECT_EQ(by_face->user_matches(0).user().user_id(), "ann");
  su.set_user_id("ann");
  EXPECT_EQ(rec_->SearchUsers(su).status().code(), absl::StatusCode::kInvalidArgument);
  su.clear_face_id();
  su.set_user_id("nobody");
  EXPECT_EQ(rec_->SearchUsers(su).status().code(), absl::StatusCode::kNotFound);
  su.clear_user_id();
  su.set_face_id("00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(rec_->SearchUsers(su).status().code(), absl::StatusCode::kNotFound);

  // A face of a user is not deleted; DeleteUser frees it.
  v1::DeleteFacesRequest del;
  del.set_collection_id("club");
  del.add_face_ids(ann_faces[0]);
  auto deleted = rec_->DeleteFaces(del);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->deleted_faces_size(), 0);
  ASSERT_EQ(deleted->unsuccessful_face_deletions_size(), 1);
  EXPECT_EQ(deleted->unsuccessful_face_deletions(0).user_id(), "ann");
  EXPECT_EQ(deleted->unsuccessful_face_deletions(0).reasons(0),
            v1::UnsuccessfulFaceDeletion::ASSOCIATED_TO_AN_EXISTING_USER);
  v1::DeleteUserRequest du;
  du.set_collection_id("club");
  du.set_user_id("ann");
  ASSERT_TRUE(rec_->DeleteUser(du).ok());
  EXPECT_EQ(ErrorReason(ToGrpcWithReason(rec_->DeleteUser(du).status())), "ResourceNotFoundException");
  deleted = rec_->DeleteFaces(del);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->deleted_faces_size(), 1);
  EXPECT_EQ(rec_->DescribeCollection(dc)->user_count(), 1);
}

TEST_F(RekognitionTest, UsersOverTheAwsJsonEndpoint) {
  aws::CredentialsStore keys;
  ASSERT_TRUE(keys.Add({"AKIDTESTTESTTEST", "secretsecretsecretsecret", ""}).ok());
  aws::AwsJsonEndpoint::Options o;
  o.credentials = &keys;
  o.sigv4.service = "rekognition";
  auto endpoint = aws::AwsJsonEndpoint::Create(o);
  ASSERT_TRUE(endpoint.ok());
  RegisterRekognitionOperations(endpoint->get(), rec_.get());
  auto call = [&](const std::string& op, const nlohmann::json& body) {
    const std::string text = body.dump();
    std::map<std::string, std::string> headers = {{"host", "localhost:8083"},
                                                  {"content-type", "application/x-amz-json-1.1"},
                                                  {"x-amz-target", "RekognitionService." + op}};
    aws::SigningParams p;
    p.credentials = {"AKIDTESTTESTTEST", "secretsecretsecretsecret", ""};
    p.service = "rekognition";
    EXPECT_TRUE(aws::SignRequest(p, "POST", "/", "", text, &headers).ok());
    HttpRequest req;
    req.method = "POST";
    req.path = "/";
    for (auto& [k, v] : headers) req.headers[absl::AsciiStrToLower(k)] = v;
    req.body = text;
    HttpResponse r = (*endpoint)->Handle(req);
    return std::pair{r.status, nlohmann::json::parse(r.body)};
  };
  ASSERT_EQ(call("CreateCollection", {{"CollectionId", "web"}}).first, 200);
  auto [status, j] =
      call("CreateUser",
           {{"CollectionId", "web"}, {"UserId", "u:1"}, {"ClientRequestToken", "token-1"}});
  ASSERT_EQ(status, 200) << j;
  EXPECT_EQ(j, nlohmann::json::object());
  std::tie(status, j) = call("CreateUser", {{"CollectionId", "web"}, {"UserId", "u:1"}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(j["__type"], "ConflictException");
  std::tie(status, j) =
      call("CreateUser",
           {{"CollectionId", "web"}, {"UserId", "u:2"}, {"ClientRequestToken", "token-1"}});
  EXPECT_EQ(j["__type"], "IdempotentParameterMismatchException");
  std::tie(status, j) = call("ListUsers", {{"CollectionId", "web"}});
  ASSERT_EQ(status, 200) << j;
  ASSERT_EQ(j["Users"].size(), 1u);
  EXPECT_EQ(j["Users"][0]["UserId"], "u:1");
  EXPECT_EQ(j["Users"][0]["UserStatus"], "CREATED");
  std::tie(status, j) = call("DescribeCollection", {{"CollectionId", "web"}});
  EXPECT_TRUE(j["UserCount"].is_number());
  EXPECT_EQ(j["UserCount"], 1);

  SyntheticFace f;
  f.descriptor = RandomDescriptor(900);
  const std::string img = Image({MakeFace(f)}, 901);
  std::tie(status, j) =
      call("IndexFaces", {{"CollectionId", "web"}, {"Image", {{"Bytes", aws::Base64Encode(img)}}}});
  ASSERT_EQ(status, 200) << j;
  const std::string face_id = j["FaceRecords"][0]["Face"]["FaceId"];
  std::tie(status, j) =
      call("AssociateFaces", {{"CollectionId", "web"},
                              {"UserId", "u:1"},
                              {"FaceIds", {face_id, "00000000-0000-4000-8000-000000000000"}}});
  ASSERT_EQ(status, 200) << j;
  EXPECT_EQ(j["AssociatedFaces"][0]["FaceId"], face_id);
  EXPECT_EQ(j["UnsuccessfulFaceAssociations"][0]["Reasons"][0], "FACE_NOT_FOUND");
  EXPECT_FALSE(j["UnsuccessfulFaceAssociations"][0].contains("Confidence"));
  EXPECT_EQ(j["UserStatus"], "ACTIVE");
  std::tie(status, j) = call("ListFaces", {{"CollectionId", "web"}, {"UserId", "u:1"}});
  ASSERT_EQ(status, 200) << j;
  EXPECT_EQ(j["Faces"][0]["UserId"], "u:1");
  std::tie(status, j) =
      call("SearchUsersByImage",
           {{"CollectionId", "web"}, {"Image", {{"Bytes", aws::Base64Encode(img)}}}});
  ASSERT_EQ(status, 200) << j;
  ASSERT_EQ(j["UserMatches"].size(), 1u);
  EXPECT_EQ(j["UserMatches"][0]["User"]["UserId"], "u:1");
  EXPECT_EQ(j["UserMatches"][0]["User"]["UserStatus"], "ACTIVE");
  EXPECT_GT(j["UserMatches"][0]["Similarity"].get<double>(), 99);
  EXPECT_TRUE(j["SearchedFace"]["FaceDetail"].contains("BoundingBox"));
  EXPECT_TRUE(j["UnsearchedFaces"].is_array());
  std::tie(status, j) = call("SearchUsers", {{"CollectionId", "web"}, {"FaceId", face_id}});
  ASSERT_EQ(status, 200) << j;
  EXPECT_EQ(j["SearchedFace"]["FaceId"], face_id);
  EXPECT_EQ(j["UserMatches"].size(), 0u);
  std::tie(status, j) = call("DisassociateFaces",
                             {{"CollectionId", "web"}, {"UserId", "u:1"}, {"FaceIds", {face_id}}});
  ASSERT_EQ(status, 200) << j;
  EXPECT_EQ(j["DisassociatedFaces"][0]["FaceId"], face_id);
  EXPECT_EQ(j["UserStatus"], "CREATED");
  // Bad input of every operation: 400 with Rekognition's exception names.
  const std::vector<std::tuple<std::string, nlohmann::json, std::string>> bad = {
      {"CreateUser", {{"CollectionId", "web"}}, "InvalidParameterException"},
      {"CreateUser", {{"CollectionId", "web"}, {"UserId", "a b"}}, "InvalidParameterException"},
      {"CreateUser", {{"CollectionId", "nope"}, {"UserId", "a"}}, "ResourceNotFoundException"},
      {"DeleteUser", {{"CollectionId", "web"}, {"UserId", "zz"}}, "ResourceNotFoundException"},
      {"ListUsers", {{"CollectionId", "web"}, {"MaxResults", 501}}, "InvalidParameterException"},
      {"ListUsers",
       {{"CollectionId", "web"}, {"NextToken", "x"}},
       "InvalidPaginationTokenException"},
      {"AssociateFaces",
       {{"CollectionId", "web"}, {"UserId", "u:1"}, {"FaceIds", nlohmann::json::array()}},
       "InvalidParameterException"},
      {"AssociateFaces",
       {{"CollectionId", "web"}, {"UserId", "u:1"}, {"FaceIds", {"x"}}},
       "InvalidParameterException"},
      {"AssociateFaces",
       {{"CollectionId", "web"},
        {"UserId", "u:1"},
        {"FaceIds", {face_id}},
        {"UserMatchThreshold", 150}},
       "InvalidParameterException"},
      {"DisassociateFaces",
       {{"CollectionId", "web"}, {"UserId", "zz"}, {"FaceIds", {face_id}}},
       "ResourceNotFoundException"},
      {"SearchUsers", {{"CollectionId", "web"}}, "InvalidParameterException"},
      {"SearchUsers",
       {{"CollectionId", "web"}, {"UserId", "u:1"}, {"MaxUsers", 0}},
       "InvalidParameterException"},
      {"SearchUsersByImage",
       {{"CollectionId", "web"}, {"Image", {{"Bytes", aws::Base64Encode("junk")}}}},
       "InvalidImageFormatException"},
      {"SearchUsersByImage", {{"CollectionId", "web"}}, "InvalidParameterException"},
  };
  for (const auto& [op, body, type] : bad) {
    std::tie(status, j) = call(op, body);
    EXPECT_EQ(status, 400) << op << " " << body;
    EXPECT_EQ(j["__type"], type) << op << " " << body << " " << j;
  }
  std::tie(status, j) = call("DeleteUser", {{"CollectionId", "web"}, {"UserId", "u:1"}});
  EXPECT_EQ(status, 200) << j;
}

}  // namespace
}  // namespace stratus::recognition
