#include "services/recognition/video_jobs.h"

#include <unistd.h>

#include <filesystem>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/aws/aws_error.h"
#include "common/logging.h"
#include "common/path_root.h"
#include "common/status_macros.h"
#include "services/recognition/detect_text.h"
#include "services/recognition/rekognition_params.h"
#include "services/recognition/video_analysis.h"

namespace stratus::recognition {
namespace v1 = ::stratus::v1;
namespace fs = std::filesystem;

namespace {

constexpr char kLabels[] = "LabelDetection";
constexpr char kFaces[] = "FaceDetection";
constexpr char kText[] = "TextDetection";
constexpr int kMaxAttempts = 3;  // claims of one job before it is FAILED as abandoned

absl::Status AwsInvalid(absl::string_view type, absl::string_view message) {
  return aws::AwsError(absl::StatusCode::kInvalidArgument, 400, type, message);
}

// Transient: the backends are down, slow or overloaded. The job waits and runs again.
bool Transient(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) || absl::IsResourceExhausted(s);
}

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xF];
  }
  return out;
}

std::string Bytes(const pqxx::field& f) {
  pqxx::binarystring b(f);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string NewJobId() {
  std::random_device random;
  std::string id;
  for (int i = 0; i < 8; ++i) absl::StrAppend(&id, absl::Hex(random(), absl::kZeroPad8));
  return id;  // 64 hex digits, like AWS's
}

std::string DefaultOwner() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, ":", getpid(), ":", NewJobId().substr(0, 8));
}

absl::Status CheckJobTag(const std::string& tag) {
  bool ok = tag.size() <= 256;
  for (char c : tag) {
    ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                c == '-' || c == ':');
  }
  return ok ? absl::OkStatus()
            : params::Invalid("JobTag must be up to 256 characters of [a-zA-Z0-9_.\\-:]");
}

// One stored result: when, the label's name ("" for faces), the serialized proto.
struct Result {
  int64_t timestamp_ms = 0;
  std::string name;
  std::string item;
};

// The offset a Get* NextToken of `kind` carries (0 without one).
absl::StatusOr<int64_t> PageOffset(char kind, const std::string& token) {
  if (token.empty()) return 0;
  STRATUS_ASSIGN_OR_RETURN(const std::string key, DecodePageToken(kind, token));
  int64_t offset = 0;
  if (!absl::SimpleAtoi(key, &offset) || offset < 0) {
    return aws::AwsError(absl::StatusCode::kInvalidArgument, 400, "InvalidPaginationTokenException",
                         "NextToken is not a token this operation returned");
  }
  return offset;
}

// A page of a job's results in `order`: up to max + 1 items, so the caller knows if more follow.
absl::StatusOr<std::vector<std::string>> ReadResults(Database* db, const std::string& job_id,
                                                     const char* order, int max, int64_t offset) {
  return db->Query<std::vector<std::string>>(
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<std::string>> {
        auto r = tx.exec_params(absl::StrCat("SELECT item FROM recognition_video_results WHERE "
                                             "job_id = $1 ORDER BY ",
                                             order, " LIMIT $2 OFFSET $3"),
                                job_id, max + 1, offset);
        std::vector<std::string> out;
        for (const auto& row : r) out.push_back(Bytes(row[0]));
        return out;
      });
}

absl::StatusOr<int> MaxResults(bool has, int value) {
  if (!has) return kMaxVideoResults;
  if (value < 1 || value > kMaxVideoResults) {
    return params::Invalid(absl::StrCat("MaxResults must be within 1-", kMaxVideoResults));
  }
  return value;
}

}  // namespace

struct VideoJobs::Job {
  std::string job_id;
  std::string operation;
  std::string request;  // the serialized Start* request (token cleared)
  std::string path;
  std::string status = "IN_PROGRESS";
  std::string status_message;
  std::string video_metadata;  // serialized VideoMetadata, "" until the file was opened
  std::string model_version;
  int attempts = 0;
};

VideoJobs::VideoJobs(const Options& options) : options_(options) {
  if (options_.owner.empty()) options_.owner = DefaultOwner();
}

VideoJobs::~VideoJobs() { Stop(); }

