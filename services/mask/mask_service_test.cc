// The mask service over a real gRPC server on a free port (ServiceHost): request validation and
// image errors, crops and boxes on a tiny TorchScript classifier, the detector path (a stand-in
// detector over gRPC, an unreachable one), readiness, the `classify-mask` command; and the full
// path on the photos of ../shared/data/photos with the real detector (`faces`) and the trained
// mask model when $STRATUS_MODEL_DIR has them (STRATUS_REQUIRE_MODELS=1: their absence fails).
#include "services/mask/mask_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "common/auth/testing/test_keys.h"
#include "common/image.h"
#include "common/paths.h"
#include "common/service_host.h"
#include "common/status.h"
#include "services/detector/detector.h"
#include "services/detector/detector_service.h"
#include "services/mask/detector_client.h"
#include "cli/mask.h"
#include "services/mask/testing/tiny_mask_model.h"
#include "stratus/v1/detector.grpc.pb.h"

namespace stratus::mask {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::stratus::cli::RunClassifyMaskCommand;

std::string Encode(const cv::Mat& rgb, const char* ext = ".png") {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<uchar> buf;
  cv::imencode(ext, bgr, buf);
  return std::string(buf.begin(), buf.end());
}

cv::Mat Solid(int w, int h, const cv::Scalar& rgb) { return cv::Mat(h, w, CV_8UC3, rgb); }


std::unique_ptr<ServiceHost> StartHost(const std::string& name, grpc::Service* service,
                                       const std::string& full_name,
                                       std::function<absl::Status()> ready = nullptr) {
  ServiceHost::Options ho;
  ho.service_name = name;
  ho.grpc_address = "127.0.0.1";
  ho.http_port = -1;
  ho.drain_deadline = std::chrono::milliseconds(200);
  ho.readiness_interval = std::chrono::milliseconds(50);
  ho.api_keys = auth::testing::TestKeyStore();
  // The mask service's own calls to the detector send the process's default key.
  auth::SetDefaultApiKey(auth::testing::kAdminKey);
  auto host = ServiceHost::Create(ho);
  EXPECT_TRUE(host.ok()) << host.status();
  (*host)->AddService(service, full_name);
  if (ready) (*host)->AddReadinessCheck("model", std::move(ready));
  EXPECT_TRUE((*host)->Start().ok());
  return std::move(*host);
}

// A stand-in detector: Detect answers the configured faces and records what it was asked.
class StandInDetector final : public v1::DetectorService::Service {
 public:
  grpc::Status Detect(grpc::ServerContext*, const v1::DetectRequest* request,
                      v1::DetectResponse* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    last_request_ = *request;
    for (const auto& d : detections_) *response->add_detections() = d;
    response->set_model(request->model());
    return grpc::Status::OK;
  }
  void AddFace(float left, float top, float width, float height, float confidence) {
    std::lock_guard<std::mutex> lock(mu_);
    v1::Detection d;
    d.set_label("face");
    d.set_confidence(confidence);
    d.mutable_box()->set_left(left);
    d.mutable_box()->set_top(top);
    d.mutable_box()->set_width(width);
    d.mutable_box()->set_height(height);
    detections_.push_back(d);
  }
  v1::DetectRequest last_request() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_request_;
  }

 private:
  std::mutex mu_;
  std::vector<v1::Detection> detections_;
  v1::DetectRequest last_request_;
};

class MaskServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(fs::temp_directory_path() /
                           ("mask_service_test_" + std::to_string(::getpid())));
    ASSERT_TRUE(testing::WriteTinyMaskModel(*dir_).ok());
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  void SetUp() override {
    detector_host_ = StartHost("detector", &detector_, "stratus.v1.DetectorService");
    MaskOptions o;
    o.model_dir = *dir_;
    o.runtime.num_threads = 1;
    o.runtime.warmup_runs = 1;
    auto c = MaskClassifier::Create(o);
    ASSERT_TRUE(c.ok());
    classifier_ = std::move(*c);
    ASSERT_TRUE(classifier_->Load().ok());
    clients::DetectorClient::Options dc;
    dc.address = "127.0.0.1:" + std::to_string(detector_host_->grpc_port());
    finder_ = std::make_unique<DetectorFaceFinder>(dc);
    service_ = std::make_unique<MaskServiceImpl>(classifier_.get(), finder_.get());
    MaskClassifier* raw = classifier_.get();
    host_ = StartHost("mask", service_.get(), "stratus.v1.MaskService",
                      [raw] { return raw->Readiness(); });
    stub_ = v1::MaskService::NewStub(auth::testing::AdminChannel(endpoint()));
  }
  void TearDown() override {
    host_->Shutdown();
    detector_host_->Shutdown();
  }

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(host_->grpc_port()); }

  grpc::Status Call(const v1::ClassifyRequest& request, v1::ClassifyResponse* response) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return stub_->Classify(&ctx, request, response);
  }

  static std::string* dir_;
  StandInDetector detector_;
  std::unique_ptr<ServiceHost> detector_host_;
  std::unique_ptr<MaskClassifier> classifier_;
  std::unique_ptr<DetectorFaceFinder> finder_;
  std::unique_ptr<MaskServiceImpl> service_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<v1::MaskService::Stub> stub_;
};
std::string* MaskServiceTest::dir_ = nullptr;

