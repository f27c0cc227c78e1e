#include "runtime/decoders/nanodet.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace stratus::runtime {
namespace {

struct NanodetParams {
  std::vector<int> strides{8, 16, 32};
  int reg_max = 10;
  double score_threshold = 0.2;  // double: human compares against the JS number 0.2
  float iou_threshold = 0.5f;
  int max_results = 100;
  bool class_agnostic = false;
  bool human = false;
};

// Where one level's scores and distributions live in the outputs.
struct LevelView {
  int stride = 0;
  int64_t grid_w = 0, grid_h = 0;
  int cls_output = -1, reg_output = -1;    // output index
  int64_t cell_offset = 0;                 // first cell within the output (concatenated layout)
  int64_t cls_column = 0, reg_column = 0;  // first column of the scores / distribution
  int64_t cls_row = 0, reg_row = 0;        // row length of those outputs
};

class NanodetDecoder : public Decoder {
 public:
  NanodetDecoder(DecoderContext c, NanodetParams p) : c_(std::move(c)), p_(std::move(p)) {}

  absl::Status CheckOutputs(const std::vector<OutputTensor>& out, int batch) const override {
    auto levels = Layout(out, batch);
    return levels.ok() ? absl::OkStatus() : levels.status();
  }

  absl::StatusOr<std::vector<Prediction>> Decode(const std::vector<OutputTensor>& out,
                                                 absl::Span<const InputGeometry> geometry,
                                                 const DecodeOptions& o) const override {
    const int batch = static_cast<int>(geometry.size());
    auto levels = Layout(out, batch);
    if (!levels.ok()) return levels.status();
    std::vector<Prediction> result(geometry.size());
    for (int b = 0; b < batch; ++b) {
      result[b].detections = p_.human ? DecodeHuman(out, *levels, b, geometry[b], o)
                                      : DecodeGfl(out, *levels, b, geometry[b], o);
    }
    return result;
  }

 private:
  int64_t bins() const { return p_.reg_max + 1; }
  int64_t reg_width() const { return 4 * bins(); }

