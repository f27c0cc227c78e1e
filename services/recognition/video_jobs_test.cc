// Stored video jobs against a real PostgreSQL (embedded) and real video files written with
// OpenCV, analysed through the Recognizer with stand-in detector backends that see a person (and
// a face) in bright frames only, so that timestamps can be checked.
#include "services/recognition/video_jobs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <thread>

#include <mutex>
#include <nlohmann/json.hpp>

#include "common/aws/aws_error.h"
#include "common/http_server.h"
#include "common/image.h"
#include "common/testing/postgres_suite.h"
#include "runtime/text_reader.h"
#include "services/recognition/face_store.h"
#include "services/recognition/rekognition.h"
#include "services/recognition/schema.h"
#include "services/recognition/testing/fake_analyzers.h"

namespace stratus::recognition {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::stratus::v1;
using ::testing::HasSubstr;

bool Bright(const std::string& jpeg) {
  auto image = DecodeImage(jpeg);
  return image.ok() && cv::mean(*image)[0] > 128;
}

// A person in the middle of every bright frame; nothing in dark ones. UNAVAILABLE while `down`.
class BrightObjects : public ObjectDetector {
 public:
  absl::StatusOr<v1::DetectResponse> Detect(const v1::DetectRequest& request) override {
    ++calls;
    if (down) return absl::UnavailableError("detector down");
    v1::DetectResponse r;
    r.set_model("objects");
    r.set_model_version("test-1");
    if (Bright(request.image().bytes())) {
      auto* d = r.add_detections();
      d->set_label("person");
      d->set_confidence(0.9f);
      d->mutable_box()->set_left(0.25f);
      d->mutable_box()->set_top(0.25f);
      d->mutable_box()->set_width(0.5f);
      d->mutable_box()->set_height(0.5f);
    }
    return r;
  }
  std::atomic<int> calls{0};
  std::atomic<bool> down{false};
};

// One frontal face in every bright frame.
class BrightFaces : public FaceAnalyzer {
 public:
  absl::StatusOr<v1::AnalyzeFacesResponse> AnalyzeFaces(
      const v1::AnalyzeFacesRequest& request) override {
    v1::AnalyzeFacesResponse r;
    if (Bright(request.image().bytes())) *r.add_faces() = testing::MakeFace({});
    return r;
  }
};

// `seconds` of 25 fps video, width x 120, dark before `bright_from_s` and white after, with
// `text` written black on the white frames.
void WriteVideo(const fs::path& path, double seconds, double bright_from_s, int width = 160,
                const std::string& text = "") {
  cv::VideoWriter writer(path.string(), cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 25,
                         cv::Size(width, 120));
  ASSERT_TRUE(writer.isOpened());
  const int frames = static_cast<int>(seconds * 25);
  for (int i = 0; i < frames; ++i) {
    const bool bright = i >= bright_from_s * 25;
    cv::Mat frame(120, width, CV_8UC3, cv::Scalar::all(bright ? 240 : 10));
    if (bright && !text.empty()) {
      cv::putText(frame, text, {20, 75}, cv::FONT_HERSHEY_SIMPLEX, 1.4, cv::Scalar::all(0), 3);
    }
    writer.write(frame);
  }
}

class VideoJobsTest : public testing_util::PostgresSuite {
 protected:
  void SetUp() override {
    db_ = Connect();
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(db_->Migrate("recognition", Migrations()).ok());
    ASSERT_TRUE(db_->Transact([](pqxx::work& tx) {
                     tx.exec("DELETE FROM recognition_video_jobs");
                     return absl::OkStatus();
                   })
                    .ok());
    FaceStore::Options so;
    so.db = db_.get();
    so.listen = false;
    auto store = FaceStore::Create(so);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    Recognizer::Options o;
    o.store = store_.get();
    o.faces = &faces_;
    o.objects = &objects_;
    auto text = runtime::TextReader::Create({.instances = 1});  // Debian's tesseract-ocr-eng
    ASSERT_TRUE(text.ok()) << text.status();
    text_ = std::move(*text);
    o.text = text_.get();
    auto r = Recognizer::Create(o);
    ASSERT_TRUE(r.ok());
    rec_ = std::move(*r);
    media_ = dir() / "media";
    fs::create_directories(media_);
    WriteVideo(media_ / "clip.avi", 3.0, 1.0);
    std::ofstream(media_ / "notes.txt") << "not a video";
    jobs_ = Jobs({});  // no Start(): the tests run jobs with RunOne()
  }

