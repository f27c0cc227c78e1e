#include "services/recognition/video_notification.h"

#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/http_client.h"

namespace stratus::recognition {

std::string SnsNotificationBody(const VideoCompletion& completion, const std::string& topic_arn,
                                const std::string& message_id) {
  nlohmann::json message = {
      {"JobId", completion.job_id},
      {"Status", completion.status},
      {"API", completion.api},
      {"Timestamp", completion.finished_ms},
      {"Video",
       {{"S3ObjectName", completion.video.s3_object().name()},
        {"S3Bucket", completion.video.s3_object().bucket()}}},
  };
  if (!completion.job_tag.empty()) message["JobTag"] = completion.job_tag;
  const nlohmann::json envelope = {
      {"Type", "Notification"},
      {"MessageId", message_id},
      {"TopicArn", topic_arn},
      {"Message", message.dump()},
      {"Timestamp", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                                     absl::FromUnixMillis(completion.finished_ms),
                                     absl::UTCTimeZone())},
  };
  return envelope.dump();
}

absl::Status DeliverNotification(const std::string& url, const std::string& topic_arn,
                                 const VideoCompletion& completion,
                                 const NotificationDelivery& delivery) {
  // One message id for every attempt, as SNS retries carry the same.
  const std::string message_id = absl::StrCat(completion.job_id.substr(0, 32), "-",
                                              completion.finished_ms);
  const std::string body = SnsNotificationBody(completion, topic_arn, message_id);
  const std::map<std::string, std::string> headers = {
      {"Content-Type", "text/plain; charset=UTF-8"},
      {"x-amz-sns-message-type", "Notification"},
      {"x-amz-sns-message-id", message_id},
      {"x-amz-sns-topic-arn", topic_arn},
  };
  absl::Status last = absl::OkStatus();
  std::chrono::milliseconds pause = delivery.first_pause;
  for (int attempt = 1; attempt <= std::max(1, delivery.attempts); ++attempt) {
    if (attempt > 1) {
      std::this_thread::sleep_for(pause);
      pause *= 2;
    }
    HttpFetchOptions options;
    options.timeout = delivery.timeout;
    absl::StatusOr<HttpResult> answer = HttpFetch("POST", url, headers, body, options);
    if (answer.ok() && answer->status >= 200 && answer->status < 300) return absl::OkStatus();
    last = answer.ok() ? absl::UnavailableError(absl::StrCat("the subscriber answered HTTP ",
                                                             answer->status))
                       : answer.status();
  }
  return last;
}

}  // namespace stratus::recognition
