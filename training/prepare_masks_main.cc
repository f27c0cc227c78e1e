// stratus-prepare-masks: builds the three-class mask training set from ../shared/data/masks
// (two classes) by synthesising masks on a third of the unmasked faces (mask_synth.h):
//
//   stratus-prepare-masks --data DATA/masks --out DIR [--seed N]
//
// DIR/with_mask      every with_mask photo (links) + 1/6 of the unmasked faces with a mask
//                    drawn correctly over nose and mouth
// DIR/without_mask   the other half of the unmasked faces (links)
// DIR/mask_worn_incorrectly  1/3 of the unmasked faces with a mask drawn below the nose (3 of
//                    4) or on the chin (1 of 4)
// Which face goes where is decided by a hash of its file name, so every machine builds the same
// set; no face appears in two classes.
#include <cstdio>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <string>

#include "training/data.h"
#include "training/mask_synth.h"
#include "training/text/encoder.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::string data, out;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--data")
      data = argv[i + 1];
    else if (a == "--out")
      out = argv[i + 1];
    else if (a == "--seed")
      seed = std::stoull(argv[i + 1]);
  }
  if (data.empty() || out.empty()) {
    std::fprintf(stderr, "usage: stratus-prepare-masks --data DATA/masks --out DIR [--seed N]\n");
    return 2;
  }
  std::error_code ec;
  fs::remove_all(out, ec);
  for (const char* c : {"with_mask", "without_mask", "mask_worn_incorrectly"}) {
    fs::create_directories(fs::path(out) / c, ec);
  }
  int counts[3] = {0, 0, 0};
  for (const auto& f : stratus::training::ListImages(data + "/with_mask")) {
    fs::create_symlink(fs::absolute(f), fs::path(out) / "with_mask" / fs::path(f).filename(), ec);
    if (ec) {
      std::fprintf(stderr, "link %s: %s\n", f.c_str(), ec.message().c_str());
      return 1;
    }
    ++counts[0];
  }
  for (const auto& f : stratus::training::ListImages(data + "/without_mask")) {
    const std::string name = fs::path(f).filename().string();
    const uint64_t h = stratus::text::Fnv1a64(name + "#" + std::to_string(seed));
    const int bucket = static_cast<int>(h % 6);
    if (bucket >= 3) {
      fs::create_symlink(fs::absolute(f), fs::path(out) / "without_mask" / name, ec);
      if (ec) {
        std::fprintf(stderr, "link %s: %s\n", f.c_str(), ec.message().c_str());
        return 1;
      }
      ++counts[1];
      continue;
    }
    cv::Mat img = cv::imread(f, cv::IMREAD_COLOR);
    if (img.empty()) {
      std::fprintf(stderr, "cannot decode %s\n", f.c_str());
      return 1;
    }
    using stratus::training::MaskPlacement;
    const MaskPlacement placement = bucket == 2           ? MaskPlacement::kCorrect
                                    : ((h >> 8) % 4 == 0) ? MaskPlacement::kOnChin
                                                          : MaskPlacement::kBelowNose;
    const cv::Mat synth = stratus::training::DrawSyntheticMask(img, placement, h);
    const std::string cls = bucket == 2 ? "with_mask" : "mask_worn_incorrectly";
    const std::string dst =
        (fs::path(out) / cls / ("synth_" + fs::path(name).stem().string() + ".jpg")).string();
    if (!cv::imwrite(dst, synth, {cv::IMWRITE_JPEG_QUALITY, 92})) {
      std::fprintf(stderr, "cannot write %s\n", dst.c_str());
      return 1;
    }
    ++counts[bucket == 2 ? 0 : 2];
  }
  std::printf("with_mask %d  without_mask %d  mask_worn_incorrectly %d -> %s\n", counts[0],
              counts[1], counts[2], out.c_str());
  return 0;
}
