// stratus-prepare-masks: builds the three-class mask training set from ../shared/data/masks
// (two classes) by synthesising masks on the unmasked faces (mask_synth.h), cut as the mask
// service cuts faces when the imported face models are there (training/MASK.md):
//
//   stratus-prepare-masks --data DATA/masks --out DIR [--faces [--models DIR] [--threads N]
//                         [--faces-cache FILE]] [--extra DIR]... [--sample N] [--seed N]
//
// Every photo goes to one split by a hash of its file name alone (the same on every machine and
// for every --seed): 80% DIR/train, 10% DIR/val (model selection), 10% DIR/test (held out).
// In each split, one folder per class:
//   with_mask              every with_mask photo, and a third of the unmasked faces with a mask
//                          drawn on correctly (over the nose bridge)
//   without_mask           every without_mask photo
//   mask_worn_incorrectly  the other two thirds of the unmasked faces with a mask drawn on
//                          incorrectly (nose tip, below the nose, on the chin, under the chin)
// so each unmasked face appears bare and masked, in the same split. DIR/test-photos holds the
// test split's whole photos (links and synthesised images), for stratus-eval-mask --labelled.
// With --faces, when the `faces` and `face_landmarks68` models are in the model repository
// (--models, default $STRATUS_MODEL_DIR), each photo is replaced by the first face the detector
// finds in it, cut as the mask service cuts it (MaskServiceCrop), and masks are placed from its
// 68 landmarks; photos without a detected face are kept whole, masks placed by crop geometry.
// --faces-cache FILE keeps what the detector found in each photo (one line per photo: class
// folder/file name, then the crop, the box and the landmarks, or nothing when no face was
// found): photos listed there are not detected again, the others are, and the file is rewritten
// with all of them (lines are appended as faces are found, so an interrupted run keeps them).
// Keyed by file name only: delete it when the face models change.
// --extra DIR: a labelled development set with correct/ and incorrect/ folders (e.g.
// ../shared/data/masks-maskedfacenet): the photos DevSetSplitOf puts in its train part join
// DIR/train (with_mask, mask_worn_incorrectly), those of its validation part DIR/val; its test
// part is never written.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "training/data.h"
#include "training/mask_synth.h"
#include "training/text/encoder.h"
#ifdef STRATUS_HAVE_RUNTIME
#include "runtime/face_pipeline.h"
#include "runtime/model_repository.h"
#endif

