#include "services/recognition/testing/fake_analyzers.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/image.h"

namespace stratus::recognition::testing {
namespace {

namespace v1 = ::stratus::v1;

absl::StatusOr<std::string> ImageBytes(const v1::Image& image) {
  if (image.has_bytes()) return image.bytes();
  if (!image.uri().empty()) return ReadImageFile(image.uri(), 15 << 20);
  return absl::InvalidArgumentError("image has no bytes");
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void FakeFaceAnalyzer::Add(const std::string& image_bytes, v1::AnalyzeFacesResponse response) {
  std::lock_guard<std::mutex> lock(mu_);
  responses_[image_bytes] = std::move(response);
}

void FakeFaceAnalyzer::FailWith(absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_ = std::move(status);
}

int FakeFaceAnalyzer::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

absl::StatusOr<v1::AnalyzeFacesResponse> FakeFaceAnalyzer::AnalyzeFaces(
    const v1::AnalyzeFacesRequest& request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    if (!fail_.ok()) return fail_;
  }
  auto bytes = ImageBytes(request.image());
  if (!bytes.ok()) return bytes.status();
  auto info = ProbeImage(*bytes);
  if (!info.ok()) return info.status();
  v1::AnalyzeFacesResponse response;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = responses_.find(*bytes);
    if (it != responses_.end()) response = it->second;
  }
  if (response.faces_size() == 0) {
    // Unknown image: decode it as the detector would, so broken files fail the same way.
    auto decoded = DecodeImage(*bytes);
    if (!decoded.ok()) return decoded.status();
  }
  response.mutable_image_size()->set_width(info->width);
  response.mutable_image_size()->set_height(info->height);
  const float min_conf = request.min_confidence() > 0 ? request.min_confidence() : 0.5f;
  const int max_faces = request.max_faces() > 0 ? request.max_faces() : 100;
  v1::AnalyzeFacesResponse out = response;
  out.clear_faces();
  for (const v1::FaceAnalysis& f : response.faces()) {
    if (f.confidence() < min_conf) continue;
    if (out.faces_size() >= max_faces) break;
    v1::FaceAnalysis* g = out.add_faces();
    *g = f;
    if (!request.descriptors()) g->clear_face_descriptor();
    if (!request.attributes()) {
      g->set_age(0);
      g->clear_gender();
      g->set_gender_confidence(0);
      g->clear_expressions();
    }
  }
  return out;
}

absl::StatusOr<int> FakeFaceAnalyzer::AddFaceApiGolden(const std::string& dir) {
  int loaded = 0;
  for (int n = 1; n <= 9; ++n) {
    auto png = ReadFile(absl::StrCat(dir, "/sample", n, ".png"));
    auto text = ReadFile(absl::StrCat(dir, "/sample", n, ".json"));
    if (!png.ok() || !text.ok()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(*text);
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat("sample", n, ".json: ", e.what()));
    }
    const double w = j["width"].get<double>(), h = j["height"].get<double>();
    v1::AnalyzeFacesResponse r;
    for (const auto& f : j["ssdMobilenetv1"]) {
      v1::FaceAnalysis* a = r.add_faces();
      const auto& box = f["detection"]["relativeBox"];
      a->mutable_box()->set_left(box["x"].get<float>());
      a->mutable_box()->set_top(box["y"].get<float>());
      a->mutable_box()->set_width(box["width"].get<float>());
      a->mutable_box()->set_height(box["height"].get<float>());
      a->set_confidence(f["detection"]["score"].get<float>());
      for (const auto& p : f["landmarks"]["positions"]) {
        v1::Point* q = a->add_landmarks68();
        q->set_x(static_cast<float>(p[0].get<double>() / w));
        q->set_y(static_cast<float>(p[1].get<double>() / h));
      }
      a->mutable_pose()->set_roll(f["angle"]["roll"].get<float>());
      a->mutable_pose()->set_yaw(f["angle"]["yaw"].get<float>());
      a->mutable_pose()->set_pitch(f["angle"]["pitch"].get<float>());
      a->mutable_quality()->set_brightness(60);
      a->mutable_quality()->set_sharpness(60);
      const auto& d = f["descriptor"];
      if (d.is_array()) {
        for (const auto& v : d) a->add_face_descriptor(v.get<float>());
      } else {
        for (int i = 0; i < 128; ++i) a->add_face_descriptor(d[std::to_string(i)].get<float>());
      }
      a->set_age(f["age"].get<float>());
      a->set_gender(f["gender"].get<std::string>());
      a->set_gender_confidence(f["genderProbability"].get<float>());
      for (const auto& [k, v] : f["expressions"].items()) (*a->mutable_expressions())[k] = v.get<float>();
    }
    std::sort(r.mutable_faces()->begin(), r.mutable_faces()->end(),
              [](const v1::FaceAnalysis& a, const v1::FaceAnalysis& b) {
                return a.box().width() * a.box().height() > b.box().width() * b.box().height();
              });
    (*r.mutable_model_versions())["descriptor"] = "faceapi-golden";
    Add(*png, std::move(r));
    ++loaded;
  }
  return loaded;
}