absl::StatusOr<std::unique_ptr<VideoJobs>> VideoJobs::Create(const Options& options) {
  if (options.db == nullptr || options.recognizer == nullptr) {
    return absl::InvalidArgumentError("VideoJobs needs a database and a Recognizer");
  }
  for (const auto& [bucket, dir] : options.buckets) {
    if (bucket.empty() || dir.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--bucket takes NAME=DIR, both non-empty (got '", bucket, "=", dir, "')"));
    }
  }
  for (const auto& [topic, url] : options.notification_topics) {
    if (topic.empty() || !(absl::StartsWith(url, "http://") || absl::StartsWith(url, "https://"))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--notification-topic takes ARN=URL with an http:// or https:// URL (got '", topic, "=",
          url, "')"));
    }
  }
  if (!(options.sample_fps > 0) || options.workers < 0 || options.max_jobs < 1 ||
      options.lease.count() < 300) {
    return absl::InvalidArgumentError(
        "VideoJobs needs sample_fps > 0, workers >= 0, max_jobs >= 1 and a lease of >= 300 ms");
  }
  return std::unique_ptr<VideoJobs>(new VideoJobs(options));
}

void VideoJobs::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return;
  started_ = true;
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

void VideoJobs::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

void VideoJobs::WorkerLoop() {
  auto last_cleanup = std::chrono::steady_clock::now() - std::chrono::hours(1);
  while (!stopping_) {
    absl::StatusOr<bool> ran = RunOne();
    if (!ran.ok()) {
      SLOG(WARNING) << "stored video: cannot claim a job" << Kv("error", ran.status().message());
    }
    if (ran.ok() && *ran) continue;
    if (std::chrono::steady_clock::now() - last_cleanup > std::chrono::minutes(10)) {
      last_cleanup = std::chrono::steady_clock::now();
      (void)options_.db->Transact([](pqxx::work& tx) {
        tx.exec("DELETE FROM recognition_video_jobs WHERE created_at < now() - interval '7 days'");
        return absl::OkStatus();
      });
    }
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, options_.poll, [this] { return stopping_.load(); });
  }
}

absl::Status VideoJobs::CheckNotificationChannel(const v1::NotificationChannel& channel) const {
  if (channel.sns_topic_arn().empty() && channel.role_arn().empty()) return absl::OkStatus();
  if (channel.sns_topic_arn().empty() || channel.role_arn().empty()) {
    return params::Invalid("NotificationChannel needs both SNSTopicArn and RoleArn");
  }
  if (!options_.notification_topics.contains(channel.sns_topic_arn())) {
    return params::Invalid(absl::StrCat(
        "NotificationChannel.SNSTopicArn '", channel.sns_topic_arn(),
        "' is not a topic of this service (its --notification-topic ARN=URL flags)"));
  }
  return absl::OkStatus();
}

void VideoJobs::Notify(const std::string& topic_arn, VideoCompletion completion) {
  auto topic = options_.notification_topics.find(topic_arn);
  if (topic == options_.notification_topics.end()) return;
  completion.finished_ms = absl::ToUnixMillis(absl::Now());
  absl::Status delivered =
      DeliverNotification(topic->second, topic_arn, completion, options_.notification_delivery);
  if (delivered.ok()) {
    SLOG(INFO) << "stored video: completion notice delivered" << Kv("job", completion.job_id)
               << Kv("topic", topic_arn);
  } else {
    SLOG(WARNING) << "stored video: completion notice not delivered"
                  << Kv("job", completion.job_id) << Kv("topic", topic_arn)
                  << Kv("error", delivered.message());
  }
}

