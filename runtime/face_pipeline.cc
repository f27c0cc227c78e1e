#include "runtime/face_pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "runtime/model.h"
#include "runtime/model_repository.h"

namespace stratus::runtime {
namespace {

constexpr double kPi = 3.14159265358979323846;
double Deg(double rad) { return rad * 180.0 / kPi; }

struct P {
  double x, y;
};

P Center(const std::vector<Point>& pts, int begin, int end) {
  // face-api's getCenterPoint: sum in order, then divide.
  double sx = 0, sy = 0;
  for (int i = begin; i < end; ++i) {
    sx += pts[static_cast<size_t>(i)].x;
    sy += pts[static_cast<size_t>(i)].y;
  }
  const double n = end - begin;
  return P{sx / n, sy / n};
}

absl::StatusOr<const Model*> Need(const ModelRepository& repo, const std::string& name,
                                  bool optional) {
  auto m = repo.Get(name);
  if (!m.ok() && optional) return nullptr;
  if (!m.ok()) {
    return absl::Status(m.status().code(), absl::StrCat("face pipeline needs model '", name,
                                                        "': ", m.status().message()));
  }
  return *m;
}

// Runs `model` on `crops` (skipping none); results in order.
absl::StatusOr<std::vector<Prediction>> RunCrops(const Model* model,
                                                 const std::vector<cv::Mat>& crops) {
  if (crops.empty()) return std::vector<Prediction>{};
  return model->Run(crops);
}

constexpr int kIrisInput = 64;     // face_iris's input side
constexpr double kEyeEnlarge = 2.3;  // human's irisEnlarge
constexpr int kIrisPoints = 76;    // 71 contour and brow points, then the iris
constexpr int kIrisCentre = 71;
// sin(gaze) = iris offset / eyeball radius (12 mm); offsets are measured in half eye widths
// (15 mm), so sin(gaze) = offset x 15 / 12.
constexpr double kHalfEyeOverRadius = 15.0 / 12.0;

}  // namespace

cv::Mat EyePatchTransform(const Point& a, const Point& b, int size) {
  const Point& l = a.x <= b.x ? a : b;  // the corner on the image's left
  const Point& r = a.x <= b.x ? b : a;
  const double dx = static_cast<double>(r.x) - l.x, dy = static_cast<double>(r.y) - l.y;
  const double dist = std::max(std::hypot(dx, dy), 1e-6);
  const double scale = size / (kEyeEnlarge * dist);
  const double c = dx / dist * scale, s = dy / dist * scale;  // rotate by -angle, then scale
  const double mx = (static_cast<double>(l.x) + r.x) / 2, my = (static_cast<double>(l.y) + r.y) / 2;
  cv::Mat m = (cv::Mat_<double>(2, 3) << c, s, size / 2.0 - (c * mx + s * my), -s, c,
               size / 2.0 - (-s * mx + c * my));
  return m;
}

std::pair<float, float> GazeOfEye(const std::vector<Point>& pts) {
  if (pts.size() < static_cast<size_t>(kIrisPoints)) return {0.0f, 0.0f};
  const Point& c0 = pts[0];
  const Point& c8 = pts[8];
  const double half =
      std::max(std::hypot(static_cast<double>(c8.x) - c0.x, static_cast<double>(c8.y) - c0.y) / 2,
               1e-6);
  const double cx = (static_cast<double>(c0.x) + c8.x) / 2;
  const double cy = (static_cast<double>(pts[4].y) + pts[12].y) / 2;  // between the lids
  const Point& iris = pts[kIrisCentre];
  auto angle = [](double offset) {
    return static_cast<float>(Deg(std::asin(std::clamp(offset * kHalfEyeOverRadius, -1.0, 1.0))));
  };
  return {angle((iris.x - cx) / half), angle(-(iris.y - cy) / half)};
}

cv::Rect ClipAtImageBorders(const PixelRect& r, int image_width, int image_height) {
  const double x = std::max(r.x, 0.0);
  const double y = std::max(r.y, 0.0);
  const double w = std::min(r.x + r.width - x, image_width - x);
  const double h = std::min(r.y + r.height - y, image_height - y);
  const cv::Rect out(static_cast<int>(std::floor(x)), static_cast<int>(std::floor(y)),
                     static_cast<int>(std::floor(w)), static_cast<int>(std::floor(h)));
  if (out.width <= 0 || out.height <= 0 || out.x >= image_width || out.y >= image_height) {
    return cv::Rect();
  }
  return out;
}

PixelRect AlignMinBbox(const std::vector<Point>& pts, double padding) {
  double min_x = std::numeric_limits<double>::infinity(), min_y = min_x;
  double max_x = -min_x, max_y = -min_x;
  for (const Point& p : pts) {
    min_x = std::min<double>(min_x, p.x);
    min_y = std::min<double>(min_y, p.y);
    max_x = std::max<double>(max_x, p.x);
    max_y = std::max<double>(max_y, p.y);
  }
  const double w = max_x - min_x, h = max_y - min_y;
  const double pad_x = w * padding, pad_y = h * padding;
  return PixelRect{min_x - pad_x / 2, min_y - pad_y / 2, w + pad_x, h + pad_y};
}

PixelRect AlignDlib(const std::vector<Point>& pts, int crop_width, int crop_height) {
  const P left_eye = Center(pts, 36, 42);
  const P right_eye = Center(pts, 42, 48);
  const P mouth = Center(pts, 48, 68);
  auto dist = [&](const P& p) { return std::hypot(mouth.x - p.x, mouth.y - p.y); };
  const double eye_to_mouth = (dist(left_eye) + dist(right_eye)) / 2;
  const double size = std::floor(eye_to_mouth / 0.45);
  const P ref{(left_eye.x + right_eye.x + mouth.x) / 3, (left_eye.y + right_eye.y + mouth.y) / 3};
  const double x = std::floor(std::max(0.0, ref.x - 0.5 * size));
  const double y = std::floor(std::max(0.0, ref.y - 0.43 * size));
  return PixelRect{x, y, std::min(size, crop_width + x), std::min(size, crop_height + y)};
}

FacePose EstimatePose(const std::vector<Point>& pts) {
  FacePose pose;
  if (pts.size() != 68) return pose;
  const double roll = std::atan2(pts[45].y - pts[36].y, pts[45].x - pts[36].x);
  pose.roll = static_cast<float>(Deg(roll));
  // Undo the roll around the eyes' midpoint, then read yaw and pitch from proportions.
  const double cx = (pts[36].x + pts[45].x) / 2, cy = (pts[36].y + pts[45].y) / 2;
  const double c = std::cos(-roll), s = std::sin(-roll);
  auto rot = [&](const Point& p) {
    const double dx = p.x - cx, dy = p.y - cy;
    return P{cx + dx * c - dy * s, cy + dx * s + dy * c};
  };
  const P jaw_l = rot(pts[0]), jaw_r = rot(pts[16]), nose = rot(pts[30]), chin = rot(pts[8]);
  double eye_y = 0;
  for (int i = 36; i < 48; ++i) eye_y += rot(pts[static_cast<size_t>(i)]).y;
  eye_y /= 12;
  auto clamp1 = [](double v) { return std::clamp(v, -1.0, 1.0); };
  if (jaw_r.x - jaw_l.x > 1e-6) {
    const double r = (nose.x - jaw_l.x) / (jaw_r.x - jaw_l.x);
    pose.yaw = static_cast<float>(Deg(std::asin(clamp1(2 * r - 1))));
  }
  if (chin.y - eye_y > 1e-6) {
    // Frontal faces put the nose tip ~40% of the way from the eyes to the chin.
    const double r = (nose.y - eye_y) / (chin.y - eye_y);
    pose.pitch = static_cast<float>(Deg(std::asin(clamp1((0.4 - r) * 2.5))));
  }
  return pose;
}

FaceQuality MeasureQuality(const cv::Mat& rgb_crop) {
  FaceQuality q;
  if (rgb_crop.empty()) return q;
  cv::Mat gray, small, lap;
  cv::cvtColor(rgb_crop, gray, cv::COLOR_RGB2GRAY);
  q.brightness = static_cast<float>(cv::mean(gray)[0] / 255.0 * 100.0);
  cv::resize(gray, small, cv::Size(112, 112), 0, 0, cv::INTER_AREA);
  cv::Laplacian(small, lap, CV_64F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  q.sharpness = static_cast<float>(100.0 * (1.0 - std::exp(-stddev[0] * stddev[0] / 200.0)));
  return q;
}

absl::StatusOr<std::unique_ptr<FacePipeline>> FacePipeline::Create(const ModelRepository& repo,
                                                                   const Options& options) {
  auto p = std::unique_ptr<FacePipeline>(new FacePipeline());
  auto det = Need(repo, options.detector, false);
  if (!det.ok()) return det.status();
  p->detector_ = *det;
  const bool opt = options.allow_missing_stages;
  auto lm = Need(repo, options.landmarks, opt);
  if (!lm.ok()) return lm.status();
  p->landmarks_ = *lm;
  auto desc = Need(repo, options.descriptor, opt);
  if (!desc.ok()) return desc.status();
  p->descriptor_ = *desc;
  auto ag = Need(repo, options.age_gender, opt);
  if (!ag.ok()) return ag.status();
  p->age_gender_ = *ag;
  auto ex = Need(repo, options.expressions, opt);
  if (!ex.ok()) return ex.status();
  p->expressions_ = *ex;
  auto iris = Need(repo, options.iris, true);
  if (!iris.ok()) return iris.status();
  p->iris_ = *iris;
  return p;
}

absl::StatusOr<std::vector<std::vector<Face>>> FacePipeline::Analyze(
    absl::Span<const cv::Mat> images, const AnalyzeOptions& options,
    FaceStageTimes* times) const {
  FaceStageTimes local;
  FaceStageTimes& t = times ? *times : local;
  t = FaceStageTimes{};
  auto clock = std::chrono::steady_clock::now();
  auto lap = [&clock]() {
    const auto now = std::chrono::steady_clock::now();
    const double ms = std::chrono::duration<double, std::milli>(now - clock).count();
    clock = now;
    return ms;
  };
  for (size_t i = 0; i < images.size(); ++i) {
    if (images[i].empty() || images[i].type() != CV_8UC3) {
      return absl::InvalidArgumentError(
          absl::StrCat("image ", i, ": expected a non-empty 8-bit RGB image"));
    }
  }
  const bool need_landmarks = options.landmarks || options.descriptor || options.age_gender ||
                              options.expressions || options.quality || options.eye_direction;
  auto missing = [](const char* stage) {
    return absl::FailedPreconditionError(
        absl::StrCat("face pipeline: no model for the ", stage, " stage"));
  };
  if (need_landmarks && landmarks_ == nullptr) return missing("landmarks");
  if (options.descriptor && descriptor_ == nullptr) return missing("descriptor");
  if (options.age_gender && age_gender_ == nullptr) return missing("age/gender");
  if (options.expressions && expressions_ == nullptr) return missing("expressions");
  if (options.eye_direction && iris_ == nullptr) return missing("eye direction");

  std::vector<std::vector<Face>> result(images.size());
  if (images.empty()) return result;

  // 1. Detection.
  DecodeOptions dopt;
  dopt.min_confidence = options.min_confidence;
  dopt.max_results = options.max_faces;
  auto detections = detector_->Run(images, dopt);
  if (!detections.ok()) return detections.status();
  t.detect_ms = lap();

  // Every face of every image, with where it came from.
  struct Ref {
    size_t image;
    size_t face;
    cv::Rect crop;  // the landmark crop (clipped, floored)
  };
  std::vector<Ref> refs;
  std::vector<cv::Mat> crops;
  for (size_t i = 0; i < images.size(); ++i) {
    const int w = images[i].cols, h = images[i].rows;
    for (const Detection& d : (*detections)[i].detections) {
      Face f;
      f.box = d.box;
      f.score = d.confidence;
      // face-api's FaceDetection.box: relative box x image size.
      f.box_pixels = PixelRect{static_cast<double>(d.box.left) * w,
                               static_cast<double>(d.box.top) * h,
                               static_cast<double>(d.box.width) * w,
                               static_cast<double>(d.box.height) * h};
      const cv::Rect crop = ClipAtImageBorders(f.box_pixels, w, h);
      if (crop.empty()) continue;  // degenerate box: face-api drops it too
      result[i].push_back(std::move(f));
      refs.push_back(Ref{i, result[i].size() - 1, crop});
      crops.push_back(images[i](crop));
    }
  }
  t.faces = static_cast<int>(refs.size());
  if (!need_landmarks || refs.empty()) return result;

  // 2. Landmarks on the detection crops.
  auto lm = RunCrops(landmarks_, crops);
  if (!lm.ok()) return lm.status();
  std::vector<cv::Mat> aligned_crops(refs.size()), dlib_crops(refs.size());
  std::vector<bool> usable(refs.size(), false);
  for (size_t k = 0; k < refs.size(); ++k) {
    const Ref& r = refs[k];
    Face& f = result[r.image][r.face];
    const int w = images[r.image].cols, h = images[r.image].rows;
    // FaceLandmarks(relative, cropDims, shift = detection box origin (unfloored)).
    f.landmarks.reserve(68);
    for (const Point& p : (*lm)[k].landmarks) {
      f.landmarks.push_back(
          Point{static_cast<float>(static_cast<double>(p.x) * r.crop.width + f.box_pixels.x),
                static_cast<float>(static_cast<double>(p.y) * r.crop.height + f.box_pixels.y)});
    }
    f.pose = EstimatePose(f.landmarks);
    // alignedRect: FaceDetection(score, rect / imageDims, imageDims).box, i.e. rect rescaled
    // by 1/dims then by dims (reproduced for bit-identical floors).
    PixelRect a = AlignMinBbox(f.landmarks);
    const double iw = 1.0 / w, ih = 1.0 / h;
    a = PixelRect{a.x * iw * w, a.y * ih * h, a.width * iw * w, a.height * ih * h};
    f.aligned_rect = a;
    f.descriptor_rect = AlignDlib(f.landmarks, r.crop.width, r.crop.height);
    const cv::Rect ac = ClipAtImageBorders(f.aligned_rect, w, h);
    const cv::Rect dc = ClipAtImageBorders(f.descriptor_rect, w, h);
    if (ac.empty() || dc.empty()) continue;
    aligned_crops[k] = images[r.image](ac);
    dlib_crops[k] = images[r.image](dc);
    usable[k] = true;
    if (options.quality) f.quality = MeasureQuality(aligned_crops[k]);
  }
  std::vector<size_t> idx;
  std::vector<cv::Mat> ac, dc;
  for (size_t k = 0; k < refs.size(); ++k) {
    if (!usable[k]) continue;
    idx.push_back(k);
    ac.push_back(aligned_crops[k]);
    dc.push_back(dlib_crops[k]);
  }
  t.landmarks_ms = lap();

  // 3. Descriptor, age/gender and expressions on the aligned crops.
  if (options.descriptor) {
    auto p = RunCrops(descriptor_, dc);
    if (!p.ok()) return p.status();
    for (size_t j = 0; j < idx.size(); ++j) {
      result[refs[idx[j]].image][refs[idx[j]].face].descriptor = std::move((*p)[j].embedding);
    }
    t.descriptor_ms = lap();
  }
  if (options.age_gender) {
    auto p = RunCrops(age_gender_, ac);
    if (!p.ok()) return p.status();
    const std::vector<std::string>& labels = age_gender_->config().labels;
    for (size_t j = 0; j < idx.size(); ++j) {
      Face& f = result[refs[idx[j]].image][refs[idx[j]].face];
      const Prediction& pr = (*p)[j];
      f.age = pr.age.value_or(0);
      const auto best = std::max_element(pr.probabilities.begin(), pr.probabilities.end());
      if (best != pr.probabilities.end()) {
        f.gender = LabelFor(labels, static_cast<int>(best - pr.probabilities.begin()));
        f.gender_probability = *best;
      }
    }
    t.age_gender_ms = lap();
  }
  if (options.expressions) {
    auto p = RunCrops(expressions_, ac);
    if (!p.ok()) return p.status();
    const std::vector<std::string>& labels = expressions_->config().labels;
    for (size_t j = 0; j < idx.size(); ++j) {
      Face& f = result[refs[idx[j]].image][refs[idx[j]].face];
      const std::vector<float>& probs = (*p)[j].probabilities;
      for (size_t c = 0; c < probs.size(); ++c) {
        f.expressions.emplace_back(LabelFor(labels, static_cast<int>(c)), probs[c]);
      }
    }
    t.expressions_ms = lap();
  }
  if (options.eye_direction) {
    // Two patches per face: the subject's right eye (36..39), then the left (42..45) mirrored
    // (the model takes right eyes, as MediaPipe's iris graph and human feed it).
    std::vector<cv::Mat> patches;
    std::vector<cv::Mat> transforms;
    for (size_t k = 0; k < refs.size(); ++k) {
      const Face& f = result[refs[k].image][refs[k].face];
      if (f.landmarks.size() != 68) continue;
      for (const auto& [a, b] : {std::pair{36, 39}, std::pair{42, 45}}) {
        cv::Mat m = EyePatchTransform(f.landmarks[a], f.landmarks[b], kIrisInput);
        cv::Mat patch;
        cv::warpAffine(images[refs[k].image], patch, m, cv::Size(kIrisInput, kIrisInput),
                       cv::INTER_LINEAR, cv::BORDER_REPLICATE);
        if (a == 42) cv::flip(patch, patch, 1);
        patches.push_back(patch);
        transforms.push_back(m);
      }
    }
    auto p = RunCrops(iris_, patches);
    if (!p.ok()) return p.status();
    size_t j = 0;
    for (size_t k = 0; k < refs.size(); ++k) {
      Face& f = result[refs[k].image][refs[k].face];
      if (f.landmarks.size() != 68) continue;
      EyeDirection eye;
      for (int e = 0; e < 2; ++e, ++j) {
        const std::vector<float>& v = (*p)[j].embedding;
        if (v.size() < static_cast<size_t>(kIrisPoints * 3)) {
          return absl::InternalError(absl::StrCat("face_iris returned ", v.size(),
                                                  " values, expected ", kIrisPoints * 3));
        }
        std::vector<Point> pts(kIrisPoints);
        for (int q = 0; q < kIrisPoints; ++q) {
          const float x = v[static_cast<size_t>(q) * 3], y = v[static_cast<size_t>(q) * 3 + 1];
          pts[static_cast<size_t>(q)] = Point{e == 1 ? kIrisInput - x : x, y};
        }
        const auto [yaw, pitch] = GazeOfEye(pts);
        eye.yaw += yaw / 2;
        eye.pitch += pitch / 2;
        // The iris centre back in image pixels.
        cv::Mat inv;
        cv::invertAffineTransform(transforms[j], inv);
        std::vector<cv::Point2f> iris{{pts[kIrisCentre].x, pts[kIrisCentre].y}};
        cv::transform(iris, iris, inv);
        (e == 0 ? eye.right_iris : eye.left_iris) = Point{iris[0].x, iris[0].y};
      }
      eye.confidence = f.score * 100.0f;
      f.eye_direction = eye;
    }
    t.eye_direction_ms = lap();
  }
  return result;
}

}  // namespace stratus::runtime