void FakeObjectDetector::Add(const std::string& image_bytes, v1::DetectResponse response) {
  std::lock_guard<std::mutex> lock(mu_);
  responses_[image_bytes] = std::move(response);
}

absl::StatusOr<v1::DetectResponse> FakeObjectDetector::Detect(const v1::DetectRequest& request) {
  auto bytes = ImageBytes(request.image());
  if (!bytes.ok()) return bytes.status();
  auto decoded = DecodeImage(*bytes);
  if (!decoded.ok()) return decoded.status();
  v1::DetectResponse response;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = responses_.find(*bytes);
    if (it != responses_.end()) response = it->second;
  }
  const float min_conf = request.min_confidence() > 0 ? request.min_confidence() : 0.5f;
  v1::DetectResponse out = response;
  out.clear_detections();
  for (const auto& d : response.detections()) {
    if (d.confidence() >= min_conf) *out.add_detections() = d;
  }
  out.set_model(request.model().empty() ? "objects" : request.model());
  if (out.model_version().empty()) out.set_model_version("fake-1");
  out.mutable_image_size()->set_width(decoded->cols);
  out.mutable_image_size()->set_height(decoded->rows);
  return out;
}

void FakeMaskClassifier::Set(Fn fn) {
  std::lock_guard<std::mutex> lock(mu_);
  fn_ = std::move(fn);
}

absl::StatusOr<v1::ClassifyResponse> FakeMaskClassifier::Classify(
    const v1::ClassifyRequest& request) {
  Fn fn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn = fn_;
  }
  if (!fn) return absl::UnimplementedError("Classify is not implemented yet (fake)");
  return fn(request);
}

