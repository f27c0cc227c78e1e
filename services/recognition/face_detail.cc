#include "services/recognition/face_detail.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

namespace stratus::recognition {
namespace {

namespace v1 = ::stratus::v1;

constexpr double kK = 20.0;
const double kD0 = 0.6 + std::log(4.0) / kK;

struct Pt {
  double x, y;
};

// Points in pixels, so ratios do not depend on the image's aspect.
std::vector<Pt> Pixels(const v1::FaceAnalysis& face, const v1::ImageSize& image) {
  const double w = image.width() > 0 ? image.width() : 1, h = image.height() > 0 ? image.height() : 1;
  std::vector<Pt> p;
  for (const auto& q : face.landmarks68()) p.push_back({q.x() * w, q.y() * h});
  return p;
}

double Dist(const Pt& a, const Pt& b) { return std::hypot(a.x - b.x, a.y - b.y); }

Pt Mean(const std::vector<Pt>& p, int first, int last) {
  Pt m{0, 0};
  for (int i = first; i <= last; ++i) {
    m.x += p[i].x;
    m.y += p[i].y;
  }
  const int n = last - first + 1;
  return {m.x / n, m.y / n};
}

v1::BoolAttribute Decide(double value, double threshold) {
  v1::BoolAttribute a;
  a.set_value(value > threshold);
  const double margin = std::abs(value - threshold) / threshold;
  a.set_confidence(static_cast<float>(std::min(99.0, 50.0 + 100.0 * margin)));
  return a;
}

v1::Emotion::Type EmotionOf(const std::string& expression) {
  if (expression == "neutral") return v1::Emotion::CALM;
  if (expression == "happy") return v1::Emotion::HAPPY;
  if (expression == "sad") return v1::Emotion::SAD;
  if (expression == "angry") return v1::Emotion::ANGRY;
  if (expression == "fearful") return v1::Emotion::FEAR;
  if (expression == "disgusted") return v1::Emotion::DISGUSTED;
  if (expression == "surprised") return v1::Emotion::SURPRISED;
  return v1::Emotion::TYPE_UNSPECIFIED;
}

struct QualityBar {
  float min_confidence, min_side_px, max_yaw, max_pitch, min_brightness, min_sharpness;
};

const QualityBar* BarFor(v1::QualityFilter::Value filter) {
  static const QualityBar kLow{50, 16, 80, 60, 5, 2};
  static const QualityBar kMedium{80, 40, 60, 45, 15, 10};
  static const QualityBar kHigh{95, 64, 40, 30, 25, 20};
  switch (filter) {
    case v1::QualityFilter::AUTO:
    case v1::QualityFilter::LOW:
      return &kLow;
    case v1::QualityFilter::MEDIUM:
      return &kMedium;
    case v1::QualityFilter::HIGH:
      return &kHigh;
    default:
      return nullptr;
  }
}

}  // namespace

float SimilarityFromDistance(float distance) {
  return static_cast<float>(100.0 / (1.0 + std::exp(kK * (double(distance) - kD0))));
}

float MaxDistanceForSimilarity(float threshold) {
  if (threshold <= 0) return 1e6f;
  if (threshold >= 100) return 0.0f;
  return static_cast<float>(std::max(0.0, kD0 + std::log(100.0 / threshold - 1.0) / kK));
}

AttributeSet ParseAttributes(const google::protobuf::RepeatedField<int>& attributes) {
  AttributeSet s;
  for (int a : attributes) {
    switch (a) {
      case v1::FaceAttribute::ALL:
        s.age_range = s.gender = s.emotions = s.smile = s.eyes_open = s.mouth_open = true;
        s.eye_direction = true;
        break;
      case v1::FaceAttribute::AGE_RANGE: s.age_range = true; break;
      case v1::FaceAttribute::GENDER: s.gender = true; break;
      case v1::FaceAttribute::EMOTIONS: s.emotions = true; break;
      case v1::FaceAttribute::SMILE: s.smile = true; break;
      case v1::FaceAttribute::EYES_OPEN: s.eyes_open = true; break;
      case v1::FaceAttribute::MOUTH_OPEN: s.mouth_open = true; break;
      case v1::FaceAttribute::EYE_DIRECTION: s.eye_direction = true; break;
      default: break;  // DEFAULT, and attributes Stratus has no model for
    }
  }
  return s;
}

std::vector<v1::Landmark> RekognitionLandmarks(const v1::FaceAnalysis& face) {
  std::vector<v1::Landmark> out;
  if (face.landmarks68_size() < 68) return out;
  auto at = [&](int i) { return std::make_pair(face.landmarks68(i).x(), face.landmarks68(i).y()); };
  auto mean = [&](std::initializer_list<int> idx) {
    float x = 0, y = 0;
    for (int i : idx) {
      x += face.landmarks68(i).x();
      y += face.landmarks68(i).y();
    }
    return std::make_pair(x / idx.size(), y / idx.size());
  };
  const auto eye_left = mean({36, 37, 38, 39, 40, 41});
  const auto eye_right = mean({42, 43, 44, 45, 46, 47});
  const std::pair<const char*, std::pair<float, float>> kPoints[] = {
      {"eyeLeft", eye_left},
      {"eyeRight", eye_right},
      {"nose", at(30)},
      {"mouthLeft", at(48)},
      {"mouthRight", at(54)},
      {"leftEyeBrowLeft", at(17)},
      {"leftEyeBrowRight", at(21)},
      {"leftEyeBrowUp", at(19)},
      {"rightEyeBrowLeft", at(22)},
      {"rightEyeBrowRight", at(26)},
      {"rightEyeBrowUp", at(24)},
      {"leftEyeLeft", at(36)},
      {"leftEyeRight", at(39)},
      {"leftEyeUp", mean({37, 38})},
      {"leftEyeDown", mean({40, 41})},
      {"rightEyeLeft", at(42)},
      {"rightEyeRight", at(45)},
      {"rightEyeUp", mean({43, 44})},
      {"rightEyeDown", mean({46, 47})},
      {"noseLeft", at(31)},
      {"noseRight", at(35)},
      {"mouthUp", at(51)},
      {"mouthDown", at(57)},
      {"leftPupil", eye_left},
      {"rightPupil", eye_right},
      {"upperJawlineLeft", at(0)},
      {"midJawlineLeft", at(4)},
      {"chinBottom", at(8)},
      {"midJawlineRight", at(12)},
      {"upperJawlineRight", at(16)},
  };
  for (const auto& [type, xy] : kPoints) {
    v1::Landmark l;
    l.set_type(type);
    l.set_x(xy.first);
    l.set_y(xy.second);
    out.push_back(std::move(l));
  }
  return out;
}

v1::FaceDetail ToFaceDetail(const v1::FaceAnalysis& face, const AttributeSet& attributes,
                            const v1::ImageSize& image) {
  v1::FaceDetail d;
  *d.mutable_bounding_box() = face.box();
  d.set_confidence(face.confidence() * 100.0f);
  for (auto& l : RekognitionLandmarks(face)) *d.add_landmarks() = std::move(l);
  *d.mutable_pose() = face.pose();
  *d.mutable_quality() = face.quality();
  if (attributes.eye_direction && face.has_eye_gaze()) {
    d.mutable_eye_direction()->set_yaw(face.eye_gaze().yaw());
    d.mutable_eye_direction()->set_pitch(face.eye_gaze().pitch());
    d.mutable_eye_direction()->set_confidence(face.confidence() * 100.0f);
  }
  if (attributes.age_range && face.age() > 0) {
    const double a = face.age();
    d.mutable_age_range()->set_low(std::clamp(static_cast<int>(std::floor(a * 0.8)), 0, 100));
    d.mutable_age_range()->set_high(std::clamp(static_cast<int>(std::ceil(a * 1.2)), 0, 100));
  }
  if (attributes.gender && !face.gender().empty()) {
    d.mutable_gender()->set_value(face.gender() == "male" ? v1::Gender::Male : v1::Gender::Female);
    d.mutable_gender()->set_confidence(face.gender_confidence() * 100.0f);
  }
  if (attributes.emotions && !face.expressions().empty()) {
    std::vector<std::pair<float, v1::Emotion::Type>> emotions;
    for (const auto& [name, p] : face.expressions()) {
      const v1::Emotion::Type t = EmotionOf(name);
      if (t != v1::Emotion::TYPE_UNSPECIFIED) emotions.emplace_back(p * 100.0f, t);
    }
    std::sort(emotions.begin(), emotions.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (const auto& [c, t] : emotions) {
      v1::Emotion* e = d.add_emotions();
      e->set_type(t);
      e->set_confidence(c);
    }
  }
  const std::vector<Pt> p = Pixels(face, image);
  if (p.size() >= 68) {
    const double mouth_width = Dist(p[48], p[54]);
    if (attributes.smile) {
      auto happy = face.expressions().find("happy");
      if (happy != face.expressions().end()) {
        v1::BoolAttribute* s = d.mutable_smile();
        s->set_value(happy->second > 0.5f);
        s->set_confidence(100.0f * std::max(happy->second, 1.0f - happy->second));
      } else {
        const double eyes = Dist(Mean(p, 36, 41), Mean(p, 42, 47));
        if (eyes > 0) *d.mutable_smile() = Decide(mouth_width / eyes, 0.87);
      }
    }
    if (attributes.eyes_open) {
      auto ear = [&](int a) {
        const double width = Dist(p[a], p[a + 3]);
        return width > 0 ? (Dist(p[a + 1], p[a + 5]) + Dist(p[a + 2], p[a + 4])) / (2 * width) : 0;
      };
      *d.mutable_eyes_open() = Decide((ear(36) + ear(42)) / 2, 0.2);
    }
    if (attributes.mouth_open && mouth_width > 0) {
      *d.mutable_mouth_open() = Decide(Dist(p[62], p[66]) / mouth_width, 0.12);
    }
  }
  return d;
}

std::vector<v1::UnindexedFace::Reason> QualityReasons(const v1::FaceAnalysis& face,
                                                       v1::QualityFilter::Value filter,
                                                       const v1::ImageSize& image) {
  std::vector<v1::UnindexedFace::Reason> reasons;
  const QualityBar* bar = BarFor(filter);
  if (bar == nullptr) return reasons;
  if (face.confidence() * 100.0f < bar->min_confidence) reasons.push_back(v1::UnindexedFace::LOW_CONFIDENCE);
  const float side = std::min(face.box().width() * image.width(), face.box().height() * image.height());
  if (side < bar->min_side_px) reasons.push_back(v1::UnindexedFace::SMALL_BOUNDING_BOX);
  if (std::abs(face.pose().yaw()) > bar->max_yaw || std::abs(face.pose().pitch()) > bar->max_pitch) {
    reasons.push_back(v1::UnindexedFace::EXTREME_POSE);
  }
  if (face.has_quality()) {
    if (face.quality().brightness() < bar->min_brightness) reasons.push_back(v1::UnindexedFace::LOW_BRIGHTNESS);
    if (face.quality().sharpness() < bar->min_sharpness) reasons.push_back(v1::UnindexedFace::LOW_SHARPNESS);
  }
  return reasons;
}

}  // namespace stratus::recognition