absl::StatusOr<std::string> VideoJobs::Resolve(const v1::Video& video) const {
  const v1::S3Object& object = video.s3_object();
  if (object.bucket().empty() || object.name().empty()) {
    return params::Invalid("Video.S3Object needs a Bucket and a Name");
  }
  auto bucket = options_.buckets.find(object.bucket());
  if (bucket == options_.buckets.end()) {
    return AwsInvalid("InvalidS3ObjectException",
                      absl::StrCat("bucket '", object.bucket(),
                                   "' is not one this service serves (its --bucket flags)"));
  }
  const fs::path name = fs::path(object.name()).lexically_normal();
  absl::StatusOr<fs::path> resolved =
      name.is_absolute() ? absl::PermissionDeniedError("absolute")
                         : ResolveUnderRoot((fs::path(bucket->second) / name).string(),
                                            bucket->second);
  if (!resolved.ok()) {  // "..", or a link, leading out of the bucket's folder
    return AwsInvalid("InvalidS3ObjectException",
                      absl::StrCat("object name '", object.name(), "' leaves its bucket"));
  }
  const fs::path& path = *resolved;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return AwsInvalid("InvalidS3ObjectException",
                      absl::StrCat("no object '", object.name(), "' in bucket '", object.bucket(),
                                   "'"));
  }
  const auto size = fs::file_size(path, ec);
  if (!ec && static_cast<int64_t>(size) > kMaxVideoBytes) {
    return AwsInvalid("VideoTooLargeException",
                      absl::StrCat("the video is ", size, " bytes; the limit is 10 GiB"));
  }
  return path.string();
}

absl::StatusOr<std::string> VideoJobs::Submit(const std::string& operation,
                                              const std::string& token,
                                              const google::protobuf::Message& request,
                                              const v1::Video& video) {
  STRATUS_ASSIGN_OR_RETURN(const std::string path, Resolve(video));
  const std::string serialized = request.SerializeAsString();
  auto job_id = options_.db->Query<std::string>([&](pqxx::work& tx) -> absl::StatusOr<std::string> {
    // One submission at a time, so that the limit and the token are checked consistently.
    tx.exec("SELECT pg_advisory_xact_lock(hashtextextended('recognition_video_jobs', 0))");
    if (!token.empty()) {
      auto r = tx.exec_params(
          "SELECT job_id, request FROM recognition_video_jobs WHERE operation = $1 AND "
          "client_token = $2",
          operation, token);
      if (!r.empty()) {
        if (Bytes(r[0][1]) != serialized) {
          return aws::AwsError(absl::StatusCode::kInvalidArgument, 400,
                               "IdempotentParameterMismatchException",
                               "ClientRequestToken was used before with other parameters");
        }
        return std::string(r[0][0].c_str());
      }
    }
    const int64_t running =
        tx.exec1("SELECT count(*) FROM recognition_video_jobs WHERE status = 'IN_PROGRESS'")[0]
            .as<int64_t>();
    if (running >= options_.max_jobs) {
      return aws::AwsError(absl::StatusCode::kResourceExhausted, 400, "LimitExceededException",
                           absl::StrCat(running, " video jobs are in progress; the limit is ",
                                        options_.max_jobs));
    }
    const std::string id = NewJobId();
    tx.exec_params(
        "INSERT INTO recognition_video_jobs (job_id, operation, client_token, request, path) "
        "VALUES ($1, $2, NULLIF($3, ''), $4::bytea, $5)",
        id, operation, token, Hex(serialized), path);
    return id;
  });
  if (job_id.ok()) wake_.notify_one();
  return job_id;
}

absl::StatusOr<VideoJobs::Job> VideoJobs::Load(const std::string& operation,
                                               const std::string& job_id) {
  if (job_id.empty() || job_id.size() > 64) {
    return params::Invalid("JobId must be 1-64 characters, as Start* returned it");
  }
  return options_.db->Query<Job>([&](pqxx::work& tx) -> absl::StatusOr<Job> {
    auto r = tx.exec_params(
        "SELECT request, path, status, status_message, video_metadata, model_version, attempts "
        "FROM recognition_video_jobs WHERE job_id = $1 AND operation = $2",
        job_id, operation);
    if (r.empty()) {
      return aws::AwsError(absl::StatusCode::kNotFound, 400, "ResourceNotFoundException",
                           absl::StrCat("no ", operation, " job ", job_id));
    }
    Job job;
    job.job_id = job_id;
    job.operation = operation;
    job.request = Bytes(r[0][0]);
    job.path = r[0][1].c_str();
    job.status = r[0][2].c_str();
    job.status_message = r[0][3].c_str();
    if (!r[0][4].is_null()) job.video_metadata = Bytes(r[0][4]);
    job.model_version = r[0][5].c_str();
    job.attempts = r[0][6].as<int>();
    return job;
  });
}

