#include "runtime/decoder.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/decoders/basic.h"
#include "runtime/decoders/centernet.h"
#include "runtime/decoders/nanodet.h"

namespace stratus::runtime {
namespace {

using Factory = std::function<absl::StatusOr<std::unique_ptr<Decoder>>(const DecoderContext&)>;

const std::vector<std::pair<std::string, Factory>>& Registry() {
  static const auto* registry = new std::vector<std::pair<std::string, Factory>>{
      {"ssd", CreateSsdDecoder},
      {"yolo", CreateYoloDecoder},
      {"classifier", CreateClassifierDecoder},
      {"embedding", CreateEmbeddingDecoder},
      {"landmarks68", CreateLandmarks68Decoder},
      {"age_gender", CreateAgeGenderDecoder},
      {"nanodet", CreateNanodetDecoder},
      {"centernet", CreateCenternetDecoder},
  };
  return *registry;
}

double Logit(double p) {
  p = std::clamp(p, 1e-12, 1 - 1e-12);
  return std::log(p / (1 - p));
}
double Sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

// `score_calibration: {a, b}` around a detection decoder: confidence = sigmoid(a * logit(raw) + b)
// (a > 0, so the order of the detections and NMS are unchanged). Thresholds (the config's
// score_threshold, DecodeOptions::min_confidence) are on the calibrated scale and handed to the
// inner decoder converted back to raw scores.
class CalibratedDecoder : public Decoder {
 public:
  CalibratedDecoder(std::unique_ptr<Decoder> inner, double a, double b,
                    std::optional<double> threshold)
      : inner_(std::move(inner)), a_(a), b_(b), threshold_(threshold) {}

  absl::Status CheckOutputs(const std::vector<OutputTensor>& outputs, int batch) const override {
    return inner_->CheckOutputs(outputs, batch);
  }

  absl::StatusOr<std::vector<Prediction>> Decode(const std::vector<OutputTensor>& outputs,
                                                 absl::Span<const InputGeometry> geometry,
                                                 const DecodeOptions& options) const override {
    DecodeOptions raw = options;
    std::optional<double> t =
        options.min_confidence ? std::optional<double>(*options.min_confidence) : threshold_;
    if (t) raw.min_confidence = static_cast<float>(ToRaw(*t));
    auto predictions = inner_->Decode(outputs, geometry, raw);
    if (!predictions.ok()) return predictions.status();
    for (Prediction& p : *predictions) {
      for (Detection& d : p.detections) {
        d.confidence = static_cast<float>(Sigmoid(a_ * Logit(d.confidence) + b_));
      }
    }
    return predictions;
  }

 private:
  double ToRaw(double p) const {
    if (p <= 0) return 0;
    if (p >= 1) return 1;
    return Sigmoid((Logit(p) - b_) / a_);
  }

  std::unique_ptr<Decoder> inner_;
  double a_, b_;
  std::optional<double> threshold_;
};

absl::StatusOr<std::unique_ptr<Decoder>> WithCalibration(const DecoderContext& c,
                                                         std::unique_ptr<Decoder> inner) {
  const YAML::Node cal =
      c.params && c.params.IsMap() ? c.params["score_calibration"] : YAML::Node();
  if (!cal) return inner;
  auto bad = absl::InvalidArgumentError(
      absl::StrCat("model '", c.model_name,
                   "': decoder key 'score_calibration' must be {a: A, b: B} with A > 0"));
  double a = 0, b = 0;
  try {
    if (!cal.IsMap() || !cal["a"] || !cal["b"]) return bad;
    a = cal["a"].as<double>();
    b = cal["b"].as<double>();
  } catch (const YAML::Exception&) {
    return bad;
  }
  if (!(a > 0) || !std::isfinite(b)) return bad;
  std::optional<double> threshold;
  if (c.params["score_threshold"]) {
    auto t = ParamDouble(c, "score_threshold", 0);
    if (!t.ok()) return t.status();
    threshold = *t;
  }
  return std::unique_ptr<Decoder>(new CalibratedDecoder(std::move(inner), a, b, threshold));
}

}  // namespace

int64_t OutputTensor::numel() const {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<int64_t>());
}

absl::Span<const float> OutputTensor::item(int64_t b) const {
  if (shape.empty() || shape[0] == 0) return {};
  const size_t per = data.size() / static_cast<size_t>(shape[0]);
  return absl::Span<const float>(data.data() + per * static_cast<size_t>(b), per);
}

