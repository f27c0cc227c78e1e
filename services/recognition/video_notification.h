// Completion notices of stored-video jobs (video_jobs.h), in place of Amazon SNS: a Start*
// request's NotificationChannel.SNSTopicArn names a topic of the service's topic map
// (--notification-topic ARN=URL), and when the job ends (SUCCEEDED or FAILED) the service POSTs
// what SNS would deliver to an HTTP(S) subscriber of that topic: the SNS envelope (Type
// "Notification", MessageId, TopicArn, Timestamp, Message) whose Message is Rekognition's
// completion JSON (JobId, Status, API, JobTag, Timestamp, Video.S3ObjectName/S3Bucket), with
// SNS's x-amz-sns-message-type, -message-id and -topic-arn headers. The envelope is not signed
// (no Signature, SigningCertURL) and RoleArn is not used. Delivery: a 2xx answer is delivered;
// otherwise it is tried again (attempts, with 1-s, 2-s... pauses) and then given up with a log
// line; a notice whose job ended in a process that died before sending it is not sent.
#ifndef STRATUS_SERVICES_RECOGNITION_VIDEO_NOTIFICATION_H_
#define STRATUS_SERVICES_RECOGNITION_VIDEO_NOTIFICATION_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "stratus/v1/recognition.pb.h"

namespace stratus::recognition {

struct VideoCompletion {
  std::string job_id;
  std::string status;  // SUCCEEDED or FAILED
  std::string api;     // the Start* operation, e.g. StartLabelDetection
  std::string job_tag;
  stratus::v1::Video video;
  int64_t finished_ms = 0;  // Unix time in milliseconds
};

// The SNS HTTP(S) delivery body of `completion` on `topic_arn`, with `message_id`.
std::string SnsNotificationBody(const VideoCompletion& completion, const std::string& topic_arn,
                                const std::string& message_id);

struct NotificationDelivery {
  int attempts = 3;  // >= 1
  std::chrono::milliseconds timeout{5000};   // of each attempt
  std::chrono::milliseconds first_pause{1000};  // doubled after each failed attempt
};

// POSTs the notice of `completion` to `url` as described above. OK once an attempt got a 2xx;
// else the last attempt's error (UNAVAILABLE for an HTTP status, saying which).
absl::Status DeliverNotification(const std::string& url, const std::string& topic_arn,
                                 const VideoCompletion& completion,
                                 const NotificationDelivery& delivery);

}  // namespace stratus::recognition

#endif  // STRATUS_SERVICES_RECOGNITION_VIDEO_NOTIFICATION_H_