absl::StatusOr<bool> VideoJobs::RunOne() {
  auto claimed = options_.db->Query<std::optional<Job>>(
      [&](pqxx::work& tx) -> absl::StatusOr<std::optional<Job>> {
        auto r = tx.exec_params(
            "UPDATE recognition_video_jobs SET lease_owner = $1, lease_until = now() + $2 * "
            "interval '1 millisecond', attempts = attempts + 1 WHERE job_id = (SELECT job_id FROM "
            "recognition_video_jobs WHERE status = 'IN_PROGRESS' AND (lease_until IS NULL OR "
            "lease_until < now()) ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
            "RETURNING job_id, operation, request, path, attempts",
            options_.owner, static_cast<int64_t>(options_.lease.count()));
        if (r.empty()) return std::optional<Job>();
        Job job;
        job.job_id = r[0][0].c_str();
        job.operation = r[0][1].c_str();
        job.request = Bytes(r[0][2]);
        job.path = r[0][3].c_str();
        job.attempts = r[0][4].as<int>();
        return std::optional<Job>(std::move(job));
      });
  if (!claimed.ok()) return claimed.status();
  if (!claimed->has_value()) return false;
  const Job& job = **claimed;
  absl::Status s = Run(job);
  if (!s.ok()) {
    SLOG(WARNING) << "stored video: job not finished" << Kv("job", job.job_id)
                  << Kv("error", s.message());
  }
  return true;
}