TEST_F(MaskServiceTest, ClassifiesCropsInOrderWithProbabilities) {
  v1::ClassifyRequest request;
  request.add_crops()->set_bytes(Encode(Solid(40, 50, {0, 0, 255})));
  request.add_crops()->set_bytes(Encode(Solid(64, 64, {255, 0, 0}), ".jpg"));
  request.add_crops()->set_bytes(Encode(Solid(30, 20, {0, 255, 0})));
  v1::ClassifyResponse response;
  ASSERT_TRUE(Call(request, &response).ok());
  ASSERT_THAT(response.results(), SizeIs(3));
  EXPECT_EQ(response.results(0).label(), "mask_worn_incorrectly");
  EXPECT_EQ(response.results(1).label(), "with_mask");
  EXPECT_EQ(response.results(2).label(), "without_mask");
  EXPECT_EQ(response.model_version(), "tiny-mask-1");
  EXPECT_FALSE(response.has_image_size());
  for (const v1::FaceMask& m : response.results()) {
    ASSERT_EQ(m.probabilities_size(), 3);
    double sum = 0;
    for (const auto& [label, p] : m.probabilities()) sum += p;
    EXPECT_NEAR(sum, 1.0, 1e-5);
    EXPECT_FLOAT_EQ(m.probabilities().at(m.label()), m.confidence());
    EXPECT_FLOAT_EQ(m.box().width(), 1.0f);
    EXPECT_FLOAT_EQ(m.face_confidence(), 1.0f);
  }
}

TEST_F(MaskServiceTest, ClassifiesBoxesOfAnImage) {
  cv::Mat image = Solid(400, 200, {255, 0, 0});
  image(cv::Rect(200, 0, 200, 200)).setTo(cv::Scalar(0, 255, 0));
  v1::ClassifyRequest request;
  request.mutable_image()->set_bytes(Encode(image));
  auto* b = request.add_boxes();
  b->set_left(0.6f), b->set_top(0.3f), b->set_width(0.2f), b->set_height(0.3f);
  b = request.add_boxes();
  b->set_left(0.1f), b->set_top(0.3f), b->set_width(0.2f), b->set_height(0.3f);
  v1::ClassifyResponse response;
  ASSERT_TRUE(Call(request, &response).ok());
  ASSERT_THAT(response.results(), SizeIs(2));
  EXPECT_EQ(response.results(0).label(), "without_mask");
  EXPECT_EQ(response.results(1).label(), "with_mask");
  EXPECT_FLOAT_EQ(response.results(0).box().left(), 0.6f);
  EXPECT_EQ(response.image_size().width(), 400);
  EXPECT_EQ(response.image_size().height(), 200);
}

TEST_F(MaskServiceTest, ImageWithoutBoxesAsksTheDetector) {
  detector_.AddFace(0.05f, 0.2f, 0.1f, 0.2f, 0.95f);   // small, on red
  detector_.AddFace(0.6f, 0.2f, 0.25f, 0.5f, 0.8f);    // large, on green
  cv::Mat image = Solid(400, 200, {255, 0, 0});
  image(cv::Rect(200, 0, 200, 200)).setTo(cv::Scalar(0, 255, 0));
  v1::ClassifyRequest request;
  request.mutable_image()->set_bytes(Encode(image));
  request.set_min_face_confidence(0.7f);
  v1::ClassifyResponse response;
  ASSERT_TRUE(Call(request, &response).ok());
  ASSERT_THAT(response.results(), SizeIs(2));
  EXPECT_EQ(response.results(0).label(), "without_mask");  // largest first
  EXPECT_FLOAT_EQ(response.results(0).face_confidence(), 0.8f);
  EXPECT_EQ(response.results(1).label(), "with_mask");
  EXPECT_FLOAT_EQ(response.results(1).face_confidence(), 0.95f);
  const v1::DetectRequest asked = detector_.last_request();
  EXPECT_EQ(asked.model(), "faces");
  EXPECT_FLOAT_EQ(asked.min_confidence(), 0.7f);
  EXPECT_EQ(asked.image().bytes(), request.image().bytes());
  // Unset min_face_confidence means 0.5.
  request.clear_min_face_confidence();
  ASSERT_TRUE(Call(request, &response).ok());
  EXPECT_FLOAT_EQ(detector_.last_request().min_confidence(), 0.5f);
}

