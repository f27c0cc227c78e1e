#include "runtime/decoders/basic.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace stratus::runtime {
namespace {

absl::Status ShapeError(const DecoderContext& c, const std::string& what,
                        const OutputTensor* t, const std::string& expected) {
  return absl::InvalidArgumentError(
      absl::StrCat("model '", c.model_name, "': decoder '", c.type, "' expects ", what, " ",
                   expected, t ? absl::StrCat(", got ", t->ShapeString()) : std::string()));
}

absl::Status CountError(const DecoderContext& c, size_t have, const std::string& expected) {
  return absl::InvalidArgumentError(absl::StrCat("model '", c.model_name, "': decoder '", c.type,
                                                 "' expects ", expected, ", the model returned ",
                                                 have, " output(s)"));
}

// Common detection options: config defaults overridden per call.
struct DetectParams {
  float score_threshold;
  float iou_threshold;
  int max_results;
};

absl::Status ReadDetectParams(const DecoderContext& c, DetectParams& p, double score,
                              double iou, int max_results) {
  double s, i;
  int m;
  STRATUS_ASSIGN_OR_RETURN(s, ParamDouble(c, "score_threshold", score));
  STRATUS_ASSIGN_OR_RETURN(i, ParamDouble(c, "iou_threshold", iou));
  STRATUS_ASSIGN_OR_RETURN(m, ParamInt(c, "max_results", max_results));
  if (i < 0 || i > 1 || s < 0 || s > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", c.model_name, "': score_threshold and iou_threshold must be within [0, 1]"));
  }
  p = DetectParams{static_cast<float>(s), static_cast<float>(i), m};
  return absl::OkStatus();
}

bool ClassWanted(const DecodeOptions& o, int class_id) {
  return o.classes.empty() ||
         std::find(o.classes.begin(), o.classes.end(), class_id) != o.classes.end();
}

// ---------------------------------------------------------------------------------------------
class SsdDecoder : public Decoder {
 public:
  SsdDecoder(DecoderContext c, DetectParams p) : c_(std::move(c)), p_(p) {}

