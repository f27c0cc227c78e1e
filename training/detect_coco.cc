#include "training/detect_coco.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/image.h"

namespace stratus::training {

absl::StatusOr<std::vector<CocoBox>> DetectCoco(const runtime::ObjectDetector& detector,
                                                const CocoDataset& dataset,
                                                const DetectCocoOptions& options) {
  std::vector<const CocoImage*> images;
  const std::set<int64_t> only(options.image_ids.begin(), options.image_ids.end());
  for (const CocoImage& im : dataset.images) {
    if (only.empty() || only.count(im.id)) images.push_back(&im);
  }
  std::vector<int> category_of_class;
  for (const std::string& label : detector.labels()) {
    category_of_class.push_back(dataset.CategoryId(label));
  }
  runtime::DetectOptions detect;
  detect.min_confidence = options.min_confidence;
  detect.max_results = options.max_results;
  const size_t batch = static_cast<size_t>(std::max(1, options.batch_size));
  std::vector<CocoBox> out;
  for (size_t first = 0; first < images.size(); first += batch) {
    std::vector<cv::Mat> rgb;
    std::vector<const CocoImage*> chunk;
    for (size_t i = first; i < std::min(images.size(), first + batch); ++i) {
      const std::string path = options.image_dir + "/" + images[i]->file_name;
      auto bytes = ReadImageFile(path, ImageLimits{}.max_bytes);
      if (!bytes.ok()) return bytes.status();
      auto decoded = DecodeImage(*bytes);
      if (!decoded.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": ", decoded.status().message()));
      }
      rgb.push_back(std::move(*decoded));
      chunk.push_back(images[i]);
    }
    auto detections = detector.Detect(rgb, detect);
    if (!detections.ok()) return detections.status();
    for (size_t i = 0; i < chunk.size(); ++i) {
      const double w = rgb[i].cols, h = rgb[i].rows;
      for (const runtime::Detection& d : (*detections)[i]) {
        const int category =
            d.class_id >= 0 && static_cast<size_t>(d.class_id) < category_of_class.size()
                ? category_of_class[static_cast<size_t>(d.class_id)]
                : dataset.CategoryId(d.label);
        if (category < 0) continue;
        CocoBox b;
        b.image_id = chunk[i]->id;
        b.category_id = category;
        b.x = d.box.left * w;
        b.y = d.box.top * h;
        b.w = d.box.width * w;
        b.h = d.box.height * h;
        b.score = d.confidence;
        out.push_back(b);
      }
    }
    if (options.progress) {
      options.progress(static_cast<int64_t>(first + chunk.size()),
                       static_cast<int64_t>(images.size()));
    }
  }
  return out;
}

}  // namespace stratus::training
