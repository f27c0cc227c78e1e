// stratus-mask-crop-stats: how the training photos frame their faces, measured against the face
// detector's boxes. For each photo, the most confident face of the `faces` model (the detector
// the service asks) gives a box; the margins of the photo around it, as fractions of the box's
// width (left, right) and height (top, bottom), are collected, and their quartiles printed as
// JSON. The medians are MaskOptions' default crop margins: a crop cut that far around a
// detector box frames the face as a typical training photo does.
//
//   stratus-mask-crop-stats --model-dir ~/.cache/stratus/models
//       ../shared/data/masks/with_mask ../shared/data/masks/without_mask   (one line)
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_format.h"
#include "common/flags.h"
#include "runtime/model.h"

namespace {

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  stratus::FlagSet flags("stratus-mask-crop-stats [flags] FOLDER...",
                         "Margins of training photos around the face detector's box.");
  const char* home = std::getenv("HOME");
  std::string model_dir = std::string(home ? home : "/root") + "/.cache/stratus/models";
  std::string model = "faces";
  int limit = 400;
  double min_confidence = 0.5;
  flags.String("model-dir", "STRATUS_MODEL_DIR", &model_dir, "the model repository");
  flags.String("model", "", &model, "face detection model");
  flags.Int("limit", "", &limit, "photos per folder (every k-th, spread over the folder)");
  flags.Double("min-confidence", "", &min_confidence, "face score to count a photo");
  auto parsed = flags.Parse(argc, argv);
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  if (!parsed.ok() || flags.positional().empty()) {
    std::cerr << "error: " << (parsed.ok() ? "no folder given" : parsed.message()) << "\n\n"
              << flags.Usage();
    return 2;
  }
  stratus::runtime::RuntimeOptions runtime;
  auto faces = stratus::runtime::Model::Load(model_dir + "/" + model, runtime);
  if (!faces.ok()) {
    std::cerr << "error: " << faces.status().message() << "\n";
    return 1;
  }
  std::map<std::string, std::vector<double>> margins;  // side -> values
  int photos = 0, found = 0;
  for (const std::string& dir : flags.positional()) {
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      const std::string ext = e.path().extension().string();
      if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    const size_t step = std::max<size_t>(1, files.size() / std::max(1, limit));
    for (size_t i = 0; i < files.size(); i += step) {
      cv::Mat bgr = cv::imread(files[i], cv::IMREAD_COLOR);
      if (bgr.empty()) continue;
      cv::Mat rgb;
      cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
      ++photos;
      stratus::runtime::DecodeOptions options;
      options.min_confidence = static_cast<float>(min_confidence);
      auto out = (*faces)->Run({rgb}, options);
      if (!out.ok() || (*out)[0].detections.empty()) continue;
      ++found;
      const auto& b = (*out)[0].detections[0].box;  // the most confident face
      margins["left"].push_back(b.left / b.width);
      margins["right"].push_back((1.0 - b.left - b.width) / b.width);
      margins["top"].push_back(b.top / b.height);
      margins["bottom"].push_back((1.0 - b.top - b.height) / b.height);
      margins["box_width"].push_back(b.width);
      margins["box_height"].push_back(b.height);
    }
  }
  std::cout << absl::StrFormat("{\"photos\": %d, \"with_face\": %d", photos, found);
  for (const auto& [side, v] : margins) {
    std::cout << absl::StrFormat(", \"%s\": {\"q25\": %.3f, \"median\": %.3f, \"q75\": %.3f}",
                                 side, Quantile(v, 0.25), Quantile(v, 0.5), Quantile(v, 0.75));
  }
  std::cout << "}\n";
  return 0;
}