  absl::Status CheckOutputs(const std::vector<OutputTensor>& out, int batch) const override {
    if (out.size() != 2) return CountError(c_, out.size(), "2 outputs (boxes, scores)");
    const OutputTensor& boxes = out[0];
    const OutputTensor& scores = out[1];
    if (boxes.shape.size() != 3 || boxes.dim(0) != batch || boxes.dim(2) != 4) {
      return ShapeError(c_, "boxes", &boxes, absl::StrCat("[", batch, ",K,4]"));
    }
    const int64_t k = boxes.dim(1);
    const bool ok2 = scores.shape.size() == 2 && scores.dim(0) == batch && scores.dim(1) == k;
    const bool ok3 = scores.shape.size() == 3 && scores.dim(0) == batch && scores.dim(1) == k;
    if (!ok2 && !ok3) {
      return ShapeError(c_, "scores", &scores, absl::StrCat("[", batch, ",", k, "] or [", batch,
                                                            ",", k, ",C]"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<Prediction>> Decode(const std::vector<OutputTensor>& out,
                                                 absl::Span<const InputGeometry> geometry,
                                                 const DecodeOptions& o) const override {
    if (absl::Status s = CheckOutputs(out, static_cast<int>(geometry.size())); !s.ok()) return s;
    const float threshold = o.min_confidence.value_or(p_.score_threshold);
    const int max_results = o.max_results.value_or(p_.max_results);
    const int64_t k = out[0].dim(1);
    const int64_t classes = out[1].shape.size() == 3 ? out[1].dim(2) : 1;
    std::vector<Prediction> result(geometry.size());
    for (size_t b = 0; b < geometry.size(); ++b) {
      const InputGeometry& g = geometry[b];
      auto boxes = out[0].item(static_cast<int64_t>(b));
      auto scores = out[1].item(static_cast<int64_t>(b));
      std::vector<Candidate> cands;
      for (int64_t i = 0; i < k; ++i) {
        for (int64_t cls = 0; cls < classes; ++cls) {
          const float score = scores[i * classes + cls];
          if (!(score > threshold)) continue;  // strict, as face-api
          if (!ClassWanted(o, static_cast<int>(cls))) continue;
          const float* bx = &boxes[i * 4];
          // (ymin, xmin, ymax, xmax) fractions of the input, possibly swapped: normalise as
          // face-api's IoU does.
          Candidate cand;
          cand.y1 = std::min(bx[0], bx[2]);
          cand.y2 = std::max(bx[0], bx[2]);
          cand.x1 = std::min(bx[1], bx[3]);
          cand.x2 = std::max(bx[1], bx[3]);
          cand.score = score;
          cand.class_id = static_cast<int>(cls);
          cand.index = static_cast<int>(i);
          cands.push_back(cand);
        }
      }
      // NMS in input fractions (IoU is invariant to the per-axis scale), then clip to the input
      // as face-api does before undoing the padding.
      for (Candidate& kept : NonMaxSuppression(std::move(cands), p_.iou_threshold, max_results,
                                               /*class_agnostic=*/false)) {
        kept.x1 = std::clamp(kept.x1, 0.f, 1.f) * static_cast<float>(g.input_width);
        kept.x2 = std::clamp(kept.x2, 0.f, 1.f) * static_cast<float>(g.input_width);
        kept.y1 = std::clamp(kept.y1, 0.f, 1.f) * static_cast<float>(g.input_height);
        kept.y2 = std::clamp(kept.y2, 0.f, 1.f) * static_cast<float>(g.input_height);
        result[b].detections.push_back(ToDetection(kept, g, c_.labels));
      }
    }
    return result;
  }

 private:
  DecoderContext c_;
  DetectParams p_;
};

// ---------------------------------------------------------------------------------------------
class YoloDecoder : public Decoder {
 public:
  enum class Layout { kAuto, kV5, kV8 };
  YoloDecoder(DecoderContext c, DetectParams p, Layout layout, bool agnostic)
      : c_(std::move(c)), p_(p), layout_(layout), agnostic_(agnostic) {}

  // Resolves the layout of `t`: v5 [B,N,5+C] or v8 [B,4+C,N].
  absl::StatusOr<Layout> Resolve(const OutputTensor& t, int batch) const {
    if (t.shape.size() != 3 || t.dim(0) != batch) {
      return ShapeError(c_, "output 0", &t, absl::StrCat("[", batch, ",N,5+C] or [", batch,
                                                         ",4+C,N]"));
    }
    Layout l = layout_;
    if (l == Layout::kAuto) {
      // With labels the class count decides; without, the long axis is the anchors' (N is in
      // the thousands for real exports, 4+C at most a few hundred).
      const int64_t nc = static_cast<int64_t>(c_.labels.size());
      if (nc > 0 && t.dim(2) == 5 + nc) {
        l = Layout::kV5;
      } else if (nc > 0 && t.dim(1) == 4 + nc) {
        l = Layout::kV8;
      } else {
        l = t.dim(1) < t.dim(2) ? Layout::kV8 : Layout::kV5;
      }
    }
    const int64_t width = l == Layout::kV5 ? t.dim(2) : t.dim(1);
    const int64_t extra = l == Layout::kV5 ? 5 : 4;
    if (width <= extra) {
      return ShapeError(c_, "output 0", &t,
                        l == Layout::kV5 ? "[B,N,5+C] (v5)" : "[B,4+C,N] (v8)");
    }
    if (!c_.labels.empty() && width - extra != static_cast<int64_t>(c_.labels.size())) {
      return ShapeError(c_, "output 0", &t,
                        absl::StrCat(c_.labels.size(), " classes (the config's labels) in ",
                                     l == Layout::kV5 ? "[B,N,5+C] (v5)" : "[B,4+C,N] (v8)"));
    }
    return l;
  }

  absl::Status CheckOutputs(const std::vector<OutputTensor>& out, int batch) const override {
    if (out.empty()) return CountError(c_, 0, "at least 1 output");
    return Resolve(out[0], batch).status();
  }

  absl::StatusOr<std::vector<Prediction>> Decode(const std::vector<OutputTensor>& out,
                                                 absl::Span<const InputGeometry> geometry,
                                                 const DecodeOptions& o) const override {
    if (out.empty()) return CountError(c_, 0, "at least 1 output");
    auto layout = Resolve(out[0], static_cast<int>(geometry.size()));
    if (!layout.ok()) return layout.status();
    const OutputTensor& t = out[0];
    const bool v5 = *layout == Layout::kV5;
    const int64_t n = v5 ? t.dim(1) : t.dim(2);
    const int64_t width = v5 ? t.dim(2) : t.dim(1);
    const int64_t classes = width - (v5 ? 5 : 4);
    const float threshold = o.min_confidence.value_or(p_.score_threshold);
    const int max_results = o.max_results.value_or(p_.max_results);
    std::vector<Prediction> result(geometry.size());
    for (size_t b = 0; b < geometry.size(); ++b) {
      auto data = t.item(static_cast<int64_t>(b));
      // v5: element (i, j) at i*width + j; v8: at j*n + i.
      auto at = [&](int64_t i, int64_t j) { return v5 ? data[i * width + j] : data[j * n + i]; };
      std::vector<Candidate> cands;
      for (int64_t i = 0; i < n; ++i) {
        const float obj = v5 ? at(i, 4) : 1.f;
        if (obj < threshold) continue;
        int best = -1;
        float best_score = -1;
        for (int64_t c = 0; c < classes; ++c) {
          if (!ClassWanted(o, static_cast<int>(c))) continue;
          const float s = obj * at(i, (v5 ? 5 : 4) + c);
          if (s > best_score) {
            best_score = s;
            best = static_cast<int>(c);
          }
        }
        if (best < 0 || best_score < threshold) continue;
        const float cx = at(i, 0), cy = at(i, 1), w = at(i, 2), h = at(i, 3);
        cands.push_back(Candidate{cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, best_score,
                                  best, static_cast<int>(i)});
      }
      for (const Candidate& kept :
           NonMaxSuppression(std::move(cands), p_.iou_threshold, max_results, agnostic_)) {
        result[b].detections.push_back(ToDetection(kept, geometry[b], c_.labels));
      }
    }
    return result;
  }

 private:
  DecoderContext c_;
  DetectParams p_;
  Layout layout_;
  bool agnostic_;
};

// ---------------------------------------------------------------------------------------------
enum class Activation { kSoftmax, kSigmoid, kNone };

absl::StatusOr<Activation> ParseActivation(const DecoderContext& c, const std::string& key,
                                           const std::string& def) {
  // `softmax_applied: true` (the model already returns probabilities) means no activation.
  auto applied = ParamBool(c, "softmax_applied", false);
  if (!applied.ok()) return applied.status();
  if (*applied) return Activation::kNone;
  auto s = ParamString(c, key, def);
  if (!s.ok()) return s.status();
  if (*s == "softmax") return Activation::kSoftmax;
  if (*s == "sigmoid") return Activation::kSigmoid;
  if (*s == "none") return Activation::kNone;
  return absl::InvalidArgumentError(absl::StrCat("model '", c.model_name, "': decoder key '", key,
                                                 "' must be softmax, sigmoid or none, got '", *s,
                                                 "'"));
}

std::vector<float> Activate(absl::Span<const float> x, Activation a) {
  std::vector<float> y(x.begin(), x.end());
  if (a == Activation::kSoftmax && !y.empty()) {
    const float m = *std::max_element(y.begin(), y.end());
    double sum = 0;
    for (float& v : y) {
      v = std::exp(v - m);
      sum += v;
    }
    for (float& v : y) v = static_cast<float>(v / sum);
  } else if (a == Activation::kSigmoid) {
    for (float& v : y) v = 1.f / (1.f + std::exp(-v));
  }
  return y;
}

// Product of the dims after the batch, requiring all but the first of them to be 1.
int64_t FlatWidth(const OutputTensor& t) {
  if (t.shape.size() < 2) return -1;
  for (size_t i = 2; i < t.shape.size(); ++i) {
    if (t.shape[i] != 1) return -1;
  }
  return t.shape[1];
}

class ClassifierDecoder : public Decoder {
 public:
  ClassifierDecoder(DecoderContext c, Activation a) : c_(std::move(c)), a_(a) {}

  absl::Status CheckOutputs(const std::vector<OutputTensor>& out, int batch) const override {
    if (out.size() != 1) return CountError(c_, out.size(), "1 output (logits [B,C])");
    const int64_t w = FlatWidth(out[0]);
    if (out[0].dim(0) != batch || w <= 0) {
      return ShapeError(c_, "logits", &out[0], absl::StrCat("[", batch, ",C]"));
    }
    if (!c_.labels.empty() && w != static_cast<int64_t>(c_.labels.size())) {
      return ShapeError(c_, "logits", &out[0],
                        absl::StrCat("[", batch, ",", c_.labels.size(), "] (one per label)"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<Prediction>> Decode(const std::vector<OutputTensor>& out,
                                                 absl::Span<const InputGeometry> geometry,
                                                 const DecodeOptions&) const override {
    if (absl::Status s = CheckOutputs(out, static_cast<int>(geometry.size())); !s.ok()) return s;
    std::vector<Prediction> result(geometry.size());
    for (size_t b = 0; b < geometry.size(); ++b) {
      result[b].probabilities = Activate(out[0].item(static_cast<int64_t>(b)), a_);
    }
    return result;
  }

 private:
  DecoderContext c_;
  Activation a_;
};

class EmbeddingDecoder : public Decoder {
 public:
  EmbeddingDecoder(DecoderContext c, bool normalize) : c_(std::move(c)), normalize_(normalize) {}

  absl::Status CheckOutputs(const std::vector<OutputTensor>& out, int batch) const override {
    if (out.size() != 1) return CountError(c_, out.size(), "1 output (embedding [B,D])");
    // Any [B, ...] is read flat per item (face_iris gives [B,1,1,228]).
    int64_t width = out[0].shape.size() >= 2 ? 1 : 0;
    for (size_t i = 1; i < out[0].shape.size(); ++i) width *= out[0].shape[i];
    if (out[0].dim(0) != batch || width <= 0) {
      return ShapeError(c_, "embedding", &out[0], absl::StrCat("[", batch, ",D]"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<Prediction>> Decode(const std::vector<OutputTensor>& out,
                                                 absl::Span<const InputGeometry> geometry,
                                                 const DecodeOptions&) const override {
    if (absl::Status s = CheckOutputs(out, static_cast<int>(geometry.size())); !s.ok()) return s;
    std::vector<Prediction> result(geometry.size());
    for (size_t b = 0; b < geometry.size(); ++b) {
      auto v = out[0].item(static_cast<int64_t>(b));
      std::vector<float> e(v.begin(), v.end());
      if (normalize_) {
        double norm = 0;
        for (float x : e) norm += static_cast<double>(x) * x;
        norm = std::sqrt(norm);
        if (norm > 0) {
          for (float& x : e) x = static_cast<float>(x / norm);
        }
      }
      result[b].embedding = std::move(e);
    }
    return result;
  }

 private:
  DecoderContext c_;
  bool normalize_;
};

class Landmarks68Decoder : public Decoder {
 public:
  explicit Landmarks68Decoder(DecoderContext c) : c_(std::move(c)) {}

  absl::Status CheckOutputs(const std::vector<OutputTensor>& out, int batch) const override {
    if (out.size() != 1) return CountError(c_, out.size(), "1 output (points [B,136])");
    if (out[0].dim(0) != batch || FlatWidth(out[0]) != 136) {
      return ShapeError(c_, "points", &out[0], absl::StrCat("[", batch, ",136]"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<Prediction>> Decode(const std::vector<OutputTensor>& out,
                                                 absl::Span<const InputGeometry> geometry,
                                                 const DecodeOptions&) const override {
    if (absl::Status s = CheckOutputs(out, static_cast<int>(geometry.size())); !s.ok()) return s;
    std::vector<Prediction> result(geometry.size());
    for (size_t b = 0; b < geometry.size(); ++b) {
      const InputGeometry& g = geometry[b];
      auto v = out[0].item(static_cast<int64_t>(b));
      result[b].landmarks.reserve(68);
      for (int i = 0; i < 68; ++i) {
        // Fractions of the model input -> input pixels -> fractions of the crop (padding
        // undone as face-api's FaceLandmark68NetBase.postProcess does).
        const double x = static_cast<double>(v[2 * i]) * g.input_width;
        const double y = static_cast<double>(v[2 * i + 1]) * g.input_height;
        result[b].landmarks.push_back(Point{static_cast<float>(g.InputToImageFractionX(x)),
                                            static_cast<float>(g.InputToImageFractionY(y))});
      }
    }
    return result;
  }

 private:
  DecoderContext c_;
};

class AgeGenderDecoder : public Decoder {
 public:
  AgeGenderDecoder(DecoderContext c, Activation a) : c_(std::move(c)), a_(a) {}

  absl::Status CheckOutputs(const std::vector<OutputTensor>& out, int batch) const override {
    if (out.size() != 2) return CountError(c_, out.size(), "2 outputs (age, gender)");
    const OutputTensor& age = out[0];
    const bool age_ok = (age.shape.size() == 1 && age.dim(0) == batch) ||
                        (age.shape.size() == 2 && age.dim(0) == batch && age.dim(1) == 1);
    if (!age_ok) return ShapeError(c_, "age", &age, absl::StrCat("[", batch, "] or [", batch, ",1]"));
    if (out[1].dim(0) != batch || FlatWidth(out[1]) != 2) {
      return ShapeError(c_, "gender", &out[1], absl::StrCat("[", batch, ",2]"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<Prediction>> Decode(const std::vector<OutputTensor>& out,
                                                 absl::Span<const InputGeometry> geometry,
                                                 const DecodeOptions&) const override {
    if (absl::Status s = CheckOutputs(out, static_cast<int>(geometry.size())); !s.ok()) return s;
    std::vector<Prediction> result(geometry.size());
    for (size_t b = 0; b < geometry.size(); ++b) {
      result[b].age = out[0].item(static_cast<int64_t>(b))[0];
      result[b].probabilities = Activate(out[1].item(static_cast<int64_t>(b)), a_);
    }
    return result;
  }

 private:
  DecoderContext c_;
  Activation a_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Decoder>> CreateSsdDecoder(const DecoderContext& c) {
  DetectParams p;
  if (absl::Status s = ReadDetectParams(c, p, 0.5, 0.5, 100); !s.ok()) return s;
  return std::make_unique<SsdDecoder>(c, p);
}

absl::StatusOr<std::unique_ptr<Decoder>> CreateYoloDecoder(const DecoderContext& c) {
  DetectParams p;
  if (absl::Status s = ReadDetectParams(c, p, 0.25, 0.45, 100); !s.ok()) return s;
  std::string layout;
  STRATUS_ASSIGN_OR_RETURN(layout, ParamString(c, "layout", "auto"));
  bool agnostic;
  STRATUS_ASSIGN_OR_RETURN(agnostic, ParamBool(c, "class_agnostic", false));
  YoloDecoder::Layout l;
  if (layout == "auto") {
    l = YoloDecoder::Layout::kAuto;
  } else if (layout == "v5") {
    l = YoloDecoder::Layout::kV5;
  } else if (layout == "v8") {
    l = YoloDecoder::Layout::kV8;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", c.model_name, "': decoder key 'layout' must be auto, v5 or v8, got '", layout,
        "'"));
  }
  return std::make_unique<YoloDecoder>(c, p, l, agnostic);
}

absl::StatusOr<std::unique_ptr<Decoder>> CreateClassifierDecoder(const DecoderContext& c) {
  auto a = ParseActivation(c, "activation", "softmax");
  if (!a.ok()) return a.status();
  return std::make_unique<ClassifierDecoder>(c, *a);
}

absl::StatusOr<std::unique_ptr<Decoder>> CreateEmbeddingDecoder(const DecoderContext& c) {
  bool normalize;
  STRATUS_ASSIGN_OR_RETURN(normalize, ParamBool(c, "normalize", false));
  return std::make_unique<EmbeddingDecoder>(c, normalize);
}

absl::StatusOr<std::unique_ptr<Decoder>> CreateLandmarks68Decoder(const DecoderContext& c) {
  return std::make_unique<Landmarks68Decoder>(c);
}

absl::StatusOr<std::unique_ptr<Decoder>> CreateAgeGenderDecoder(const DecoderContext& c) {
  auto a = ParseActivation(c, "gender_activation", "softmax");
  if (!a.ok()) return a.status();
  return std::make_unique<AgeGenderDecoder>(c, *a);
}

}  // namespace stratus::runtime