absl::Status VideoJobs::Run(const Job& job) {
  SLOG(INFO) << "stored video: job started" << Kv("job", job.job_id)
             << Kv("operation", job.operation) << Kv("attempt", job.attempts);
  const auto started = std::chrono::steady_clock::now();
  // Ends the job with `status` if this worker still holds its lease.
  auto finish = [&](const std::string& status, const std::string& message,
                    const std::vector<Result>& results, const std::string& metadata,
                    const std::string& model_version) {
    return options_.db->Transact([&](pqxx::work& tx) -> absl::Status {
      auto mine = tx.exec_params(
          "SELECT 1 FROM recognition_video_jobs WHERE job_id = $1 AND lease_owner = $2 AND "
          "status = 'IN_PROGRESS' FOR UPDATE",
          job.job_id, options_.owner);
      if (mine.empty()) return absl::AbortedError("the job's lease went to another worker");
      tx.exec_params("DELETE FROM recognition_video_results WHERE job_id = $1", job.job_id);
      for (size_t i = 0; i < results.size(); ++i) {
        tx.exec_params(
            "INSERT INTO recognition_video_results (job_id, seq, timestamp_ms, name, item) "
            "VALUES ($1, $2, $3, $4, $5::bytea)",
            job.job_id, static_cast<int>(i), results[i].timestamp_ms, results[i].name,
            Hex(results[i].item));
      }
      tx.exec_params(
          "UPDATE recognition_video_jobs SET status = $2, status_message = $3, video_metadata = "
          "NULLIF($4, '')::bytea, model_version = $5, lease_owner = NULL, lease_until = NULL, "
          "finished_at = now() WHERE job_id = $1",
          job.job_id, status, message, metadata.empty() ? "" : Hex(metadata), model_version);
      return absl::OkStatus();
    });
  };
  // Gives the lease back without finishing: another claim runs the job again (after `delay`).
  auto release = [&](std::chrono::milliseconds delay) {
    return options_.db->Transact([&](pqxx::work& tx) -> absl::Status {
      tx.exec_params(
          "UPDATE recognition_video_jobs SET lease_owner = NULL, lease_until = now() + $3 * "
          "interval '1 millisecond', attempts = greatest(attempts - 1, 0) WHERE job_id = $1 AND "
          "lease_owner = $2",
          job.job_id, options_.owner, static_cast<int64_t>(delay.count()));
      return absl::OkStatus();
    });
  };
  v1::StartLabelDetectionRequest labels_request;
  v1::StartFaceDetectionRequest faces_request;
  v1::StartTextDetectionRequest text_request;
  const bool parsed = job.operation == kLabels  ? labels_request.ParseFromString(job.request)
                      : job.operation == kFaces ? faces_request.ParseFromString(job.request)
                      : job.operation == kText  ? text_request.ParseFromString(job.request)
                                                : false;
  if (!parsed) return finish("FAILED", "the stored request could not be read", {}, "", "");
  // The completion notice's fields, which every Start* request has alike.
  VideoCompletion completion;
  completion.job_id = job.job_id;
  completion.api = absl::StrCat("Start", job.operation);
  std::string topic_arn;
  auto notice_of = [&](const auto& request) {
    topic_arn = request.notification_channel().sns_topic_arn();
    completion.job_tag = request.job_tag();
    completion.video = request.video();
  };
  if (job.operation == kLabels) notice_of(labels_request);
  if (job.operation == kFaces) notice_of(faces_request);
  if (job.operation == kText) notice_of(text_request);
  // Ends the job as finish() does, then posts its completion notice when it asked for one.
  auto end = [&](const std::string& status, const std::string& message,
                 const std::vector<Result>& results, const std::string& metadata,
                 const std::string& model_version) {
    absl::Status s = finish(status, message, results, metadata, model_version);
    if (s.ok() && !topic_arn.empty()) {
      completion.status = status;
      Notify(topic_arn, completion);
    }
    return s;
  };
  if (job.attempts > kMaxAttempts) {
    return end("FAILED",
               absl::StrCat("the job was abandoned ", kMaxAttempts,
                            " times (its worker stopped or crashed while analysing the video)"),
               {}, "", "");
  }
  std::vector<Result> results;
  std::string metadata, model_version;
  auto renewed = std::chrono::steady_clock::now();
  bool lost = false;
  VideoAnalysisOptions analysis;
  analysis.sample_fps = options_.sample_fps;
  analysis.on_open = [&](const v1::VideoMetadata& m) { metadata = m.SerializeAsString(); };
  analysis.keep_going = [&] {
    if (stopping_) return false;
    if (std::chrono::steady_clock::now() - renewed < options_.lease / 3) return true;
    renewed = std::chrono::steady_clock::now();
    absl::Status s = options_.db->Transact([&](pqxx::work& tx) -> absl::Status {
      auto r = tx.exec_params(
          "UPDATE recognition_video_jobs SET lease_until = now() + $3 * interval '1 "
          "millisecond' WHERE job_id = $1 AND lease_owner = $2",
          job.job_id, options_.owner, static_cast<int64_t>(options_.lease.count()));
      return r.affected_rows() == 1 ? absl::OkStatus() : absl::AbortedError("lease lost");
    });
    lost = absl::IsAborted(s);
    return !lost;  // a database error: carry on, the finish will tell
  };
  absl::Status analysed = AnalyseVideo(
      job.path, analysis, [&](int64_t ms, const std::string& jpeg) -> absl::Status {
        v1::Image image;
        image.set_bytes(jpeg);
        if (job.operation == kLabels) {
          v1::DetectLabelsRequest r;
          *r.mutable_image() = std::move(image);
          r.set_min_confidence(labels_request.has_min_confidence() ? labels_request.min_confidence()
                                                                   : 50.0f);
          STRATUS_ASSIGN_OR_RETURN(v1::DetectLabelsResponse found,
                                   options_.recognizer->DetectLabels(r));
          model_version = found.label_model_version();
          for (v1::Label& l : *found.mutable_labels()) {
            v1::LabelDetection d;
            d.set_timestamp(ms);
            *d.mutable_label() = std::move(l);
            results.push_back({ms, d.label().name(), d.SerializeAsString()});
          }
        } else if (job.operation == kText) {
          v1::DetectTextRequest r;
          *r.mutable_image() = std::move(image);
          *r.mutable_filters() = text_request.filters();
          STRATUS_ASSIGN_OR_RETURN(v1::DetectTextResponse found,
                                   options_.recognizer->DetectText(r));
          model_version = found.text_model_version();
          for (v1::TextDetection& t : *found.mutable_text_detections()) {
            v1::TextDetectionResult d;
            d.set_timestamp(ms);
            *d.mutable_text_detection() = std::move(t);
            results.push_back({ms, "", d.SerializeAsString()});
          }
        } else {
          v1::DetectFacesRequest r;
          *r.mutable_image() = std::move(image);
          r.add_attributes(faces_request.face_attributes() == v1::FaceAttribute::ALL
                               ? v1::FaceAttribute::ALL
                               : v1::FaceAttribute::DEFAULT);
          STRATUS_ASSIGN_OR_RETURN(v1::DetectFacesResponse found,
                                   options_.recognizer->DetectFaces(r));
          for (v1::FaceDetail& f : *found.mutable_face_details()) {
            v1::FaceDetection d;
            d.set_timestamp(ms);
            *d.mutable_face() = std::move(f);
            results.push_back({ms, "", d.SerializeAsString()});
          }
        }
        return absl::OkStatus();
      });
  if (absl::IsCancelled(analysed)) {
    if (lost) return absl::AbortedError("the job's lease went to another worker");
    (void)release(std::chrono::milliseconds(0));
    return analysed;
  }
  if (Transient(analysed)) {
    (void)release(std::chrono::seconds(5));
    return analysed;
  }
  if (!analysed.ok()) {
    return end("FAILED", std::string(analysed.message()), {}, metadata, model_version);
  }
  absl::Status done = end("SUCCEEDED", "", results, metadata, model_version);
  if (done.ok()) {
    SLOG(INFO) << "stored video: job succeeded" << Kv("job", job.job_id)
               << Kv("results", static_cast<int64_t>(results.size()))
               << Kv("ms", std::chrono::duration<double, std::milli>(
                               std::chrono::steady_clock::now() - started)
                               .count());
  }
  return done;
}

