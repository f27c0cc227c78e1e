// stratus-prepare-masks: builds the three-class mask training set from ../shared/data/masks
// (two classes) by synthesising masks on half of the unmasked faces (mask_synth.h), and adds
// the face crops the imported face detector cuts from every photo (training/MASK.md):
//
//   stratus-prepare-masks --data DATA/masks --out DIR [--faces [--models DIR] [--threads N]]
//                         [--sample N] [--seed N]
//
// DIR/with_mask      every with_mask photo (links) + 1/6 of the unmasked faces with a mask
//                    drawn correctly over nose and mouth
// DIR/without_mask   the other half of the unmasked faces (links)
// DIR/mask_worn_incorrectly  1/3 of the unmasked faces with a mask drawn below the nose (3 of
//                    4) or on the chin (1 of 4)
// plus, with --faces, when the `faces` and `face_landmarks68` models are in the model repository
// (--models, default $STRATUS_MODEL_DIR), `crop_*.jpg`: the first detected face of each photo as
// the mask service cuts it (detector box grown by the service's margins); masks are then placed
// from the 68 landmarks instead of the crop's geometry.
// Which face goes where is decided by a hash of its file name, so every machine builds the same
// set; no face appears in two classes.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "training/data.h"
#include "training/mask_synth.h"
#include "runtime/text/encoder.h"
#ifdef STRATUS_HAVE_RUNTIME
#include "runtime/face_pipeline.h"
#include "runtime/model_repository.h"
#endif

namespace {

namespace fs = std::filesystem;
using stratus::training::MaskPlacement;

struct FaceFound {
  cv::Rect box;                        // detector crop, pixels
  std::vector<cv::Point2f> landmarks;  // 68 points, pixels (may be empty)
};

class FaceFinder {
 public:
  // Null when the models are not there (or the runtime is not built in).
  static std::unique_ptr<FaceFinder> Create(const std::string& models_dir, int threads) {
#ifdef STRATUS_HAVE_RUNTIME
    stratus::runtime::RuntimeOptions ro;
    ro.num_threads = 1;  // parallelism is across photos (worker threads), not inside ops
    (void)threads;
    auto repo =
        stratus::runtime::ModelRepository::Load(models_dir, {"faces", "face_landmarks68"}, ro);
    if (!repo.ok() || !(*repo)->AllReady()) return nullptr;
    stratus::runtime::FacePipeline::Options po;
    po.allow_missing_stages = true;
    auto pipeline = stratus::runtime::FacePipeline::Create(**repo, po);
    if (!pipeline.ok()) return nullptr;
    auto f = std::unique_ptr<FaceFinder>(new FaceFinder);
    f->repo_ = std::move(*repo);
    f->pipeline_ = std::move(*pipeline);
    return f;
#else
    (void)models_dir;
    (void)threads;
    return nullptr;
#endif
  }

  std::optional<FaceFound> Find(const cv::Mat& bgr) const {
#ifdef STRATUS_HAVE_RUNTIME
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    stratus::runtime::AnalyzeOptions ao;
    ao.max_faces = 1;
    ao.descriptor = ao.age_gender = ao.expressions = ao.quality = false;
    auto faces = pipeline_->Analyze({rgb}, ao);
    if (!faces.ok() || faces->empty() || (*faces)[0].empty()) return std::nullopt;
    const auto& face = (*faces)[0][0];
    FaceFound out;
    // Grown as the mask service grows detector boxes before classifying them
    // (services/mask/mask.h: 18% of the width each side, 15% of the height above, 19% below).
    stratus::runtime::PixelRect grown = face.box_pixels;
    grown.x -= 0.18 * face.box_pixels.width;
    grown.width += 0.36 * face.box_pixels.width;
    grown.y -= 0.15 * face.box_pixels.height;
    grown.height += 0.34 * face.box_pixels.height;
    out.box = stratus::runtime::ClipAtImageBorders(grown, bgr.cols, bgr.rows);
    if (out.box.width < 8 || out.box.height < 8) return std::nullopt;
    for (const auto& p : face.landmarks) out.landmarks.emplace_back(p.x, p.y);
    return out;
#else
    (void)bgr;
    return std::nullopt;
#endif
  }

