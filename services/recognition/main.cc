// stratus-recognition: the Rekognition-compatible face and label API, over gRPC and over the
// AWS JSON 1.1 protocol (HTTP port, path "/", SigV4).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/service_main.h"
#include "services/recognition/aws_endpoint.h"
#include "services/recognition/backends.h"
#include "services/recognition/face_store.h"
#include "services/recognition/recognition_service.h"
#include "services/recognition/rekognition.h"
#include "services/recognition/schema.h"
#include "services/recognition/video_jobs.h"

int main(int argc, char** argv) {
  namespace rec = stratus::recognition;
  stratus::ServiceMain main({.binary = "stratus-recognition",
                             .summary = "The Rekognition-compatible face and label API.",
                             .defaults = stratus::kRecognitionDefaults,
                             .uses_database = true,
                             .aws_service = "rekognition"});
  stratus::FlagSet& flags = main.flags();
  stratus::clients::DetectorClient::Options detector;
  stratus::clients::MaskClient::Options mask;
  mask.timeout = std::chrono::seconds(10);
  rec::Recognizer::Options recognizer;
  stratus::runtime::TextReader::Options text;
  text.max_lines = 500;  // DetectText applies AWS's 50 / 100 after its filters
  text.max_words = 1000;
  rec::FaceStore::Options store_options;
  flags.String("detector", "STRATUS_DETECTOR_ADDR", &detector.address,
               "detector service address (host:port)");
  flags.String("mask", "STRATUS_MASK_ADDR", &mask.address, "mask service address (host:port)");
  flags.String("region", "STRATUS_AWS_REGION", &recognizer.region, "region in collection ARNs");
  flags.String("account", "STRATUS_AWS_ACCOUNT", &recognizer.account, "account in collection ARNs");
  flags.String("file-uri-root", "STRATUS_FILE_URI_ROOT", &recognizer.file_uri_root,
               "folder whose files gRPC callers may name as Image.uri (\"\": none)");
  flags.Int64("graph-threshold", "STRATUS_RECOGNITION_GRAPH_THRESHOLD",
              &store_options.index.graph_threshold,
              "collections of at least this many faces use an HNSW graph instead of exact search");
  rec::VideoJobs::Options video_options;
  flags.StringMap("bucket", "STRATUS_BUCKETS", &video_options.buckets,
                  "NAME=DIR: S3Object.Bucket NAME of stored-video requests names files under "
                  "DIR (repeatable)");
  flags.StringMap("notification-topic", "STRATUS_NOTIFICATION_TOPICS",
                  &video_options.notification_topics,
                  "ARN=URL: a stored-video NotificationChannel.SNSTopicArn ARN posts its job's "
                  "completion notice, as SNS delivers it, to the http(s) URL (repeatable)");
  flags.Int("video-workers", "STRATUS_VIDEO_WORKERS", &video_options.workers,
            "stored-video jobs this process analyses at once");
  flags.String(
      "tessdata", "STRATUS_TESSDATA_DIR", &text.tessdata_dir,
      "Tesseract tessdata folder for DetectText (\"\": $TESSDATA_PREFIX or Tesseract's own)");
  return main.Run(argc, argv, [&](stratus::ServiceContext& ctx) -> absl::Status {
    absl::StatusOr<stratus::Database*> db = ctx.database();
    if (!db.ok()) return db.status();
    store_options.db = *db;
    absl::StatusOr<std::unique_ptr<rec::FaceStore>> store = rec::FaceStore::Create(store_options);
    if (!store.ok()) return store.status();
    rec::FaceStore* faces = ctx.Keep(std::move(*store));
    auto* detector_client = ctx.Make<rec::DetectorBackend>(detector);
    recognizer.store = faces;
    recognizer.faces = detector_client;
    recognizer.objects = detector_client;
    recognizer.masks = ctx.Make<rec::MaskBackend>(mask);
    absl::StatusOr<std::unique_ptr<stratus::runtime::TextReader>> reader =
        stratus::runtime::TextReader::Create(text);
    if (reader.ok()) {
      recognizer.text = ctx.Keep(std::move(*reader));
    } else {
      SLOG(WARNING) << "DetectText is off" << stratus::Kv("error", reader.status().message());
    }
    absl::StatusOr<std::unique_ptr<rec::Recognizer>> created = rec::Recognizer::Create(recognizer);
    if (!created.ok()) return created.status();
    rec::Recognizer* core = ctx.Keep(std::move(*created));
    video_options.db = *db;
    video_options.recognizer = core;
    absl::StatusOr<std::unique_ptr<rec::VideoJobs>> video = rec::VideoJobs::Create(video_options);
    if (!video.ok()) return video.status();
    rec::VideoJobs* jobs = ctx.Keep(std::move(*video));
    ctx.host().AddService(ctx.Make<rec::RecognitionServiceImpl>(core, jobs),
                          "stratus.v1.RecognitionService");
    ctx.host().AddReadinessCheck(
        "database", stratus::DatabaseReadinessCheck(*db, "recognition", rec::Migrations()));
    ctx.host().AddReadinessCheck("face index", [faces]() -> absl::Status {
      return faces->synced() ? absl::OkStatus()
                             : absl::UnavailableError("face collections not loaded yet");
    });
    if (stratus::aws::AwsJsonEndpoint* endpoint = ctx.aws_endpoint()) {
      rec::RegisterRekognitionOperations(endpoint, core, jobs);
    }
    // The face index loads before the host listens (a failure here is a start-up error).
    if (absl::Status s = faces->Start(); !s.ok()) return s;
    jobs->Start();
    return absl::OkStatus();
  });
}