absl::StatusOr<v1::StartLabelDetectionResponse> VideoJobs::StartLabelDetection(
    const v1::StartLabelDetectionRequest& request) {
  if (request.has_min_confidence() &&
      !(request.min_confidence() >= 0 && request.min_confidence() <= 100)) {
    return params::Invalid("MinConfidence must be within 0-100");
  }
  STRATUS_RETURN_IF_ERROR(CheckNotificationChannel(request.notification_channel()));
  STRATUS_RETURN_IF_ERROR(CheckJobTag(request.job_tag()));
  STRATUS_ASSIGN_OR_RETURN(RequestToken token, params::TokenOf(kLabels, request));
  v1::StartLabelDetectionRequest stored = request;
  stored.clear_client_request_token();
  v1::StartLabelDetectionResponse response;
  STRATUS_ASSIGN_OR_RETURN(*response.mutable_job_id(),
                           Submit(kLabels, token.token, stored, request.video()));
  return response;
}

absl::StatusOr<v1::StartFaceDetectionResponse> VideoJobs::StartFaceDetection(
    const v1::StartFaceDetectionRequest& request) {
  const auto attributes = request.face_attributes();
  if (attributes != v1::FaceAttribute::FACE_ATTRIBUTE_UNSPECIFIED &&
      attributes != v1::FaceAttribute::DEFAULT && attributes != v1::FaceAttribute::ALL) {
    return params::Invalid("FaceAttributes must be DEFAULT or ALL");
  }
  STRATUS_RETURN_IF_ERROR(CheckNotificationChannel(request.notification_channel()));
  STRATUS_RETURN_IF_ERROR(CheckJobTag(request.job_tag()));
  STRATUS_ASSIGN_OR_RETURN(RequestToken token, params::TokenOf(kFaces, request));
  v1::StartFaceDetectionRequest stored = request;
  stored.clear_client_request_token();
  v1::StartFaceDetectionResponse response;
  STRATUS_ASSIGN_OR_RETURN(*response.mutable_job_id(),
                           Submit(kFaces, token.token, stored, request.video()));
  return response;
}

absl::StatusOr<v1::StartTextDetectionResponse> VideoJobs::StartTextDetection(
    const v1::StartTextDetectionRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckTextFilters(request.filters()));
  STRATUS_RETURN_IF_ERROR(CheckNotificationChannel(request.notification_channel()));
  STRATUS_RETURN_IF_ERROR(CheckJobTag(request.job_tag()));
  STRATUS_ASSIGN_OR_RETURN(RequestToken token, params::TokenOf(kText, request));
  v1::StartTextDetectionRequest stored = request;
  stored.clear_client_request_token();
  v1::StartTextDetectionResponse response;
  STRATUS_ASSIGN_OR_RETURN(*response.mutable_job_id(),
                           Submit(kText, token.token, stored, request.video()));
  return response;
}