std::string OutputTensor::ShapeString() const { return absl::StrCat("[", absl::StrJoin(shape, ","), "]"); }

absl::StatusOr<std::unique_ptr<Decoder>> CreateDecoder(const DecoderContext& context) {
  for (const auto& [name, factory] : Registry()) {
    if (name != context.type) continue;
    auto decoder = factory(context);
    if (!decoder.ok()) return decoder.status();
    return WithCalibration(context, std::move(*decoder));
  }
  return absl::InvalidArgumentError(absl::StrCat("model '", context.model_name,
                                                 "': unknown decoder type '", context.type,
                                                 "' (known: ", absl::StrJoin(KnownDecoders(), ", "),
                                                 ")"));
}

std::vector<std::string> KnownDecoders() {
  std::vector<std::string> names;
  for (const auto& entry : Registry()) names.push_back(entry.first);
  return names;
}

namespace {
template <typename T>
absl::StatusOr<T> Param(const DecoderContext& c, const std::string& key, T default_value,
                        const char* what) {
  if (!c.params || !c.params.IsMap()) return default_value;
  const YAML::Node node = c.params[key];
  if (!node || node.IsNull()) return default_value;
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    return absl::InvalidArgumentError(absl::StrCat("model '", c.model_name, "': decoder key '",
                                                   key, "' must be ", what));
  }
}
}  // namespace

absl::StatusOr<double> ParamDouble(const DecoderContext& c, const std::string& key,
                                   double default_value) {
  return Param<double>(c, key, default_value, "a number");
}
absl::StatusOr<int> ParamInt(const DecoderContext& c, const std::string& key, int default_value) {
  return Param<int>(c, key, default_value, "an integer");
}
absl::StatusOr<bool> ParamBool(const DecoderContext& c, const std::string& key,
                               bool default_value) {
  return Param<bool>(c, key, default_value, "true or false");
}
absl::StatusOr<std::string> ParamString(const DecoderContext& c, const std::string& key,
                                        const std::string& default_value) {
  return Param<std::string>(c, key, default_value, "a string");
}

std::string LabelFor(const std::vector<std::string>& labels, int class_id) {
  if (class_id >= 0 && static_cast<size_t>(class_id) < labels.size()) return labels[class_id];
  return std::to_string(class_id);
}

float IoU(const Candidate& a, const Candidate& b) {
  const float area_a = std::max(0.f, a.x2 - a.x1) * std::max(0.f, a.y2 - a.y1);
  const float area_b = std::max(0.f, b.x2 - b.x1) * std::max(0.f, b.y2 - b.y1);
  if (area_a <= 0 || area_b <= 0) return 0.f;
  const float iw = std::max(0.f, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  const float ih = std::max(0.f, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const float inter = iw * ih;
  return inter / (area_a + area_b - inter);
}

std::vector<Candidate> NonMaxSuppression(std::vector<Candidate> candidates, float iou_threshold,
                                         int max_results, bool class_agnostic) {
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  std::vector<Candidate> kept;
  for (const Candidate& c : candidates) {
    if (max_results > 0 && static_cast<int>(kept.size()) >= max_results) break;
    bool keep = true;
    for (const Candidate& k : kept) {
      if (!class_agnostic && k.class_id != c.class_id) continue;
      if (IoU(c, k) > iou_threshold) {
        keep = false;
        break;
      }
    }
    if (keep) kept.push_back(c);
  }
  return kept;
}

Detection ToDetection(const Candidate& c, const InputGeometry& g,
                      const std::vector<std::string>& labels) {
  auto clamp01 = [](double v) { return static_cast<float>(std::clamp(v, 0.0, 1.0)); };
  const float left = clamp01(g.InputToImageFractionX(c.x1));
  const float top = clamp01(g.InputToImageFractionY(c.y1));
  const float right = clamp01(g.InputToImageFractionX(c.x2));
  const float bottom = clamp01(g.InputToImageFractionY(c.y2));
  Detection d;
  d.class_id = c.class_id;
  d.label = LabelFor(labels, c.class_id);
  d.confidence = c.score;
  d.box = Box{left, top, std::max(0.f, right - left), std::max(0.f, bottom - top)};
  return d;
}

}  // namespace stratus::runtime
