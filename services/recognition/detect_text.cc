// DetectText: filters, shapes and the Recognizer operation (detect_text.h).
#include "services/recognition/detect_text.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/aws/aws_error.h"
#include "common/image.h"
#include "common/status.h"
#include "opencv2/imgproc.hpp"
#include "services/recognition/rekognition.h"

namespace stratus::recognition {
namespace {

namespace v1 = ::stratus::v1;

bool InUnit(float v) { return v >= 0 && v <= 1; }  // false for NaN

v1::BoundingBox ToBox(const cv::Rect& r, int width, int height) {
  v1::BoundingBox b;
  b.set_left(float(r.x) / width);
  b.set_top(float(r.y) / height);
  b.set_width(float(r.width) / width);
  b.set_height(float(r.height) / height);
  return b;
}

// Whether a word (box in fractions, centre cx, cy) lies in a region.
bool InRegion(const v1::RegionOfInterest& region, const v1::BoundingBox& word) {
  if (region.has_bounding_box()) {
    const auto& r = region.bounding_box();
    const float iw = std::min(word.left() + word.width(), r.left() + r.width()) -
                     std::max(word.left(), r.left());
    const float ih = std::min(word.top() + word.height(), r.top() + r.height()) -
                     std::max(word.top(), r.top());
    const float area = word.width() * word.height();
    return iw > 0 && ih > 0 && area > 0 && iw * ih > 0.5f * area;
  }
  std::vector<cv::Point2f> polygon;
  for (const auto& p : region.polygon()) polygon.emplace_back(p.x(), p.y());
  const cv::Point2f centre(word.left() + word.width() / 2, word.top() + word.height() / 2);
  return cv::pointPolygonTest(polygon, centre, false) >= 0;
}

}  // namespace

absl::Status CheckTextFilters(const v1::DetectTextFilters& filters) {
  const auto& w = filters.word_filter();
  if (w.has_min_confidence() && !(w.min_confidence() >= 0 && w.min_confidence() <= 100)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Filters.WordFilter.MinConfidence must be between 0 and 100, got ", w.min_confidence()));
  }
  if (w.has_min_bounding_box_height() && !InUnit(w.min_bounding_box_height())) {
    return absl::InvalidArgumentError(
        absl::StrCat("Filters.WordFilter.MinBoundingBoxHeight must be between 0 and 1, got ",
                     w.min_bounding_box_height()));
  }
  if (w.has_min_bounding_box_width() && !InUnit(w.min_bounding_box_width())) {
    return absl::InvalidArgumentError(
        absl::StrCat("Filters.WordFilter.MinBoundingBoxWidth must be between 0 and 1, got ",
                     w.min_bounding_box_width()));
  }
  if (filters.regions_of_interest_size() > kMaxTextRegions) {
    return absl::InvalidArgumentError(absl::StrCat("Filters.RegionsOfInterest has ",
                                                   filters.regions_of_interest_size(),
                                                   " regions; at most ", kMaxTextRegions));
  }
  for (int i = 0; i < filters.regions_of_interest_size(); ++i) {
    const auto& r = filters.regions_of_interest(i);
    const std::string name = absl::StrCat("Filters.RegionsOfInterest[", i, "]");
    if (r.has_bounding_box() == (r.polygon_size() > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " needs exactly one of BoundingBox and Polygon"));
    }
    if (r.has_bounding_box()) {
      const auto& b = r.bounding_box();
      if (!InUnit(b.left()) || !InUnit(b.top()) || !(b.width() > 0) || !(b.height() > 0) ||
          !InUnit(b.width()) || !InUnit(b.height())) {
        return absl::InvalidArgumentError(absl::StrCat(
            name, ".BoundingBox must lie in [0, 1] with a width and height above 0"));
      }
    } else {
      if (r.polygon_size() < 3) {
        return absl::InvalidArgumentError(absl::StrCat(name, ".Polygon needs at least 3 points"));
      }
      for (const auto& p : r.polygon()) {
        if (!InUnit(p.x()) || !InUnit(p.y())) {
          return absl::InvalidArgumentError(
              absl::StrCat(name, ".Polygon points must lie in [0, 1]"));
        }
      }
    }
  }
  return absl::OkStatus();
}