namespace {

// The job's status fields into a Get* response.
template <typename Response>
void Describe(const std::string& job_id, const std::string& status, const std::string& message,
              const std::string& metadata, Response* response) {
  v1::VideoJobStatus::Value value = v1::VideoJobStatus::IN_PROGRESS;
  v1::VideoJobStatus::Value_Parse(status, &value);
  response->set_job_status(value);
  response->set_status_message(message);
  response->set_job_id(job_id);
  if (!metadata.empty()) response->mutable_video_metadata()->ParseFromString(metadata);
}

// The model version each Get* names (the job's, as its analysis recorded it).
void SetModelVersion(const std::string& version, v1::GetLabelDetectionResponse* r) {
  r->set_label_model_version(version);
}
void SetModelVersion(const std::string&, v1::GetFaceDetectionResponse*) {}
void SetModelVersion(const std::string&, v1::GetTextDetectionResponse* r) {
  r->set_text_model_version(kTextModelVersion);
}

}  // namespace

template <typename Start, typename Request, typename Response>
absl::StatusOr<Response> VideoJobs::Get(
    const char* operation, char token_kind, const Request& request, const char* order,
    const std::function<void(const std::string&, Response*)>& add) {
  STRATUS_ASSIGN_OR_RETURN(const int max, MaxResults(request.has_max_results(),
                                                     request.max_results()));
  STRATUS_ASSIGN_OR_RETURN(const int64_t offset, PageOffset(token_kind, request.next_token()));
  STRATUS_ASSIGN_OR_RETURN(const Job job, Load(operation, request.job_id()));
  Response response;
  Describe(job.job_id, job.status, job.status_message, job.video_metadata, &response);
  SetModelVersion(job.model_version, &response);
  Start started;
  started.ParseFromString(job.request);
  *response.mutable_video() = started.video();
  response.set_job_tag(started.job_tag());
  if (job.status != "SUCCEEDED") return response;
  STRATUS_ASSIGN_OR_RETURN(const std::vector<std::string> items,
                           ReadResults(options_.db, job.job_id, order, max, offset));
  for (size_t i = 0; i < items.size() && static_cast<int>(i) < max; ++i) add(items[i], &response);
  if (static_cast<int>(items.size()) > max) {
    response.set_next_token(EncodePageToken(token_kind, absl::StrCat(offset + max)));
  }
  return response;
}

absl::StatusOr<v1::GetLabelDetectionResponse> VideoJobs::GetLabelDetection(
    const v1::GetLabelDetectionRequest& request) {
  const char* order = request.sort_by() == v1::LabelDetectionSortBy::NAME
                          ? "name, timestamp_ms, seq"
                          : "timestamp_ms, name, seq";
  return Get<v1::StartLabelDetectionRequest, v1::GetLabelDetectionRequest,
             v1::GetLabelDetectionResponse>(
      kLabels, 'L', request, order,
      [](const std::string& item, v1::GetLabelDetectionResponse* r) {
        r->add_labels()->ParseFromString(item);
      });
}

absl::StatusOr<v1::GetFaceDetectionResponse> VideoJobs::GetFaceDetection(
    const v1::GetFaceDetectionRequest& request) {
  return Get<v1::StartFaceDetectionRequest, v1::GetFaceDetectionRequest,
             v1::GetFaceDetectionResponse>(
      kFaces, 'F', request, "timestamp_ms, seq",
      [](const std::string& item, v1::GetFaceDetectionResponse* r) {
        r->add_faces()->ParseFromString(item);
      });
}

absl::StatusOr<v1::GetTextDetectionResponse> VideoJobs::GetTextDetection(
    const v1::GetTextDetectionRequest& request) {
  return Get<v1::StartTextDetectionRequest, v1::GetTextDetectionRequest,
             v1::GetTextDetectionResponse>(
      kText, 'T', request, "timestamp_ms, seq",
      [](const std::string& item, v1::GetTextDetectionResponse* r) {
        r->add_text_detections()->ParseFromString(item);
      });
}

}  // namespace stratus::recognition