v1::FaceAnalysis MakeFace(const SyntheticFace& s) {
  std::vector<std::pair<float, float>> p(68);  // in box units
  constexpr float kPi = 3.14159265f;
  for (int i = 0; i <= 16; ++i) {
    const float t = kPi * i / 16;
    p[i] = {0.5f - 0.5f * std::cos(t), 0.35f + 0.6f * std::sin(t)};
  }
  for (int i = 0; i < 5; ++i) {
    const float t = i / 4.0f;
    p[17 + i] = {0.12f + 0.30f * t, 0.28f - 0.04f * std::sin(kPi * t)};
    p[22 + i] = {0.58f + 0.30f * t, 0.28f - 0.04f * std::sin(kPi * t)};
  }
  for (int i = 0; i < 4; ++i) p[27 + i] = {0.5f, 0.35f + 0.25f * i / 3};
  for (int i = 0; i < 5; ++i) p[31 + i] = {0.40f + 0.05f * i, i == 2 ? 0.67f : 0.65f};
  auto eye = [&](int first, float cx, float cy) {
    const float w = 0.16f, h = s.eyes_open * w;
    p[first + 0] = {cx - w / 2, cy};
    p[first + 1] = {cx - w / 6, cy - h / 2};
    p[first + 2] = {cx + w / 6, cy - h / 2};
    p[first + 3] = {cx + w / 2, cy};
    p[first + 4] = {cx + w / 6, cy + h / 2};
    p[first + 5] = {cx - w / 6, cy + h / 2};
  };
  eye(36, 0.3f, 0.4f);
  eye(42, 0.7f, 0.4f);
  const float cx = 0.5f, cy = 0.8f, w = 0.36f, lift = s.smile * w, gap = s.mouth_open * w;
  p[48] = {cx - w / 2, cy - lift};
  p[49] = {cx - w / 3, cy - 0.05f};
  p[50] = {cx - w / 8, cy - 0.065f};
  p[51] = {cx, cy - 0.06f};
  p[52] = {cx + w / 8, cy - 0.065f};
  p[53] = {cx + w / 3, cy - 0.05f};
  p[54] = {cx + w / 2, cy - lift};
  p[55] = {cx + w / 3, cy + 0.05f + gap};
  p[56] = {cx + w / 8, cy + 0.065f + gap};
  p[57] = {cx, cy + 0.07f + gap};
  p[58] = {cx - w / 8, cy + 0.065f + gap};
  p[59] = {cx - w / 3, cy + 0.05f + gap};
  p[60] = {cx - w * 0.42f, cy - lift * 0.8f};
  p[61] = {cx - w / 8, cy - 0.01f};
  p[62] = {cx, cy - 0.01f};
  p[63] = {cx + w / 8, cy - 0.01f};
  p[64] = {cx + w * 0.42f, cy - lift * 0.8f};
  p[65] = {cx + w / 8, cy - 0.01f + gap};
  p[66] = {cx, cy - 0.01f + gap};
  p[67] = {cx - w / 8, cy - 0.01f + gap};

  v1::FaceAnalysis f;
  f.mutable_box()->set_left(s.left);
  f.mutable_box()->set_top(s.top);
  f.mutable_box()->set_width(s.width);
  f.mutable_box()->set_height(s.height);
  f.set_confidence(s.confidence);
  for (const auto& [x, y] : p) {
    v1::Point* q = f.add_landmarks68();
    q->set_x(s.left + x * s.width);
    q->set_y(s.top + y * s.height);
  }
  f.mutable_pose()->set_yaw(s.yaw);
  f.mutable_pose()->set_pitch(s.pitch);
  f.mutable_pose()->set_roll(s.roll);
  f.mutable_quality()->set_brightness(s.brightness);
  f.mutable_quality()->set_sharpness(s.sharpness);
  for (float v : s.descriptor) f.add_face_descriptor(v);
  f.set_age(30);
  f.set_gender("female");
  f.set_gender_confidence(0.9f);
  (*f.mutable_expressions())["happy"] = 0.7f;
  (*f.mutable_expressions())["neutral"] = 0.3f;
  *f.mutable_aligned_box() = f.box();
  return f;
}

std::vector<float> RandomDescriptor(uint64_t seed) {
  std::mt19937_64 rng(seed * 7919 + 1);
  std::normal_distribution<float> n(0.0f, 0.1f);
  std::vector<float> v(128);
  for (float& x : v) x = n(rng);
  return v;
}

std::vector<float> DescriptorAtDistance(const std::vector<float>& base, float distance,
                                        uint64_t seed) {
  std::mt19937_64 rng(seed * 104729 + 3);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> dir(base.size());
  double norm = 0;
  for (float& x : dir) {
    x = n(rng);
    norm += double(x) * x;
  }
  norm = std::sqrt(norm);
  std::vector<float> out(base.size());
  for (size_t i = 0; i < base.size(); ++i) out[i] = base[i] + distance * float(dir[i] / norm);
  return out;
}

std::string MakeImage(int width, int height, uint64_t seed, const std::string& format) {
  cv::Mat img(height, width, CV_8UC3);
  cv::RNG rng(seed + 1);
  rng.fill(img, cv::RNG::UNIFORM, cv::Scalar::all(0), cv::Scalar::all(256));
  std::vector<uchar> out;
  cv::imencode(format == "png" ? ".png" : ".jpg", img, out);
  return std::string(out.begin(), out.end());
}

}  // namespace stratus::recognition::testing
