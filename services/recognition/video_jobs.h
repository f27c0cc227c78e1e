// Stored video (recognition.proto "Stored video"): Rekognition Video's StartLabelDetection /
// GetLabelDetection, StartFaceDetection / GetFaceDetection and StartTextDetection /
// GetTextDetection.
//
// Jobs and their results live in PostgreSQL (schema.cc, migration 3). Start* checks the request
// and the file, stores the job (IN_PROGRESS) and answers its JobId. Worker threads claim a job
// with a lease (`FOR UPDATE SKIP LOCKED`, renewed while it runs), analyse the file
// (video_analysis.h, through the Recognizer's DetectLabels / DetectFaces / DetectText) and store
// the results and the final status in one transaction, provided they still hold the lease. A
// job whose lease ran out (its worker or replica died) is claimed again and run from the start, so a job
// survives restarts; a worker that stops gives its lease back. Get* reads the job and pages
// through its results. A job whose request has a NotificationChannel posts its completion
// notice once it has ended (video_notification.h). Jobs older than 7 days are deleted with
// their results.
//
// Errors (AWS's exception names, common/aws/aws_error.h): InvalidS3ObjectException (bucket not
// in the map, a path leaving its folder, no such file), VideoTooLargeException (over 10 GiB),
// LimitExceededException (max_jobs in progress), IdempotentParameterMismatchException (a
// ClientRequestToken reused with other parameters), InvalidParameterException (ranges, a
// NotificationChannel whose topic is not in the topic map), ResourceNotFoundException (Get*
// of an unknown JobId, or a JobId of the other operation), InvalidPaginationTokenException.
//
// Thread-safe. Pointers in Options are not owned and must outlive the object.
#ifndef STRATUS_SERVICES_RECOGNITION_VIDEO_JOBS_H_
#define STRATUS_SERVICES_RECOGNITION_VIDEO_JOBS_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/db.h"
#include "services/recognition/rekognition.h"
#include "services/recognition/video_notification.h"
#include "stratus/v1/recognition.pb.h"

namespace stratus::recognition {

inline constexpr int kMaxVideoJobs = 20;                // in progress at once (AWS's default)
inline constexpr int64_t kMaxVideoBytes = int64_t{10} << 30;  // 10 GiB
inline constexpr int kMaxVideoResults = 1000;           // MaxResults of Get*

class VideoJobs {
 public:
  struct Options {
    Database* db = nullptr;          // required; migrated (schema.cc)
    Recognizer* recognizer = nullptr;  // required: analyses each sampled frame
    // The bucket map: S3Object.Bucket -> folder holding its objects.
    std::map<std::string, std::string> buckets;
    // The topic map: NotificationChannel.SNSTopicArn -> the http(s):// URL its completion
    // notices are POSTed to (video_notification.h). Empty: a NotificationChannel is refused.
    std::map<std::string, std::string> notification_topics;
    NotificationDelivery notification_delivery;
    int workers = 1;              // jobs analysed at once by this process
    double sample_fps = 5;        // frames analysed per second of video
    int max_jobs = kMaxVideoJobs;
    std::chrono::milliseconds lease{30000};  // renewed every third of it while a job runs
    std::chrono::milliseconds poll{1000};    // how often idle workers look for jobs
    std::string owner;  // who holds a lease, in the table; "" = host name, pid and a random part
  };

  // InvalidArgument for bad options (no db or recognizer, a bucket name or folder empty).
  static absl::StatusOr<std::unique_ptr<VideoJobs>> Create(const Options& options);
  ~VideoJobs();  // Stop()
  VideoJobs(const VideoJobs&) = delete;
  VideoJobs& operator=(const VideoJobs&) = delete;

  // Starts the worker threads (once).
  void Start();
  // Stops them: a job being analysed is abandoned and its lease given back. Idempotent.
  void Stop();

  absl::StatusOr<stratus::v1::StartLabelDetectionResponse> StartLabelDetection(
      const stratus::v1::StartLabelDetectionRequest& request);
  absl::StatusOr<stratus::v1::GetLabelDetectionResponse> GetLabelDetection(
      const stratus::v1::GetLabelDetectionRequest& request);
  absl::StatusOr<stratus::v1::StartFaceDetectionResponse> StartFaceDetection(
      const stratus::v1::StartFaceDetectionRequest& request);
  absl::StatusOr<stratus::v1::GetFaceDetectionResponse> GetFaceDetection(
      const stratus::v1::GetFaceDetectionRequest& request);
  absl::StatusOr<stratus::v1::StartTextDetectionResponse> StartTextDetection(
      const stratus::v1::StartTextDetectionRequest& request);
  absl::StatusOr<stratus::v1::GetTextDetectionResponse> GetTextDetection(
      const stratus::v1::GetTextDetectionRequest& request);

  // Claims one job whose lease is free and runs it on this thread (the workers' loop body; for
  // tests). false when no job was waiting.
  absl::StatusOr<bool> RunOne();

 private:
  struct Job;
  explicit VideoJobs(const Options& options);
  // The file S3Object names, checked.
  absl::StatusOr<std::string> Resolve(const stratus::v1::Video& video) const;
  // A Start* request's NotificationChannel: none, or a topic of the topic map with a RoleArn.
  absl::Status CheckNotificationChannel(const stratus::v1::NotificationChannel& channel) const;
  // Posts `completion` (all but finished_ms filled in) to the URL of `topic_arn` in the topic
  // map, if there; a failed delivery is logged.
  void Notify(const std::string& topic_arn, VideoCompletion completion);
  // Stores a new job (or finds the one a ClientRequestToken already made).
  absl::StatusOr<std::string> Submit(const std::string& operation, const std::string& token,
                                     const google::protobuf::Message& request,
                                     const stratus::v1::Video& video);
  absl::StatusOr<Job> Load(const std::string& operation, const std::string& job_id);
  // Get*'s common part: the job of `operation` (its Start* request of type Start), its status
  // fields, and once SUCCEEDED its page of results in `order`, each added by `add`.
  template <typename Start, typename Request, typename Response>
  absl::StatusOr<Response> Get(const char* operation, char token_kind, const Request& request,
                               const char* order,
                               const std::function<void(const std::string&, Response*)>& add);
  absl::Status Run(const Job& job);
  void WorkerLoop();

  Options options_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable wake_;  // a job was submitted, or Stop()
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_VIDEO_JOBS_H_
