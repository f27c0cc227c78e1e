#include "runtime/decoders/centernet.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace stratus::runtime {
namespace {

struct CenternetParams {
  double score_threshold = 0.2;
  float iou_threshold = 0.4f;
  int max_results = 100;
  bool class_agnostic = true;
  bool nms = true;
};

class CenternetDecoder : public Decoder {
 public:
  CenternetDecoder(DecoderContext c, CenternetParams p) : c_(std::move(c)), p_(p) {}

  absl::Status CheckOutputs(const std::vector<OutputTensor>& out, int batch) const override {
    auto i = DetectionsOutput(out, batch);
    return i.ok() ? absl::OkStatus() : i.status();
  }

  absl::StatusOr<std::vector<Prediction>> Decode(const std::vector<OutputTensor>& out,
                                                 absl::Span<const InputGeometry> geometry,
                                                 const DecodeOptions& o) const override {
    const int batch = static_cast<int>(geometry.size());
    auto index = DetectionsOutput(out, batch);
    if (!index.ok()) return index.status();
    const OutputTensor& t = out[*index];
    const double threshold = o.min_confidence ? *o.min_confidence : p_.score_threshold;
    const int max_results = o.max_results.value_or(p_.max_results);
    const int64_t rows = t.dim(1);
    std::vector<Prediction> result(geometry.size());
    for (int b = 0; b < batch; ++b) {
      const InputGeometry& g = geometry[static_cast<size_t>(b)];
      const auto data = t.item(b);
      std::vector<Candidate> candidates;
      for (int64_t r = 0; r < rows; ++r) {
        const float* row = data.data() + r * 6;
        const float score = row[4];
        const float cls = row[5];
        if (!(score > threshold) || !std::isfinite(cls)) continue;
        const int class_id = static_cast<int>(std::lround(cls));
        if (class_id < 0 || (!c_.labels.empty() && class_id >= static_cast<int>(c_.labels.size())))
          continue;
        if (!o.classes.empty() &&
            std::find(o.classes.begin(), o.classes.end(), class_id) == o.classes.end())
          continue;
        const float w = static_cast<float>(g.input_width);
        const float h = static_cast<float>(g.input_height);
        Candidate c{std::clamp(row[0], 0.f, w),
                    std::clamp(row[1], 0.f, h),
                    std::clamp(row[2], 0.f, w),
                    std::clamp(row[3], 0.f, h),
                    score,
                    class_id,
                    static_cast<int>(r)};
        if (c.x2 <= c.x1 || c.y2 <= c.y1) continue;
        candidates.push_back(c);
      }
      std::vector<Candidate> kept;
      if (p_.nms) {
        kept = NonMaxSuppression(std::move(candidates), p_.iou_threshold, max_results,
                                 p_.class_agnostic);
      } else {
        std::stable_sort(candidates.begin(), candidates.end(),
                         [](const Candidate& a, const Candidate& c) { return a.score > c.score; });
        if (max_results > 0 && static_cast<int>(candidates.size()) > max_results)
          candidates.resize(static_cast<size_t>(max_results));
        kept = std::move(candidates);
      }
      for (const Candidate& c : kept) {
        result[static_cast<size_t>(b)].detections.push_back(ToDetection(c, g, c_.labels));
      }
    }
    return result;
  }

 private:
  absl::StatusOr<size_t> DetectionsOutput(const std::vector<OutputTensor>& out, int batch) const {
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i].shape.size() == 3 && out[i].dim(0) == batch && out[i].dim(2) == 6) return i;
    }
    std::vector<std::string> shapes;
    for (const auto& t : out) shapes.push_back(t.ShapeString());
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", c_.model_name, "': decoder 'centernet' expects an output [", batch,
        ",K,6] (x1, y1, x2, y2, score, class); the model returned ", absl::StrJoin(shapes, " ")));
  }

  DecoderContext c_;
  CenternetParams p_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Decoder>> CreateCenternetDecoder(const DecoderContext& c) {
  CenternetParams p;
  auto bad = [&](const std::string& key, const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", c.model_name, "': decoder key '", key, "' ", why));
  };
  auto score = ParamDouble(c, "score_threshold", p.score_threshold);
  if (!score.ok()) return score.status();
  if (*score < 0 || *score > 1) return bad("score_threshold", "must be within [0, 1]");
  p.score_threshold = *score;
  auto iou = ParamDouble(c, "iou_threshold", p.iou_threshold);
  if (!iou.ok()) return iou.status();
  if (*iou < 0 || *iou > 1) return bad("iou_threshold", "must be within [0, 1]");
  p.iou_threshold = static_cast<float>(*iou);
  auto max_results = ParamInt(c, "max_results", p.max_results);
  if (!max_results.ok()) return max_results.status();
  p.max_results = *max_results;
  auto agnostic = ParamBool(c, "class_agnostic", p.class_agnostic);
  if (!agnostic.ok()) return agnostic.status();
  p.class_agnostic = *agnostic;
  auto nms = ParamBool(c, "nms", p.nms);
  if (!nms.ok()) return nms.status();
  p.nms = *nms;
  return std::unique_ptr<Decoder>(new CenternetDecoder(c, p));
}

}  // namespace stratus::runtime