  absl::Status Error(const std::string& msg, const std::vector<OutputTensor>& out) const {
    std::vector<std::string> shapes;
    for (const auto& t : out) shapes.push_back(t.ShapeString());
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", c_.model_name, "': decoder 'nanodet' ", msg, "; the model returned ",
        absl::StrJoin(shapes, " "), " for a ", c_.input_width, "x", c_.input_height,
        " input with strides ", absl::StrJoin(p_.strides, ","), " and reg_max ", p_.reg_max));
  }

  absl::StatusOr<std::vector<LevelView>> Layout(const std::vector<OutputTensor>& out,
                                                int batch) const {
    std::vector<LevelView> levels;
    int64_t total = 0;
    for (int s : p_.strides) {
      LevelView l;
      l.stride = s;
      l.grid_w = (c_.input_width + s - 1) / s;
      l.grid_h = (c_.input_height + s - 1) / s;
      l.cell_offset = total;
      total += l.grid_w * l.grid_h;
      levels.push_back(l);
    }
    for (const auto& t : out) {
      if (t.shape.size() != 3 || t.dim(0) != batch) {
        return Error(absl::StrCat("expects outputs of shape [", batch, ",N,K]"), out);
      }
    }
    if (out.size() == 1) {  // [B, sum N, C + 4 * bins]
      const OutputTensor& t = out[0];
      if (t.dim(1) != total || t.dim(2) <= reg_width()) {
        return Error(
            absl::StrCat("expects one output [", batch, ",", total, ",C+", reg_width(), "]"), out);
      }
      for (auto& l : levels) {
        l.cls_output = l.reg_output = 0;
        l.cls_row = l.reg_row = t.dim(2);
        l.reg_column = t.dim(2) - reg_width();
      }
      return levels;
    }
    if (out.size() != 2 * levels.size()) {
      return Error(absl::StrCat("expects ", 2 * levels.size(),
                                " outputs (scores and box distributions per level) or one"),
                   out);
    }
    int64_t classes = -1;
    for (auto& l : levels) {
      const int64_t n = l.grid_w * l.grid_h;
      for (size_t i = 0; i < out.size(); ++i) {
        if (out[i].dim(1) != n) continue;
        if (out[i].dim(2) == reg_width() && l.reg_output < 0) {
          l.reg_output = static_cast<int>(i);
        } else if (l.cls_output < 0) {
          l.cls_output = static_cast<int>(i);
        }
      }
      if (l.cls_output < 0 || l.reg_output < 0) {
        return Error(absl::StrCat("found no [", batch, ",", n, ",C] and [", batch, ",", n, ",",
                                  reg_width(), "] pair for stride ", l.stride),
                     out);
      }
      const int64_t c = out[static_cast<size_t>(l.cls_output)].dim(2);
      if (classes >= 0 && c != classes) return Error("expects the same classes per level", out);
      classes = c;
      l.cls_row = c;
      l.reg_row = reg_width();
      l.cell_offset = 0;
    }
    return levels;
  }

  bool Wanted(const DecodeOptions& o, int class_id) const {
    return o.classes.empty() ||
           std::find(o.classes.begin(), o.classes.end(), class_id) != o.classes.end();
  }

  std::vector<Detection> DecodeGfl(const std::vector<OutputTensor>& out,
                                   const std::vector<LevelView>& levels, int b,
                                   const InputGeometry& g, const DecodeOptions& o) const {
    const double threshold = o.min_confidence ? *o.min_confidence : p_.score_threshold;
    const int max_results = o.max_results.value_or(p_.max_results);
    std::vector<Candidate> candidates;
    std::vector<float> probs(static_cast<size_t>(bins()));
    for (const LevelView& l : levels) {
      const auto cls = out[static_cast<size_t>(l.cls_output)].item(b);
      const auto reg = out[static_cast<size_t>(l.reg_output)].item(b);
      const int64_t classes = l.reg_output == l.cls_output ? l.reg_column : l.cls_row;
      const int64_t cells = l.grid_w * l.grid_h;
      for (int64_t i = 0; i < cells; ++i) {
        const float* scores = cls.data() + (l.cell_offset + i) * l.cls_row + l.cls_column;
        const float* dist = reg.data() + (l.cell_offset + i) * l.reg_row + l.reg_column;
        bool box_done = false;
        float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
        for (int64_t j = 0; j < classes; ++j) {
          if (!(scores[j] > threshold) || !Wanted(o, static_cast<int>(j))) continue;
          if (!box_done) {
            float d[4];
            for (int side = 0; side < 4; ++side) {
              const float* logits = dist + side * bins();
              const float mx = *std::max_element(logits, logits + bins());
              float sum = 0;
              for (int64_t k = 0; k < bins(); ++k) {
                probs[static_cast<size_t>(k)] = std::exp(logits[k] - mx);
                sum += probs[static_cast<size_t>(k)];
              }
              float e = 0;
              for (int64_t k = 0; k < bins(); ++k) e += probs[static_cast<size_t>(k)] * k;
              d[side] = e / sum * static_cast<float>(l.stride);
            }
            const float cx = (static_cast<float>(i % l.grid_w) + 0.5f) * l.stride;
            const float cy = (static_cast<float>(i / l.grid_w) + 0.5f) * l.stride;
            const float w = static_cast<float>(g.input_width);
            const float h = static_cast<float>(g.input_height);
            x1 = std::clamp(cx - d[0], 0.f, w);
            y1 = std::clamp(cy - d[1], 0.f, h);
            x2 = std::clamp(cx + d[2], 0.f, w);
            y2 = std::clamp(cy + d[3], 0.f, h);
            box_done = true;
          }
          candidates.push_back(
              Candidate{x1, y1, x2, y2, scores[j], static_cast<int>(j), static_cast<int>(i)});
        }
      }
    }
    std::vector<Detection> dets;
    for (const Candidate& c : NonMaxSuppression(std::move(candidates), p_.iou_threshold,
                                                max_results, p_.class_agnostic)) {
      dets.push_back(ToDetection(c, g, c_.labels));
    }
    return dets;
  }

  // Port of human's nanodet.ts process(): see the header.
  std::vector<Detection> DecodeHuman(const std::vector<OutputTensor>& out,
                                     const std::vector<LevelView>& levels, int b,
                                     const InputGeometry& g, const DecodeOptions& o) const {
    const double min_conf = o.min_confidence ? *o.min_confidence : p_.score_threshold;
    const int max_results = o.max_results.value_or(p_.max_results);
    const double input_size = c_.input_width;
    struct Item {
      float score;  // rounded to 2 decimals (float32, as tf.nms sees it)
      float raw;
      int class_id;
      double box[4];  // x, y, w, h clamped to [0, 1]
    };
    std::vector<Item> items;
    // human walks strideSize 1, 2, 4 (13, 26, 52 cells a side): our levels from coarse to fine.
    std::vector<const LevelView*> order;
    for (const auto& l : levels) order.push_back(&l);
    std::sort(order.begin(), order.end(),
              [](const LevelView* a, const LevelView* b) { return a->grid_w < b->grid_w; });
    const double base0 = static_cast<double>(order.front()->grid_w);
    for (const LevelView* l : order) {
      const double base = static_cast<double>(l->grid_w);
      const double stride_size = base / base0;
      const auto cls = out[static_cast<size_t>(l->cls_output)].item(b);
      const auto reg = out[static_cast<size_t>(l->reg_output)].item(b);
      const int64_t classes = l->reg_output == l->cls_output ? l->reg_column : l->cls_row;
      for (int64_t i = 0; i < l->grid_w * l->grid_h; ++i) {
        const float* scores = cls.data() + (l->cell_offset + i) * l->cls_row + l->cls_column;
        const float* dist = reg.data() + (l->cell_offset + i) * l->reg_row + l->reg_column;
        for (int64_t j = 0; j < classes; ++j) {
          const float score = scores[j];
          if (!(score > min_conf) || j == 61 || !Wanted(o, static_cast<int>(j))) continue;
          const double cx = (0.5 + static_cast<double>(i % l->grid_w)) / base;
          const double cy = (0.5 + static_cast<double>(i / l->grid_w)) / base;
          double off[4];
          for (int side = 0; side < 4; ++side) {
            const float* logits = dist + side * bins();
            const int64_t idx = std::max_element(logits, logits + bins()) - logits;  // first max
            off[side] = static_cast<double>(idx) * (base / stride_size / input_size);
          }
          const double k = 2.5 / stride_size;
          const double x = cx - k * off[0], y = cy - k * off[1];
          const double w = cx + k * off[2] - x, h = cy + k * off[3] - y;
          Item it;
          it.score = static_cast<float>(std::round(100.0 * score) / 100.0);
          it.raw = score;
          it.class_id = static_cast<int>(j);
          const double raw_box[4] = {x, y, w, h};
          for (int q = 0; q < 4; ++q) it.box[q] = std::clamp(raw_box[q], 0.0, 1.0);
          items.push_back(it);
        }
      }
    }
    // tf.image.nonMaxSuppression(boxes as [y, x, h, w], rounded scores, max, iou, min_conf).
    auto iou = [&](const Item& a, const Item& c) {
      auto norm = [](const Item& t, float r[4]) {
        const float b0 = static_cast<float>(t.box[1]), b1 = static_cast<float>(t.box[0]);
        const float b2 = static_cast<float>(t.box[3]), b3 = static_cast<float>(t.box[2]);
        r[0] = std::min(b0, b2), r[1] = std::min(b1, b3);
        r[2] = std::max(b0, b2), r[3] = std::max(b1, b3);
      };
      float p[4], q[4];
      norm(a, p);
      norm(c, q);
      const float area_p = (p[2] - p[0]) * (p[3] - p[1]);
      const float area_q = (q[2] - q[0]) * (q[3] - q[1]);
      if (area_p <= 0 || area_q <= 0) return 0.f;
      const float ih = std::max(std::min(p[2], q[2]) - std::max(p[0], q[0]), 0.f);
      const float iw = std::max(std::min(p[3], q[3]) - std::max(p[1], q[1]), 0.f);
      const float inter = ih * iw;
      return inter / (area_p + area_q - inter);
    };
    std::vector<int> order_idx;
    for (size_t i = 0; i < items.size(); ++i)
      if (static_cast<double>(items[i].score) > min_conf) order_idx.push_back(static_cast<int>(i));
    std::stable_sort(order_idx.begin(), order_idx.end(),
                     [&](int a, int c) { return items[a].score > items[c].score; });
    std::vector<int> selected;
    for (int i : order_idx) {
      if (max_results > 0 && static_cast<int>(selected.size()) >= max_results) break;
      bool keep = true;
      for (int s : selected) {
        if (iou(items[i], items[s]) >= p_.iou_threshold) {
          keep = false;
          break;
        }
      }
      if (keep) selected.push_back(i);
    }
    // human keeps the selected items in their original order, then sorts by rounded score.
    std::sort(selected.begin(), selected.end());
    std::stable_sort(selected.begin(), selected.end(),
                     [&](int a, int c) { return items[a].score > items[c].score; });
    std::vector<Detection> dets;
    for (int i : selected) {
      const Item& it = items[static_cast<size_t>(i)];
      Candidate c;
      c.x1 = static_cast<float>(it.box[0] * g.input_width);
      c.y1 = static_cast<float>(it.box[1] * g.input_height);
      c.x2 = static_cast<float>((it.box[0] + it.box[2]) * g.input_width);
      c.y2 = static_cast<float>((it.box[1] + it.box[3]) * g.input_height);
      c.score = it.raw;
      c.class_id = it.class_id;
      c.index = i;
      dets.push_back(ToDetection(c, g, c_.labels));
    }
    return dets;
  }

  DecoderContext c_;
  NanodetParams p_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Decoder>> CreateNanodetDecoder(const DecoderContext& c) {
  NanodetParams p;
  auto bad = [&](const std::string& key, const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", c.model_name, "': decoder key '", key, "' ", why));
  };
  if (c.params && c.params["strides"]) {
    const YAML::Node s = c.params["strides"];
    if (!s.IsSequence() || s.size() == 0) return bad("strides", "must be a list of integers");
    p.strides.clear();
    try {
      for (const auto& v : s) p.strides.push_back(v.as<int>());
    } catch (const std::exception&) {
      return bad("strides", "must be a list of integers");
    }
    for (int v : p.strides)
      if (v <= 0) return bad("strides", "must be positive");
  }
  auto reg_max = ParamInt(c, "reg_max", p.reg_max);
  if (!reg_max.ok()) return reg_max.status();
  if (*reg_max < 0 || *reg_max > 64) return bad("reg_max", "must be within [0, 64]");
  p.reg_max = *reg_max;
  auto score = ParamDouble(c, "score_threshold", p.score_threshold);
  if (!score.ok()) return score.status();
  auto iou = ParamDouble(c, "iou_threshold", p.iou_threshold);
  if (!iou.ok()) return iou.status();
  if (*score < 0 || *score > 1) return bad("score_threshold", "must be within [0, 1]");
  if (*iou < 0 || *iou > 1) return bad("iou_threshold", "must be within [0, 1]");
  p.score_threshold = *score;
  p.iou_threshold = static_cast<float>(*iou);
  auto max_results = ParamInt(c, "max_results", p.max_results);
  if (!max_results.ok()) return max_results.status();
  p.max_results = *max_results;
  auto agnostic = ParamBool(c, "class_agnostic", p.class_agnostic);
  if (!agnostic.ok()) return agnostic.status();
  p.class_agnostic = *agnostic;
  auto mode = ParamString(c, "box_decode", "gfl");
  if (!mode.ok()) return mode.status();
  if (*mode != "gfl" && *mode != "human") return bad("box_decode", "must be gfl or human");
  p.human = *mode == "human";
  if (c.input_width <= 0 || c.input_height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", c.model_name, "': decoder 'nanodet' needs the input size"));
  }
  return std::unique_ptr<Decoder>(new NanodetDecoder(c, std::move(p)));
}

}  // namespace stratus::runtime