TEST_F(MaskServiceTest, UnreachableDetectorIsUnavailableAndNamed) {
  // A port nothing listens on: bind one, note it, close it.
  clients::DetectorClient::Options dc;
  dc.address = "127.0.0.1:1";
  dc.timeout = std::chrono::milliseconds(2000);
  DetectorFaceFinder down(dc);
  MaskServiceImpl service(classifier_.get(), &down);
  v1::ClassifyRequest request;
  request.mutable_image()->set_bytes(Encode(Solid(50, 50, {9, 9, 9})));
  v1::ClassifyResponse response;
  absl::Status s = service.DoClassify(request, &response);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("127.0.0.1:1"));
  // Boxes and crops do not need the detector.
  auto* b = request.add_boxes();
  b->set_left(0.1f), b->set_top(0.1f), b->set_width(0.5f), b->set_height(0.5f);
  EXPECT_TRUE(service.DoClassify(request, &response).ok());
  // No detector configured at all.
  MaskServiceImpl no_detector(classifier_.get(), nullptr);
  request.clear_boxes();
  EXPECT_EQ(no_detector.DoClassify(request, &response).code(), absl::StatusCode::kUnavailable);
}

TEST_F(MaskServiceTest, RefusesBadRequests) {
  const std::string good = Encode(Solid(20, 20, {1, 2, 3}));
  struct Case {
    std::string name;
    std::function<void(v1::ClassifyRequest&)> make;
    std::string message;
    std::string reason;
  };
  auto box = [](v1::ClassifyRequest& r, float l, float t, float w, float h) {
    auto* b = r.add_boxes();
    b->set_left(l), b->set_top(t), b->set_width(w), b->set_height(h);
  };
  std::vector<Case> cases = {
      {"empty", [](v1::ClassifyRequest&) {}, "nothing to classify", ""},
      {"both",
       [&](v1::ClassifyRequest& r) {
         r.add_crops()->set_bytes(good);
         r.mutable_image()->set_bytes(good);
       },
       "not both", ""},
      {"too many crops",
       [&](v1::ClassifyRequest& r) {
         for (int i = 0; i < 101; ++i) r.add_crops()->set_bytes(good);
       },
       "at most 100", ""},
      {"boxes with crops",
       [&](v1::ClassifyRequest& r) {
         r.add_crops()->set_bytes(good);
         box(r, 0, 0, 1, 1);
       },
       "boxes go with image", ""},
      {"too many boxes",
       [&](v1::ClassifyRequest& r) {
         r.mutable_image()->set_bytes(good);
         for (int i = 0; i < 101; ++i) box(r, 0, 0, 1, 1);
       },
       "at most 100", ""},
      {"zero-size box",
       [&](v1::ClassifyRequest& r) {
         r.mutable_image()->set_bytes(good);
         box(r, 0.1f, 0.1f, 0.0f, 0.3f);
       },
       "non-positive", ""},
      {"box outside",
       [&](v1::ClassifyRequest& r) {
         r.mutable_image()->set_bytes(good);
         box(r, 1.2f, 0.1f, 0.2f, 0.3f);
       },
       "outside", ""},
      {"confidence",
       [&](v1::ClassifyRequest& r) {
         r.mutable_image()->set_bytes(good);
         r.set_min_face_confidence(1.5f);
       },
       "min_face_confidence", ""},
      {"garbage crop",
       [&](v1::ClassifyRequest& r) {
         r.add_crops()->set_bytes(good);
         r.add_crops()->set_bytes("this is not an image");
       },
       "crop 1", "InvalidImageFormatException"},
      {"truncated image",
       [&](v1::ClassifyRequest& r) {
         r.mutable_image()->set_bytes(Encode(Solid(64, 64, {5, 5, 5}), ".jpg").substr(0, 300));
       },
       "", "InvalidImageFormatException"},
      {"empty crop", [&](v1::ClassifyRequest& r) { r.add_crops(); }, "no image source", ""},
      {"too large",
       [&](v1::ClassifyRequest& r) { r.add_crops()->set_bytes(std::string(5242881, 'x')); },
       "5 MiB", "ImageTooLargeException"},
      {"uri",
       [&](v1::ClassifyRequest& r) { r.mutable_image()->set_uri("file:///etc/passwd"); },
       "URI", "InvalidS3ObjectException"},
      {"s3",
       [&](v1::ClassifyRequest& r) {
         r.mutable_image()->mutable_s3_object()->set_bucket("b");
         r.mutable_image()->mutable_s3_object()->set_name("k");
       },
       "object store", "InvalidS3ObjectException"},
  };
  for (const Case& c : cases) {
    v1::ClassifyRequest request;
    c.make(request);
    v1::ClassifyResponse response;
    grpc::ClientContext ctx;
    grpc::Status s = stub_->Classify(&ctx, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name;
    EXPECT_THAT(s.error_message(), HasSubstr(c.message)) << c.name;
    EXPECT_EQ(ErrorReason(s), c.reason) << c.name;
    EXPECT_EQ(response.results_size(), 0) << c.name;
  }
}

TEST_F(MaskServiceTest, UnavailableUntilTheModelIsLoaded) {
  MaskOptions o;
  o.model_dir = *dir_;
  auto c = MaskClassifier::Create(o);
  ASSERT_TRUE(c.ok());
  MaskServiceImpl service(c->get(), nullptr);
  MaskClassifier* raw = c->get();
  auto host = StartHost("mask", &service, "stratus.v1.MaskService",
                        [raw] { return raw->Readiness(); });
  auto stub = v1::MaskService::NewStub(
      auth::testing::AdminChannel("127.0.0.1:" + std::to_string(host->grpc_port())));
  v1::ClassifyRequest request;
  request.add_crops()->set_bytes(Encode(Solid(20, 20, {255, 0, 0})));
  v1::ClassifyResponse response;
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(stub->Classify(&ctx, request, &response).error_code(),
              grpc::StatusCode::UNAVAILABLE);
  }
  EXPECT_FALSE(host->readiness().ok());
  ASSERT_TRUE((*c)->Load().ok());
  {
    grpc::ClientContext ctx;
    EXPECT_TRUE(stub->Classify(&ctx, request, &response).ok());
  }
  for (int i = 0; i < 100 && !host->readiness().ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(host->readiness().ok()) << host->readiness();
  host->Shutdown();
}

// Runs `stratus classify-mask ARGS...` in-process and returns its stdout.
int RunCli(std::vector<std::string> args, std::string* out) {
  args.insert(args.begin(), "classify-mask");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  std::stringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  const int rc = RunClassifyMaskCommand(static_cast<int>(argv.size()), argv.data());
  std::cout.rdbuf(old);
  *out = captured.str();
  return rc;
}

std::vector<nlohmann::ordered_json> Lines(const std::string& text) {
  std::vector<nlohmann::ordered_json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::ordered_json::parse(line));
  return lines;
}

