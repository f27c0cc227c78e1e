#include "services/ingest/testing/square_detector.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "common/auth/testing/test_keys.h"

namespace stratus::ingest::testing_util {

class SquareDetectorService final : public v1::DetectorService::Service {
 public:
  grpc::Status Detect(grpc::ServerContext*, const v1::DetectRequest* req,
                      v1::DetectResponse* resp) override {
    Run(*req, resp);
    return grpc::Status::OK;
  }
  grpc::Status DetectStream(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::DetectResponse, v1::DetectRequest>* stream) override {
    v1::DetectRequest req;
    while (stream->Read(&req)) {
      v1::DetectResponse resp;
      Run(req, &resp);
      if (!stream->Write(resp)) break;
    }
    return grpc::Status::OK;
  }

 private:
  static void Run(const v1::DetectRequest& req, v1::DetectResponse* resp) {
    resp->set_model(req.model());
    resp->set_sequence(req.sequence());
    const std::string& bytes = req.image().bytes();
    cv::Mat img = cv::imdecode(cv::Mat(1, bytes.size(), CV_8UC1, const_cast<char*>(bytes.data())),
                               cv::IMREAD_GRAYSCALE);
    if (img.empty()) {
      resp->set_error_code(3);
      resp->set_error_message("undecodable image");
      return;
    }
    resp->mutable_image_size()->set_width(img.cols);
    resp->mutable_image_size()->set_height(img.rows);
    if (req.model() != "objects" && req.model() != "faces") return;
    cv::Mat mask;
    cv::threshold(img, mask, 200, 255, cv::THRESH_BINARY);
    cv::Rect r = cv::boundingRect(mask);
    if (r.area() < 25) return;
    if (req.model() == "faces") r.height = std::min(r.height, r.width);  // its head
    auto* d = resp->add_detections();
    d->set_label(req.model() == "faces" ? "face" : "person");
    d->set_confidence(req.model() == "faces" ? 0.8f : 0.9f);
    d->mutable_box()->set_left(static_cast<float>(r.x) / img.cols);
    d->mutable_box()->set_top(static_cast<float>(r.y) / img.rows);
    d->mutable_box()->set_width(static_cast<float>(r.width) / img.cols);
    d->mutable_box()->set_height(static_cast<float>(r.height) / img.rows);
  }
};

SquareDetector::~SquareDetector() {
  if (host) host->Shutdown();
}

std::unique_ptr<SquareDetector> StartSquareDetector() {
  auto d = std::make_unique<SquareDetector>();
  d->service = std::make_unique<SquareDetectorService>();
  auto host = ServiceHost::Create({.service_name = "fake-detector",
                                   .grpc_address = "127.0.0.1",
                                   .http_port = -1,
                                   .drain_deadline = std::chrono::milliseconds(200),
                                   .api_keys = auth::testing::TestKeyStore()});
  if (!host.ok()) return nullptr;
  auth::SetDefaultApiKey(auth::testing::kAdminKey);  // what the code under test sends
  d->host = std::move(*host);
  d->host->AddService(d->service.get(), "stratus.v1.DetectorService");
  if (!d->host->Start().ok()) return nullptr;
  return d;
}

void WriteSquareVideo(const std::string& path, int frames, int fps, int crossing_frames) {
  cv::VideoWriter writer(path, cv::CAP_FFMPEG, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps,
                         cv::Size(320, 180));
  for (int i = 0; i < frames; ++i) {
    cv::Mat frame(180, 320, CV_8UC3, cv::Scalar(30, 30, 30));
    if (i < crossing_frames) {
      int x = 10 + (320 - 60) * i / std::max(1, crossing_frames - 1);
      cv::rectangle(frame, cv::Rect(x, 50, 40, 80), cv::Scalar(255, 255, 255), cv::FILLED);
    }
    writer.write(frame);
  }
}

}  // namespace stratus::ingest::testing_util