namespace {

namespace fs = std::filesystem;
using stratus::training::MaskPlacement;

struct FaceFound {
  cv::Rect box;                        // the mask service's crop around the detection, pixels
  cv::Rect detected;                   // the detector's box, clipped to the image
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
    out.box = stratus::training::MaskServiceCrop(face.box_pixels.x, face.box_pixels.y,
                                                 face.box_pixels.width, face.box_pixels.height,
                                                 bgr.cols, bgr.rows);
    if (out.box.width < 8 || out.box.height < 8) return std::nullopt;
    out.detected = stratus::runtime::ClipAtImageBorders(face.box_pixels, bgr.cols, bgr.rows);
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

// The detector's findings by "class-folder/file-name"; nullopt: no face found.
using FaceCache = std::map<std::string, std::optional<FaceFound>>;

FaceCache ReadFaceCache(const std::string& path) {
  FaceCache cache;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string key;
    int found = 0;
    if (!(f >> key >> found)) continue;
    if (found == 0) {
      cache[key] = std::nullopt;
      continue;
    }
    FaceFound face;
    int n = 0;
    f >> face.box.x >> face.box.y >> face.box.width >> face.box.height >> face.detected.x >>
        face.detected.y >> face.detected.width >> face.detected.height >> n;
    for (int i = 0; i < n && f; ++i) {
      cv::Point2f p;
      f >> p.x >> p.y;
      face.landmarks.push_back(p);
    }
    if (f && static_cast<int>(face.landmarks.size()) == n) cache[key] = std::move(face);
  }
  return cache;
}

std::string FaceCacheLine(const std::string& key, const std::optional<FaceFound>& face) {
  std::ostringstream out;
  out << key << ' ' << (face ? 1 : 0);
  if (face) {
    const cv::Rect& b = face->box;
    const cv::Rect& d = face->detected;
    out << ' ' << b.x << ' ' << b.y << ' ' << b.width << ' ' << b.height << ' ' << d.x << ' ' << d.y
        << ' ' << d.width << ' ' << d.height << ' ' << face->landmarks.size();
    for (const cv::Point2f& p : face->landmarks) out << ' ' << p.x << ' ' << p.y;
  }
  out << '\n';
  return out.str();
}

bool WriteFaceCache(const std::string& path, const FaceCache& cache) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& [key, face] : cache) out << FaceCacheLine(key, face);
  out.close();
  if (!out) std::fprintf(stderr, "cannot write %s\n", path.c_str());
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  std::string data, out, models, faces_cache_path;
  std::vector<std::string> extra;
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
    } else if (i + 1 < argc && a == "--extra") {
      extra.push_back(argv[++i]);
    } else if (i + 1 < argc && a == "--faces-cache") {
      faces_cache_path = argv[++i];
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
                 "[--faces [--threads N] [--faces-cache FILE]] [--extra DIR]... "
                 "[--sample N] [--seed N]\n");
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
  FaceCache face_cache;
  if (finder && !faces_cache_path.empty()) face_cache = ReadFaceCache(faces_cache_path);
  std::mutex face_cache_mu;
  std::atomic<int> cached = 0;
  std::ofstream face_cache_log;
  if (finder && !faces_cache_path.empty()) face_cache_log.open(faces_cache_path, std::ios::app);
  // The detector's findings for `key`, from the cache when it holds them.
  auto find_face = [&](const std::string& key, const cv::Mat& img) -> std::optional<FaceFound> {
    if (!finder) return std::nullopt;
    {
      std::lock_guard<std::mutex> lock(face_cache_mu);
      if (auto it = face_cache.find(key); it != face_cache.end()) {
        ++cached;
        return it->second;
      }
    }
    std::optional<FaceFound> face = finder->Find(img);
    std::lock_guard<std::mutex> lock(face_cache_mu);
    face_cache[key] = face;
    if (face_cache_log.is_open()) {
      face_cache_log << FaceCacheLine(key, face) << std::flush;
    }
    return face;
  };
  const char* kClass[3] = {"with_mask", "without_mask", "mask_worn_incorrectly"};
  const char* kSplit[3] = {"train", "val", "test"};
  std::error_code ec;
  fs::remove_all(out, ec);
  for (const char* split : {"train", "val", "test", "test-photos"}) {
    for (const char* c : kClass) fs::create_directories(fs::path(out) / split / c, ec);
  }
  std::atomic<int> counts[3][3] = {};  // split, class
  std::atomic<int> crops = 0, whole = 0, landmark_synth = 0, geometric_synth = 0;
  std::atomic<int> real_textures = 0;
  std::atomic<bool> failed = false;
  struct Task {
    std::string file;
    bool masked;
    int extra_cls = -1;  // a development-set photo of this class (with_mask or incorrect)
  };
  std::vector<Task> tasks;
  for (const bool masked : {true, false}) {
    const auto files =
        stratus::training::ListImages(data + (masked ? "/with_mask" : "/without_mask"));
    for (size_t i = 0; i < files.size(); i += sample) tasks.push_back({files[i], masked});
  }
  std::atomic<int> extra_count = 0;
  for (const std::string& dir : extra) {
    for (const auto& [folder, cls] :
         {std::pair<const char*, int>{"correct", 0}, {"incorrect", 2}}) {
      for (const std::string& f : stratus::training::ListImages(dir + "/" + folder)) {
        if (stratus::training::DevSetSplitOf(fs::path(f).filename().string()) !=
            stratus::training::MaskSplit::kTest) {
          tasks.push_back({f, true, cls});
        }
      }
    }
  }
  // Patches of real masks (the middle of each with_mask face), by task; half of the synthetic
  // masks are cut from one of the same split's patches instead of a generated fabric.
  std::vector<cv::Mat> patches(tasks.size());
  std::vector<cv::Mat> pool[3];
  // Writes one example: the face crop when a face was found, else the whole image.
  auto emit = [&](const cv::Mat& img, const std::optional<FaceFound>& face, int split, int cls,
                  const std::string& stem) {
    ++counts[split][cls];
    const fs::path dir = fs::path(out) / kSplit[split] / kClass[cls];
    if (face) {
      ++crops;
      return Write(dir / ("crop_" + stem + ".jpg"), img(face->box));
    }
    ++whole;
    return Write(dir / (stem + ".jpg"), img);
  };
  auto run = [&](size_t index) -> bool {
    const Task& t = tasks[index];
    const std::string name = fs::path(t.file).filename().string();
    const std::string stem = fs::path(name).stem().string();
    // The split depends on the file name only; the synthesis on the name and the seed.
    const int split = static_cast<int>(stratus::training::MaskSplitOf(name));
    const uint64_t h = stratus::text::Fnv1a64(name + "#" + std::to_string(seed));
    const cv::Mat img = cv::imread(t.file, cv::IMREAD_COLOR);
    if (img.empty()) {
      std::fprintf(stderr, "cannot decode %s\n", t.file.c_str());
      return false;
    }
    if (t.extra_cls >= 0) {
      const fs::path file(t.file);
      const std::string key = "extra/" + file.parent_path().filename().string() + "/" + name;
      const int dev_split = static_cast<int>(stratus::training::DevSetSplitOf(name));
      ++extra_count;
      return emit(img, find_face(key, img), dev_split, t.extra_cls,
                  "dev_" + file.parent_path().filename().string() + "_" + stem);
    }
    const std::optional<FaceFound> face =
        find_face(std::string(t.masked ? "with_mask/" : "without_mask/") + name, img);
    const fs::path photos = fs::path(out) / "test-photos";
    const int bare_cls = t.masked ? 0 : 1;
    if (split == 2 && !Link(t.file, photos / kClass[bare_cls] / name)) return false;
    if (!emit(img, face, split, bare_cls, stem)) return false;
    if (t.masked) {
      patches[index] = stratus::training::RealMaskPatch(
          img, face ? face->detected : cv::Rect(0, 0, img.cols, img.rows));
      return true;
    }
    const bool correct = (h >> 8) % 3 == 0;
    const MaskPlacement placement =
        correct
            ? MaskPlacement::kCorrect
            : stratus::training::IncorrectPlacement(static_cast<double>((h >> 20) % 1000) / 1000.0);
    cv::Mat texture;
    if (!pool[split].empty() && (h >> 32) % 2 == 0) {
      texture = pool[split][(h >> 40) % pool[split].size()];
      ++real_textures;
    }
    cv::Mat synth;
    if (face && face->landmarks.size() == 68) {
      synth = stratus::training::DrawSyntheticMaskOnLandmarks(img, face->landmarks, placement, h,
                                                              texture);
      ++landmark_synth;
    } else {
      synth = stratus::training::DrawSyntheticMask(img, placement, h, texture);
      ++geometric_synth;
    }
    const int cls = correct ? 0 : 2;
    if (split == 2 && !Write(photos / kClass[cls] / ("synth_" + stem + ".jpg"), synth)) {
      return false;
    }
    return emit(synth, face, split, cls, "synth_" + stem);
  };
  // Photos are independent: one worker per thread asked for (the detector runs one thread
  // each). The masked photos go first, so that their patches are there for the unmasked ones.
  auto run_all = [&](bool masked) {
    std::atomic<size_t> next = 0;
    std::vector<std::thread> workers;
    for (int w = 0; w < std::max(1, threads); ++w) {
      workers.emplace_back([&] {
        for (size_t i = next++; i < tasks.size() && !failed; i = next++) {
          if (tasks[i].masked == masked && !run(i)) failed = true;
        }
      });
    }
    for (auto& w : workers) w.join();
  };
  run_all(true);
  for (size_t i = 0; i < tasks.size(); ++i) {  // in task order: the same pools on every run
    if (patches[i].empty() || tasks[i].extra_cls >= 0) continue;
    const std::string name = fs::path(tasks[i].file).filename().string();
    pool[static_cast<int>(stratus::training::MaskSplitOf(name))].push_back(patches[i]);
  }
  run_all(false);
  face_cache_log.close();
  if (finder && !faces_cache_path.empty() && !WriteFaceCache(faces_cache_path, face_cache)) {
    return 1;
  }
  if (failed) return 1;
  for (int s = 0; s < 3; ++s) {
    std::printf("%-5s with_mask %d  without_mask %d  mask_worn_incorrectly %d\n", kSplit[s],
                counts[s][0].load(), counts[s][1].load(), counts[s][2].load());
  }
  std::printf(
      "examples: %d detector crops, %d whole photos (no face found or no detector); %d photos' "
      "faces from the cache; %d from the extra sets\n",
      crops.load(), whole.load(), cached.load(), extra_count.load());
  std::printf(
      "synthetic masks placed by landmarks %d, by crop geometry %d; %d of real-mask "
      "fabric -> %s\n",
      landmark_synth.load(), geometric_synth.load(), real_textures.load(), out.c_str());
  return 0;
}