TEST_F(MaskServiceTest, CliPrintsOneLinePerImage) {
  const fs::path tmp = fs::path(*dir_) / "cli";
  fs::create_directories(tmp);
  const std::string red = (tmp / "red.png").string(), blue = (tmp / "blue.jpg").string();
  const std::string broken = (tmp / "broken.jpg").string();
  std::ofstream(red, std::ios::binary) << Encode(Solid(40, 40, {255, 0, 0}));
  std::ofstream(blue, std::ios::binary) << Encode(Solid(40, 40, {0, 0, 255}), ".jpg");
  std::ofstream(broken, std::ios::binary) << "not an image";
  std::string out;
  ASSERT_EQ(RunCli({"--endpoint", endpoint(), "--crop", red, blue}, &out), 0) << out;
  auto lines = Lines(out);
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_EQ(lines[0]["image"], red);
  EXPECT_EQ(lines[0]["label"], "with_mask");
  EXPECT_GT(lines[0]["confidence"].get<double>(), 0.99);
  EXPECT_EQ(lines[1]["label"], "mask_worn_incorrectly");
  ASSERT_TRUE(lines[1]["probabilities"].is_object());
  std::vector<std::string> keys;
  for (auto& [k, v] : lines[1]["probabilities"].items()) keys.push_back(k);
  EXPECT_THAT(keys, ::testing::ElementsAre("with_mask", "without_mask", "mask_worn_incorrectly"));

  // A broken crop is reported on its own line; the others still classify; exit 1.
  EXPECT_EQ(RunCli({"--endpoint", endpoint(), "--crop", red, broken, "/no/such.png"}, &out), 1);
  lines = Lines(out);
  ASSERT_THAT(lines, SizeIs(3));
  EXPECT_EQ(lines[0]["label"], "with_mask");
  EXPECT_EQ(lines[1]["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(lines[2]["code"], "NOT_FOUND");

  // Whole images: the faces the detector finds.
  detector_.AddFace(0.2f, 0.2f, 0.5f, 0.5f, 0.9f);
  ASSERT_EQ(RunCli({"--endpoint", endpoint(), blue}, &out), 0) << out;
  lines = Lines(out);
  ASSERT_THAT(lines, SizeIs(1));
  ASSERT_THAT(lines[0]["faces"], SizeIs(1));
  EXPECT_EQ(lines[0]["faces"][0]["label"], "mask_worn_incorrectly");
  EXPECT_NEAR(lines[0]["faces"][0]["face_confidence"].get<double>(), 0.9, 1e-4);
  EXPECT_NEAR(lines[0]["faces"][0]["box"]["left"].get<double>(), 0.2, 1e-4);
  EXPECT_EQ(lines[0]["model_version"], "tiny-mask-1");

  // Bad usage.
  EXPECT_EQ(RunCli({"--endpoint", endpoint()}, &out), 2);
  // A service that is not there: exit 3 (docs/cli.md).
  EXPECT_EQ(RunCli({"--endpoint", "127.0.0.1:1", "--timeout-ms", "2000", red}, &out), 3);
  EXPECT_EQ(Lines(out)[0]["code"], "UNAVAILABLE");
}

// ---- the full path with the real models ----

std::string ModelDir() {
  if (const char* d = std::getenv("STRATUS_MODEL_DIR"); d && *d) return d;
  if (const char* c = std::getenv("STRATUS_CACHE"); c && *c) return std::string(c) + "/models";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.cache/stratus/models";
}

bool RequireModels() {
  const char* r = std::getenv("STRATUS_REQUIRE_MODELS");
  return r != nullptr && std::string(r) == "1";
}

std::string PhotosDir() {
  return (SharedDataDir() / "photos").string();
}

// stratus-mask with an in-process stratus-detector (the real `faces` model) on a free port: the
// photos of ../shared/data/photos go through the whole path (decode, Detect over gRPC, crops
// with margins, the mask model).
class FullPath {
 public:
  // Empty `mask_dir`: the trained model of ModelDir().
  explicit FullPath(const std::string& mask_dir) {
    detector::DetectorOptions dopt;
    dopt.model_dir = ModelDir();
    dopt.models = {"faces"};
    dopt.require_models = {"faces"};
    auto det = detector::Detector::Create(dopt);
    EXPECT_TRUE(det.ok()) << det.status();
    detector_ = std::move(*det);
    EXPECT_TRUE(detector_->Load().ok());
    detector_service_ = std::make_unique<detector::DetectorServiceImpl>(
        detector_.get(), detector::DetectorServiceOptions{});
    detector_host_ = StartHost("detector", detector_service_.get(), "stratus.v1.DetectorService");
    MaskOptions o;
    o.model_dir = mask_dir.empty() ? ModelDir() : mask_dir;
    auto c = MaskClassifier::Create(o);
    EXPECT_TRUE(c.ok());
    classifier_ = std::move(*c);
    EXPECT_TRUE(classifier_->Load().ok()) << classifier_->Readiness();
    clients::DetectorClient::Options dc;
    dc.address = "127.0.0.1:" + std::to_string(detector_host_->grpc_port());
    finder_ = std::make_unique<DetectorFaceFinder>(dc);
    service_ = std::make_unique<MaskServiceImpl>(classifier_.get(), finder_.get());
    host_ = StartHost("mask", service_.get(), "stratus.v1.MaskService");
    stub_ = v1::MaskService::NewStub(
        auth::testing::AdminChannel("127.0.0.1:" + std::to_string(host_->grpc_port())));
  }
  ~FullPath() {
    host_->Shutdown();
    detector_host_->Shutdown();
    detector_->Shutdown();
  }

  v1::ClassifyResponse Classify(const std::string& name) {
    auto bytes = ReadImageFile(PhotosDir() + "/" + name, 5 << 20);
    EXPECT_TRUE(bytes.ok());
    v1::ClassifyRequest request;
    request.mutable_image()->set_bytes(*bytes);
    v1::ClassifyResponse response;
    grpc::ClientContext ctx;
    grpc::Status s = stub_->Classify(&ctx, request, &response);
    EXPECT_TRUE(s.ok()) << name << ": " << s.error_message();
    std::cout << name << ":";
    for (const auto& r : response.results()) {
      std::cout << " [" << r.label() << " " << r.confidence() << ", face "
                << r.face_confidence() << ", box " << r.box().left() << "," << r.box().top()
                << " " << r.box().width() << "x" << r.box().height() << "]";
    }
    std::cout << "\n";
    float previous_area = 2;
    for (const auto& r : response.results()) {  // largest first, inside the image
      const float area = r.box().width() * r.box().height();
      EXPECT_LE(area, previous_area);
      previous_area = area;
      EXPECT_GE(r.box().left(), 0.0f);
      EXPECT_LE(r.box().left() + r.box().width(), 1.0001f);
      EXPECT_GE(r.face_confidence(), 0.5f);
    }
    return response;
  }

 private:
  std::unique_ptr<detector::Detector> detector_;
  std::unique_ptr<detector::DetectorServiceImpl> detector_service_;
  std::unique_ptr<ServiceHost> detector_host_;
  std::unique_ptr<MaskClassifier> classifier_;
  std::unique_ptr<DetectorFaceFinder> finder_;
  std::unique_ptr<MaskServiceImpl> service_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<v1::MaskService::Stub> stub_;
};

bool HaveModels(const std::vector<std::string>& names, std::string* missing) {
  for (const std::string& m : names) {
    if (!fs::exists(fs::path(ModelDir()) / m / "model.pt")) {
      *missing = "model '" + m + "' missing in " + ModelDir();
      return false;
    }
  }
  if (!fs::exists(fs::path(PhotosDir()) / "two-masked.jpg")) {
    *missing = "no photos in " + PhotosDir();
    return false;
  }
  return true;
}

// The face detector path with the tiny classifier: every person of the photos is found.
TEST_F(MaskServiceTest, PhotosThroughTheRealDetector) {
  std::string missing;
  if (!HaveModels({"faces"}, &missing)) {
    if (RequireModels()) FAIL() << missing;
    GTEST_SKIP() << missing;
  }
  FullPath path(*dir_);
  EXPECT_GE(path.Classify("two-masked.jpg").results_size(), 2);
  EXPECT_GE(path.Classify("mixed-masks.jpg").results_size(), 3);
  EXPECT_GE(path.Classify("no-mask.jpg").results_size(), 1);
}

TEST(MaskFullPathTest, PhotosThroughTheDetectorAndTheTrainedModel) {
  std::string missing;
  if (!HaveModels({"faces", "mask"}, &missing)) {
    if (RequireModels()) FAIL() << missing;
    GTEST_SKIP() << missing;
  }
  FullPath path("");
  auto labels_of = [](const v1::ClassifyResponse& r, int n) {
    std::multiset<std::string> out;
    for (int i = 0; i < std::min(n, r.results_size()); ++i) out.insert(r.results(i).label());
    return out;
  };
  // Two people, both masked.
  const v1::ClassifyResponse two = path.Classify("two-masked.jpg");
  ASSERT_GE(two.results_size(), 2);
  EXPECT_EQ(labels_of(two, 2), (std::multiset<std::string>{"with_mask", "with_mask"}));
  // One mask worn properly, one under the chin, one bare face.
  const v1::ClassifyResponse mixed = path.Classify("mixed-masks.jpg");
  ASSERT_GE(mixed.results_size(), 3);
  const auto mixed_labels = labels_of(mixed, 3);
  EXPECT_EQ(mixed_labels.count("with_mask"), 1u);
  // The mask under the chin must not pass as worn; whether the default model calls it
  // mask_worn_incorrectly or without_mask depends on its training set (the landmark-placed set
  // of `make models` says without_mask at ~0.5), so only "not worn" is asserted here.
  EXPECT_EQ(mixed_labels.count("without_mask") + mixed_labels.count("mask_worn_incorrectly"), 2u);
  // Nobody masked.
  const v1::ClassifyResponse none = path.Classify("no-mask.jpg");
  ASSERT_GE(none.results_size(), 1);
  for (const auto& r : none.results()) EXPECT_NE(r.label(), "with_mask");
}

}  // namespace
}  // namespace stratus::mask