std::vector<v1::TextDetection> ShapeTextDetections(const std::vector<runtime::TextDetection>& read,
                                                   int width, int height,
                                                   const v1::DetectTextFilters& filters) {
  const auto& wf = filters.word_filter();
  auto to_detection = [&](const runtime::TextDetection& d) {
    v1::TextDetection t;
    t.set_detected_text(d.text);
    t.set_type(d.type == runtime::TextDetection::Type::kLine ? v1::TextTypes::LINE
                                                             : v1::TextTypes::WORD);
    t.set_confidence(std::clamp(d.confidence, 0.0f, 100.0f));
    *t.mutable_geometry()->mutable_bounding_box() = ToBox(d.box, width, height);
    for (const auto& p : d.polygon) {
      auto* q = t.mutable_geometry()->add_polygon();
      q->set_x(p.x / width);
      q->set_y(p.y / height);
    }
    return t;
  };
  auto keep_word = [&](const v1::TextDetection& t) {
    const auto& b = t.geometry().bounding_box();
    if (wf.has_min_confidence() && t.confidence() < wf.min_confidence()) return false;
    if (wf.has_min_bounding_box_height() && b.height() < wf.min_bounding_box_height()) return false;
    if (wf.has_min_bounding_box_width() && b.width() < wf.min_bounding_box_width()) return false;
    if (filters.regions_of_interest_size() == 0) return true;
    for (const auto& r : filters.regions_of_interest()) {
      if (InRegion(r, b)) return true;
    }
    return false;
  };

  // Lines in reading order, each with the words it keeps.
  struct Line {
    const runtime::TextDetection* line;
    std::vector<v1::TextDetection> words;
  };
  std::vector<Line> lines;
  std::map<int, size_t> line_of;  // reader id -> index in lines
  for (const auto& d : read) {
    if (d.type == runtime::TextDetection::Type::kLine) {
      line_of[d.id] = lines.size();
      lines.push_back({&d, {}});
    }
  }
  int words = 0;
  for (const auto& d : read) {
    if (d.type != runtime::TextDetection::Type::kWord || words >= kMaxTextWords) continue;
    auto it = line_of.find(d.parent_id);
    if (it == line_of.end() || it->second >= static_cast<size_t>(kMaxTextLines)) continue;
    v1::TextDetection t = to_detection(d);
    if (!keep_word(t)) continue;
    lines[it->second].words.push_back(std::move(t));
    ++words;
  }
  lines.erase(std::remove_if(lines.begin(), lines.end(),
                             [](const Line& l) { return l.words.empty(); }),
              lines.end());
  if (lines.size() > static_cast<size_t>(kMaxTextLines)) lines.resize(kMaxTextLines);

  std::vector<v1::TextDetection> out;
  const int n_lines = static_cast<int>(lines.size());
  int next_word_id = n_lines;
  std::vector<v1::TextDetection> word_out;
  for (int i = 0; i < n_lines; ++i) {
    v1::TextDetection t = to_detection(*lines[i].line);
    t.set_id(i);
    if (lines[i].words.size() !=
        static_cast<size_t>(std::count_if(read.begin(), read.end(), [&](const auto& d) {
          return d.parent_id == lines[i].line->id;
        }))) {
      // Some words were left out: the line is the words kept.
      std::string text;
      float confidence = 0;
      for (const auto& w : lines[i].words) {
        absl::StrAppend(&text, text.empty() ? "" : " ", w.detected_text());
        confidence += w.confidence();
      }
      t.set_detected_text(text);
      t.set_confidence(confidence / lines[i].words.size());
    }
    out.push_back(std::move(t));
    for (auto& w : lines[i].words) {
      w.set_id(next_word_id++);
      w.set_parent_id(i);
      word_out.push_back(std::move(w));
    }
  }
  for (auto& w : word_out) out.push_back(std::move(w));
  return out;
}

absl::StatusOr<v1::DetectTextResponse> Recognizer::DetectText(const v1::DetectTextRequest& request) {
  STRATUS_RETURN_IF_ERROR(CheckTextFilters(request.filters()));
  STRATUS_ASSIGN_OR_RETURN(v1::Image image, CheckImage(request.image(), "Image"));
  if (options_.text == nullptr) {
    return absl::UnimplementedError("DetectText has no text reader (Tesseract) configured");
  }
  auto mat = DecodeImage(image.bytes());
  if (!mat.ok()) {
    return aws::AwsError(absl::StatusCode::kInvalidArgument, 400, "InvalidImageFormatException",
                         absl::StrCat("Image cannot be decoded: ", mat.status().message()));
  }
  auto read = options_.text->Read(*mat);
  if (!read.ok()) return read.status();
  v1::DetectTextResponse response;
  for (auto& t : ShapeTextDetections(*read, mat->cols, mat->rows, request.filters())) {
    *response.add_text_detections() = std::move(t);
  }
  response.set_text_model_version(kTextModelVersion);
  return response;
}

}  // namespace stratus::recognition