  std::unique_ptr<VideoJobs> Jobs(VideoJobs::Options o) {
    o.db = db_.get();
    o.recognizer = rec_.get();
    o.buckets = {{"media", media_.string()}};
    auto jobs = VideoJobs::Create(o);
    EXPECT_TRUE(jobs.ok()) << jobs.status();
    return jobs.ok() ? std::move(*jobs) : nullptr;
  }

  static v1::StartLabelDetectionRequest LabelsOf(const std::string& bucket,
                                                 const std::string& name) {
    v1::StartLabelDetectionRequest r;
    r.mutable_video()->mutable_s3_object()->set_bucket(bucket);
    r.mutable_video()->mutable_s3_object()->set_name(name);
    return r;
  }

  v1::GetLabelDetectionResponse Labels(const std::string& job_id, int max = 0,
                                       const std::string& token = "",
                                       v1::LabelDetectionSortBy::Value sort = {}) {
    v1::GetLabelDetectionRequest g;
    g.set_job_id(job_id);
    if (max > 0) g.set_max_results(max);
    g.set_next_token(token);
    g.set_sort_by(sort);
    auto r = jobs_->GetLabelDetection(g);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : v1::GetLabelDetectionResponse();
  }

  std::unique_ptr<Database> db_;
  std::unique_ptr<FaceStore> store_;
  BrightFaces faces_;
  BrightObjects objects_;
  std::unique_ptr<runtime::TextReader> text_;
  std::unique_ptr<Recognizer> rec_;
  fs::path media_;
  std::unique_ptr<VideoJobs> jobs_;
};

TEST_F(VideoJobsTest, LabelsOfAVideoAtTheirTimestampsPagedAndSorted) {
  v1::StartLabelDetectionRequest start = LabelsOf("media", "clip.avi");
  start.set_job_tag("door-camera");
  auto started = jobs_->StartLabelDetection(start);
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(started->job_id().size(), 64u);
  v1::GetLabelDetectionResponse waiting = Labels(started->job_id());
  EXPECT_EQ(waiting.job_status(), v1::VideoJobStatus::IN_PROGRESS);
  EXPECT_EQ(waiting.labels_size(), 0);

  auto ran = jobs_->RunOne();
  ASSERT_TRUE(ran.ok()) << ran.status();
  EXPECT_TRUE(*ran);
  auto idle = jobs_->RunOne();
  ASSERT_TRUE(idle.ok());
  EXPECT_FALSE(*idle);  // nothing else waiting

  v1::GetLabelDetectionResponse done = Labels(started->job_id());
  ASSERT_EQ(done.job_status(), v1::VideoJobStatus::SUCCEEDED) << done.status_message();
  EXPECT_EQ(done.job_tag(), "door-camera");
  EXPECT_EQ(done.video().s3_object().name(), "clip.avi");
  EXPECT_EQ(done.video_metadata().frame_width(), 160);
  EXPECT_EQ(done.video_metadata().frame_height(), 120);
  EXPECT_NEAR(done.video_metadata().frame_rate(), 25, 0.01);
  EXPECT_NEAR(done.video_metadata().duration_millis(), 3000, 80);
  EXPECT_EQ(done.video_metadata().codec(), "mjpeg");
  EXPECT_EQ(done.label_model_version(), "test-1");
  // 5 frames a second of the 2 bright seconds (1.0 s to 3.0 s): 10 sightings of a person.
  ASSERT_EQ(done.labels_size(), 10);
  EXPECT_EQ(objects_.calls.load(), 15);  // every sampled frame of 3 s went to the detector
  int64_t previous = -1;
  for (const v1::LabelDetection& l : done.labels()) {
    EXPECT_EQ(l.label().name(), "Person");
    EXPECT_GE(l.timestamp(), 960);
    EXPECT_GT(l.timestamp(), previous);  // by timestamp
    previous = l.timestamp();
    ASSERT_EQ(l.label().instances_size(), 1);
    EXPECT_NEAR(l.label().instances(0).bounding_box().left(), 0.25, 1e-6);
  }
  EXPECT_NEAR(done.labels(1).timestamp() - done.labels(0).timestamp(), 200, 45);

  // Pages of 4: 4, 4, 2, the tokens chaining them; the same items as one page.
  std::vector<int64_t> paged;
  std::string token;
  int pages = 0;
  do {
    v1::GetLabelDetectionResponse page = Labels(started->job_id(), 4, token);
    EXPECT_LE(page.labels_size(), 4);
    for (const auto& l : page.labels()) paged.push_back(l.timestamp());
    token = page.next_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(paged.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(paged[i], done.labels(i).timestamp());
  EXPECT_EQ(Labels(started->job_id(), 0, "", v1::LabelDetectionSortBy::NAME).labels_size(), 10);

  v1::GetLabelDetectionRequest bad;
  bad.set_job_id(started->job_id());
  bad.set_next_token("not-a-token");
  EXPECT_TRUE(aws::IsAwsError(jobs_->GetLabelDetection(bad).status(),
                              "InvalidPaginationTokenException"));
  bad.clear_next_token();
  bad.set_max_results(1001);
  EXPECT_EQ(jobs_->GetLabelDetection(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(VideoJobsTest, FacesOfAVideo) {
  v1::StartFaceDetectionRequest start;
  start.mutable_video()->mutable_s3_object()->set_bucket("media");
  start.mutable_video()->mutable_s3_object()->set_name("clip.avi");
  start.set_face_attributes(v1::FaceAttribute::ALL);
  auto started = jobs_->StartFaceDetection(start);
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_TRUE(jobs_->RunOne().ok());
  v1::GetFaceDetectionRequest g;
  g.set_job_id(started->job_id());
  auto done = jobs_->GetFaceDetection(g);
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_EQ(done->job_status(), v1::VideoJobStatus::SUCCEEDED) << done->status_message();
  ASSERT_EQ(done->faces_size(), 10);
  for (const auto& f : done->faces()) {
    EXPECT_GE(f.timestamp(), 960);
    EXPECT_GT(f.face().confidence(), 50);
    EXPECT_TRUE(f.face().has_pose());
  }
  // A JobId of the other operation is not found.
  v1::GetLabelDetectionRequest other;
  other.set_job_id(started->job_id());
  EXPECT_TRUE(aws::IsAwsError(jobs_->GetLabelDetection(other).status(),
                              "ResourceNotFoundException"));
}

TEST_F(VideoJobsTest, TextOfAVideo) {
  WriteVideo(media_ / "sign.avi", 2.0, 1.0, 480, "OPEN LATE");
  v1::StartTextDetectionRequest start;
  start.mutable_video()->mutable_s3_object()->set_bucket("media");
  start.mutable_video()->mutable_s3_object()->set_name("sign.avi");
  start.mutable_filters()->mutable_word_filter()->set_min_confidence(50);
  auto started = jobs_->StartTextDetection(start);
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_TRUE(jobs_->RunOne().ok());
  v1::GetTextDetectionRequest g;
  g.set_job_id(started->job_id());
  auto done = jobs_->GetTextDetection(g);
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_EQ(done->job_status(), v1::VideoJobStatus::SUCCEEDED) << done->status_message();
  EXPECT_EQ(done->text_model_version(), "3.0");
  int open_lines = 0;
  for (const auto& t : done->text_detections()) {
    EXPECT_GE(t.timestamp(), 960);  // nothing is read in the dark second
    if (t.text_detection().type() == v1::TextTypes::LINE &&
        t.text_detection().detected_text() == "OPEN LATE") {
      ++open_lines;
    }
  }
  EXPECT_GE(open_lines, 4);  // most of the 5 frames of the lit second
  v1::StartTextDetectionRequest bad = start;
  bad.mutable_filters()->mutable_word_filter()->set_min_confidence(150);
  EXPECT_EQ(jobs_->StartTextDetection(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(VideoJobsTest, RequestsAreCheckedAsAwsChecksThem) {
  auto error_of = [&](const v1::StartLabelDetectionRequest& r) {
    return jobs_->StartLabelDetection(r).status();
  };
  EXPECT_TRUE(aws::IsAwsError(error_of(LabelsOf("elsewhere", "clip.avi")),
                              "InvalidS3ObjectException"));
  EXPECT_TRUE(aws::IsAwsError(error_of(LabelsOf("media", "missing.mp4")),
                              "InvalidS3ObjectException"));
  EXPECT_TRUE(aws::IsAwsError(error_of(LabelsOf("media", "../media/../../etc/passwd")),
                              "InvalidS3ObjectException"));
  EXPECT_TRUE(aws::IsAwsError(error_of(LabelsOf("media", "/etc/passwd")),
                              "InvalidS3ObjectException"));
  EXPECT_EQ(error_of(LabelsOf("", "")).code(), absl::StatusCode::kInvalidArgument);
  v1::StartLabelDetectionRequest r = LabelsOf("media", "clip.avi");
  r.set_min_confidence(101);
  EXPECT_EQ(error_of(r).code(), absl::StatusCode::kInvalidArgument);
  r = LabelsOf("media", "clip.avi");
  r.mutable_notification_channel()->set_sns_topic_arn("arn:aws:sns:us-east-1:1:t");
  EXPECT_THAT(error_of(r).message(), HasSubstr("NotificationChannel"));
  r = LabelsOf("media", "clip.avi");
  r.set_job_tag("spaces are not allowed");
  EXPECT_EQ(error_of(r).code(), absl::StatusCode::kInvalidArgument);

  // Idempotency: the same token and parameters, the same job; other parameters refused.
  r = LabelsOf("media", "clip.avi");
  r.set_client_request_token("retry-1");
  auto first = jobs_->StartLabelDetection(r);
  auto again = jobs_->StartLabelDetection(r);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->job_id(), again->job_id());
  r.set_min_confidence(80);
  EXPECT_TRUE(aws::IsAwsError(error_of(r), "IdempotentParameterMismatchException"));

  v1::GetLabelDetectionRequest unknown;
  unknown.set_job_id(std::string(64, 'a'));
  EXPECT_TRUE(aws::IsAwsError(jobs_->GetLabelDetection(unknown).status(),
                              "ResourceNotFoundException"));
}

TEST_F(VideoJobsTest, AtMostMaxJobsInProgress) {
  auto jobs = Jobs({.max_jobs = 2});
  ASSERT_TRUE(jobs->StartLabelDetection(LabelsOf("media", "clip.avi")).ok());
  ASSERT_TRUE(jobs->StartLabelDetection(LabelsOf("media", "clip.avi")).ok());
  EXPECT_TRUE(aws::IsAwsError(jobs->StartLabelDetection(LabelsOf("media", "clip.avi")).status(),
                              "LimitExceededException"));
  ASSERT_TRUE(jobs->RunOne().ok());  // one finishes: room for another
  EXPECT_TRUE(jobs->StartLabelDetection(LabelsOf("media", "clip.avi")).ok());
}

TEST_F(VideoJobsTest, AFileThatIsNoVideoFailsTheJobWithTheReason) {
  auto started = jobs_->StartLabelDetection(LabelsOf("media", "notes.txt"));
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_TRUE(jobs_->RunOne().ok());
  v1::GetLabelDetectionResponse done = Labels(started->job_id());
  EXPECT_EQ(done.job_status(), v1::VideoJobStatus::FAILED);
  EXPECT_THAT(done.status_message(), HasSubstr("not a video"));
}

// A subscriber of a topic, as SNS would deliver to it over HTTP: answers 500 to the first
// `failures` posts, then 200, and keeps every post.
class Subscriber {
 public:
  explicit Subscriber(int failures) : failures_(failures) {
    auto server = HttpServer::Create({.address = "127.0.0.1"});
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    server_->Handle("/sns", [this](const HttpRequest& r) {
      std::lock_guard<std::mutex> lock(mu_);
      posts_.push_back(r);
      return HttpResponse::Text(static_cast<int>(posts_.size()) <= failures_ ? 500 : 200, "");
    });
    EXPECT_TRUE(server_->Start().ok());
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", server_->port(), "/sns"); }
  std::vector<HttpRequest> posts() {
    std::lock_guard<std::mutex> lock(mu_);
    return posts_;
  }

 private:
  const int failures_;
  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  std::vector<HttpRequest> posts_;
};

TEST_F(VideoJobsTest, ANotificationChannelGetsTheCompletionNoticeAsSnsDeliversIt) {
  constexpr char kTopic[] = "arn:aws:sns:us-east-1:123456789012:video-done";
  Subscriber subscriber(/*failures=*/1);  // the first attempt fails: the notice is retried
  VideoJobs::Options o;
  o.notification_topics = {{kTopic, subscriber.url()}};
  o.notification_delivery.attempts = 3;
  o.notification_delivery.first_pause = std::chrono::milliseconds(10);
  auto jobs = Jobs(o);
  ASSERT_NE(jobs, nullptr);

  v1::StartLabelDetectionRequest start = LabelsOf("media", "clip.avi");
  start.set_job_tag("door-camera");
  start.mutable_notification_channel()->set_sns_topic_arn(kTopic);
  start.mutable_notification_channel()->set_role_arn("arn:aws:iam::123456789012:role/video");
  auto started = jobs->StartLabelDetection(start);
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_TRUE(subscriber.posts().empty());  // nothing before the job has ended
  ASSERT_TRUE(jobs->RunOne().ok());

  std::vector<HttpRequest> posts = subscriber.posts();
  ASSERT_EQ(posts.size(), 2u);  // the failed attempt and the delivered one
  EXPECT_EQ(posts[0].body, posts[1].body);
  const HttpRequest& post = posts[1];
  EXPECT_EQ(post.method, "POST");
  EXPECT_EQ(post.Header("x-amz-sns-message-type"), "Notification");
  EXPECT_EQ(post.Header("x-amz-sns-topic-arn"), kTopic);
  nlohmann::json envelope = nlohmann::json::parse(post.body);
  EXPECT_EQ(envelope["Type"], "Notification");
  EXPECT_EQ(envelope["TopicArn"], kTopic);
  EXPECT_EQ(envelope["MessageId"], post.Header("x-amz-sns-message-id"));
  nlohmann::json message = nlohmann::json::parse(envelope["Message"].get<std::string>());
  EXPECT_EQ(message["JobId"], started->job_id());
  EXPECT_EQ(message["Status"], "SUCCEEDED");
  EXPECT_EQ(message["API"], "StartLabelDetection");
  EXPECT_EQ(message["JobTag"], "door-camera");
  EXPECT_EQ(message["Video"]["S3Bucket"], "media");
  EXPECT_EQ(message["Video"]["S3ObjectName"], "clip.avi");
  EXPECT_GT(message["Timestamp"].get<int64_t>(), 1'600'000'000'000);

  // A job that fails notifies too, with FAILED.
  v1::StartLabelDetectionRequest bad = LabelsOf("media", "notes.txt");
  *bad.mutable_notification_channel() = start.notification_channel();
  auto failed = jobs->StartLabelDetection(bad);
  ASSERT_TRUE(failed.ok()) << failed.status();
  ASSERT_TRUE(jobs->RunOne().ok());
  posts = subscriber.posts();
  ASSERT_EQ(posts.size(), 3u);
  message = nlohmann::json::parse(
      nlohmann::json::parse(posts[2].body)["Message"].get<std::string>());
  EXPECT_EQ(message["JobId"], failed->job_id());
  EXPECT_EQ(message["Status"], "FAILED");
  EXPECT_FALSE(message.contains("JobTag"));

  // A topic the service does not know, or a channel without its RoleArn, is refused at Start.
  v1::StartLabelDetectionRequest unknown = start;
  unknown.mutable_notification_channel()->set_sns_topic_arn("arn:aws:sns:us-east-1:1:other");
  EXPECT_THAT(jobs->StartLabelDetection(unknown).status().message(),
              HasSubstr("--notification-topic"));
  v1::StartLabelDetectionRequest no_role = start;
  no_role.mutable_notification_channel()->clear_role_arn();
  EXPECT_THAT(jobs->StartLabelDetection(no_role).status().message(), HasSubstr("RoleArn"));
  // A topic map with a URL that is not http(s) is refused at start-up.
  VideoJobs::Options bad_map;
  bad_map.db = db_.get();
  bad_map.recognizer = rec_.get();
  bad_map.notification_topics = {{kTopic, "ftp://example.org/"}};
  EXPECT_EQ(VideoJobs::Create(bad_map).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(VideoJobsTest, AJobSurvivesItsWorkerAndWaitsOutADetectorOutage) {
  auto started = jobs_->StartLabelDetection(LabelsOf("media", "clip.avi"));
  ASSERT_TRUE(started.ok());
  // Another replica claimed it and died: its lease must run out before anyone runs the job.
  ASSERT_TRUE(db_->Transact([&](pqxx::work& tx) {
                   tx.exec_params(
                       "UPDATE recognition_video_jobs SET lease_owner = 'dead-replica', "
                       "lease_until = now() + interval '600 milliseconds', attempts = 1 WHERE "
                       "job_id = $1",
                       started->job_id());
                   return absl::OkStatus();
                 })
                  .ok());
  auto taken = jobs_->RunOne();
  ASSERT_TRUE(taken.ok());
  EXPECT_FALSE(*taken);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));

  // The detector is down: the job stays IN_PROGRESS (not FAILED) and waits a few seconds.
  objects_.down = true;
  ASSERT_TRUE(jobs_->RunOne().ok());
  EXPECT_EQ(Labels(started->job_id()).job_status(), v1::VideoJobStatus::IN_PROGRESS);
  auto waits = jobs_->RunOne();
  ASSERT_TRUE(waits.ok());
  EXPECT_FALSE(*waits);
  objects_.down = false;
  ASSERT_TRUE(db_->Transact([&](pqxx::work& tx) {  // skip the wait
                   tx.exec("UPDATE recognition_video_jobs SET lease_until = now()");
                   return absl::OkStatus();
                 })
                  .ok());
  ASSERT_TRUE(jobs_->RunOne().ok());
  v1::GetLabelDetectionResponse done = Labels(started->job_id());
  EXPECT_EQ(done.job_status(), v1::VideoJobStatus::SUCCEEDED) << done.status_message();
  EXPECT_EQ(done.labels_size(), 10);
}

TEST_F(VideoJobsTest, WorkerThreadsRunSubmittedJobs) {
  auto jobs = Jobs({.workers = 1, .poll = std::chrono::milliseconds(50)});
  jobs->Start();
  auto started = jobs->StartLabelDetection(LabelsOf("media", "clip.avi"));
  ASSERT_TRUE(started.ok());
  v1::GetLabelDetectionRequest g;
  g.set_job_id(started->job_id());
  v1::VideoJobStatus::Value status = v1::VideoJobStatus::IN_PROGRESS;
  for (int i = 0; i < 200 && status == v1::VideoJobStatus::IN_PROGRESS; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto r = jobs->GetLabelDetection(g);
    ASSERT_TRUE(r.ok());
    status = r->job_status();
  }
  EXPECT_EQ(status, v1::VideoJobStatus::SUCCEEDED);
  jobs->Stop();
}

}  // namespace
}  // namespace stratus::recognition