 private:
  FaceFinder() = default;
#ifdef STRATUS_HAVE_RUNTIME
  std::unique_ptr<stratus::runtime::ModelRepository> repo_;
  std::unique_ptr<stratus::runtime::FacePipeline> pipeline_;
#endif
};

bool Link(const std::string& from, const fs::path& to) {
  std::error_code ec;
  fs::create_symlink(fs::absolute(from), to, ec);
  if (ec) std::fprintf(stderr, "link %s: %s\n", from.c_str(), ec.message().c_str());
  return !ec;
}

bool Write(const fs::path& path, const cv::Mat& img) {
  if (!cv::imwrite(path.string(), img, {cv::IMWRITE_JPEG_QUALITY, 92})) {
    std::fprintf(stderr, "cannot write %s\n", path.string().c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data, out, models;
  bool use_faces = false;
  int threads = 2;
  int sample = 1;  // keep every sample-th photo of each class (experiments)
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--faces") {
      use_faces = true;
    } else if (i + 1 < argc && a == "--threads") {
      threads = std::atoi(argv[++i]);
    } else if (i + 1 < argc && a == "--data") {
      data = argv[++i];
    } else if (i + 1 < argc && a == "--out") {
      out = argv[++i];
    } else if (i + 1 < argc && a == "--models") {
      models = argv[++i];
    } else if (i + 1 < argc && a == "--sample") {
      sample = std::max(1, std::atoi(argv[++i]));
    } else if (i + 1 < argc && a == "--seed") {
      seed = std::stoull(argv[++i]);
    } else {
      data.clear();
      break;
    }
  }
  if (data.empty() || out.empty()) {
    std::fprintf(stderr,
                 "usage: stratus-prepare-masks --data DATA/masks --out DIR [--models DIR] "
                 "[--faces [--threads N]] [--sample N] [--seed N]\n");
    return 2;
  }
  if (models.empty()) {
    const char* m = std::getenv("STRATUS_MODEL_DIR");
    const char* home = std::getenv("HOME");
    models = m ? m : std::string(home ? home : ".") + "/.cache/stratus/models";
  }
  std::unique_ptr<FaceFinder> finder = use_faces ? FaceFinder::Create(models, threads) : nullptr;
  std::printf("face detector crops and landmarks: %s\n",
              finder ? "yes (faces, face_landmarks68)" : "no (models or runtime missing)");
  std::error_code ec;
  fs::remove_all(out, ec);
  for (const char* c : {"with_mask", "without_mask", "mask_worn_incorrectly"}) {
    fs::create_directories(fs::path(out) / c, ec);
  }
  std::atomic<int> counts[3] = {0, 0, 0}, crops[3] = {0, 0, 0};
  std::atomic<int> landmark_synth = 0, geometric_synth = 0;
  std::atomic<bool> failed = false;
  auto add_crop = [&](const cv::Mat& img, const std::optional<FaceFound>& face, int cls,
                      const fs::path& path) {
    if (!face) return true;
    ++crops[cls];
    return Write(path, img(face->box));
  };
  const char* kClass[3] = {"with_mask", "without_mask", "mask_worn_incorrectly"};
  struct Task {
    std::string file;
    bool masked;
  };
  std::vector<Task> tasks;
  for (const bool masked : {true, false}) {
    const auto files =
        stratus::training::ListImages(data + (masked ? "/with_mask" : "/without_mask"));
    for (size_t i = 0; i < files.size(); i += sample) tasks.push_back({files[i], masked});
  }
  auto run = [&](const Task& t) -> bool {
    const std::string name = fs::path(t.file).filename().string();
    const std::string stem = fs::path(name).stem().string();
    if (t.masked) {
      if (!Link(t.file, fs::path(out) / "with_mask" / name)) return false;
      ++counts[0];
      if (!finder) return true;
      const cv::Mat img = cv::imread(t.file, cv::IMREAD_COLOR);
      if (img.empty()) return true;
      return add_crop(img, finder->Find(img), 0,
                      fs::path(out) / "with_mask" / ("crop_" + stem + ".jpg"));
    }
    const uint64_t h = stratus::text::Fnv1a64(name + "#" + std::to_string(seed));
    const int bucket = static_cast<int>(h % 6);
    const cv::Mat img = cv::imread(t.file, cv::IMREAD_COLOR);
    if (img.empty()) {
      std::fprintf(stderr, "cannot decode %s\n", t.file.c_str());
      return false;
    }
    const std::optional<FaceFound> face = finder ? finder->Find(img) : std::nullopt;
    if (bucket >= 3) {
      if (!Link(t.file, fs::path(out) / "without_mask" / name)) return false;
      ++counts[1];
      return add_crop(img, face, 1, fs::path(out) / "without_mask" / ("crop_" + stem + ".jpg"));
    }
    const MaskPlacement placement = bucket == 2           ? MaskPlacement::kCorrect
                                    : ((h >> 8) % 4 == 0) ? MaskPlacement::kOnChin
                                                          : MaskPlacement::kBelowNose;
    cv::Mat synth;
    if (face && face->landmarks.size() == 68) {
      synth = stratus::training::DrawSyntheticMaskOnLandmarks(img, face->landmarks, placement, h);
      ++landmark_synth;
    } else {
      synth = stratus::training::DrawSyntheticMask(img, placement, h);
      ++geometric_synth;
    }
    const int cls = bucket == 2 ? 0 : 2;
    if (!Write(fs::path(out) / kClass[cls] / ("synth_" + stem + ".jpg"), synth)) return false;
    ++counts[cls];
    return add_crop(synth, face, cls,
                    fs::path(out) / kClass[cls] / ("crop_synth_" + stem + ".jpg"));
  };
  // Photos are independent: one worker per thread asked for (the detector runs one thread each).
  std::atomic<size_t> next = 0;
  std::vector<std::thread> workers;
  for (int w = 0; w < std::max(1, threads); ++w) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < tasks.size() && !failed; i = next++) {
        if (!run(tasks[i])) failed = true;
      }
    });
  }
  for (auto& w : workers) w.join();
  if (failed) return 1;
  std::printf("photos: with_mask %d  without_mask %d  mask_worn_incorrectly %d\n", counts[0].load(),
              counts[1].load(), counts[2].load());
  std::printf("detector crops: with_mask %d  without_mask %d  mask_worn_incorrectly %d\n",
              crops[0].load(), crops[1].load(), crops[2].load());
  std::printf("synthetic masks placed by landmarks %d, by crop geometry %d -> %s\n",
              landmark_synth.load(), geometric_synth.load(), out.c_str());
  return 0;
}
