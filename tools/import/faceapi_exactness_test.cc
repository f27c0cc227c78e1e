// Holds the imported face-api models to the outputs of the original JavaScript implementation
// (TensorFlow.js 4.22 cpu backend, ../shared/golden/faceapi/sampleN.{png,json}).
//
// The test reproduces face-api's own pre- and post-processing around each model (it tests the
// models, not the runtime): padToSquare + TF's legacy bilinear resize (align_corners=false,
// half_pixel_centers=false), the crops of extractFaceTensors (clipAtImageBorders + floor),
// face-api's NMS and box mapping, and the landmark post-processing of FaceLandmark68NetBase.
// The crop nets run on the reference's own boxes (detection box, alignedRect, dlibAlignedRect),
// from both reference pipelines (SSD and Tiny face detector), so each model is checked alone.
//
// Environment: STRATUS_MODEL_DIR (default ~/.cache/stratus/models), STRATUS_GOLDEN_DIR (default
// $STRATUS_SOURCE_DIR/../shared/golden/faceapi). Without the models the tests skip, unless
// STRATUS_REQUIRE_MODELS=1, when they fail.
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "opencv2/core.hpp"
#include "opencv2/imgcodecs.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

fs::path ModelDir() {
  return Env("STRATUS_MODEL_DIR", Env("HOME", "/root") + "/.cache/stratus/models");
}

fs::path GoldenDir() {
  const std::string src = Env("STRATUS_SOURCE_DIR", ".");
  return Env("STRATUS_GOLDEN_DIR", src + "/../shared/golden/faceapi");
}

// An RGB image as float values (face-api's int32 input tensor).
struct Image {
  int h = 0, w = 0;
  std::vector<float> px;  // HWC
  float at(int y, int x, int c) const { return px[(static_cast<size_t>(y) * w + x) * 3 + c]; }
};

Image LoadPng(const fs::path& path) {
  cv::Mat bgr = cv::imread(path.string(), cv::IMREAD_COLOR);
  Image img;
  if (bgr.empty()) return img;
  img.h = bgr.rows;
  img.w = bgr.cols;
  img.px.resize(static_cast<size_t>(img.h) * img.w * 3);
  for (int y = 0; y < img.h; ++y) {
    const uint8_t* row = bgr.ptr<uint8_t>(y);
    for (int x = 0; x < img.w; ++x) {
      for (int c = 0; c < 3; ++c) img.px[(static_cast<size_t>(y) * img.w + x) * 3 + c] = row[x * 3 + 2 - c];
    }
  }
  return img;
}

// Integer crop (extractFaceTensors: clipAtImageBorders, then floor of x, y, width, height).
struct Crop {
  int x = 0, y = 0, w = 0, h = 0;
};

Crop ClipAndFloor(double x, double y, double w, double h, int img_w, int img_h) {
  const double right = x + w, bottom = y + h;
  const double cx = std::max(x, 0.0), cy = std::max(y, 0.0);
  const double cw = std::min(right - cx, img_w - cx), ch = std::min(bottom - cy, img_h - cy);
  return {static_cast<int>(std::floor(cx)), static_cast<int>(std::floor(cy)),
          static_cast<int>(std::floor(cw)), static_cast<int>(std::floor(ch))};
}

// face-api's NetInput.toBatchTensor(size, center) for one (cropped) image: zero padding to a
// square (at the bottom/right, or around the centre with the larger half at the bottom/right),
// TF.js's legacy bilinear resize, then `normalize` as a function of the pixel value. Returns a
// [1,3,size,size] channels_last tensor.
template <typename Normalize>
torch::Tensor NetInput(const Image& img, const Crop& crop, int size, bool center, Normalize norm) {
  const int h = crop.h, w = crop.w;
  const int side = std::max(h, w);
  const int diff = std::abs(h - w);
  // padToSquare: append round(diff * (center ? 0.5 : 1)) (JS Math.round), prepend the rest.
  const int append = static_cast<int>(std::floor(diff * (center ? 0.5 : 1.0) + 0.5));
  const int prepend = center ? diff - append : 0;
  const int off_y = h < w ? prepend : 0;
  const int off_x = w < h ? prepend : 0;
  auto padded = [&](int py, int px, int c) -> double {
    const int y = py - off_y, x = px - off_x;
    if (y < 0 || x < 0 || y >= h || x >= w) return 0.0;
    return img.at(crop.y + y, crop.x + x, c);
  };
  std::vector<float> out(static_cast<size_t>(3) * size * size);
  const double ratio = static_cast<double>(side) / size;
  for (int r = 0; r < size; ++r) {
    const double fr = side == size ? r : ratio * r;
    const int r0 = std::max(0, static_cast<int>(std::floor(fr)));
    const int r1 = std::min(side - 1, static_cast<int>(std::ceil(fr)));
    const double rf = fr - r0;
    for (int col = 0; col < size; ++col) {
      const double fc = side == size ? col : ratio * col;
      const int c0 = std::max(0, static_cast<int>(std::floor(fc)));
      const int c1 = std::min(side - 1, static_cast<int>(std::ceil(fc)));
      const double cf = fc - c0;
      for (int c = 0; c < 3; ++c) {
        const double tl = padded(r0, c0, c), tr = padded(r0, c1, c);
        const double bl = padded(r1, c0, c), br = padded(r1, c1, c);
        const double top = tl + (tr - tl) * cf;
        const double bottom = bl + (br - bl) * cf;
        const float v = static_cast<float>(top + (bottom - top) * rf);
        out[(static_cast<size_t>(c) * size + r) * size + col] = norm(v, c);
      }
    }
  }
  return torch::from_blob(out.data(), {1, 3, size, size}, torch::kFloat32)
      .clone()
      .contiguous(at::MemoryFormat::ChannelsLast);
}

float NormalizeSsd(float v, int) { return v / 127.5f - 1.0f; }
float NormalizeCrop(float v, int c) {
  static constexpr float kMean[3] = {122.782f, 117.001f, 104.298f};
  return (v - kMean[c]) / 255.0f;
}

struct Box {
  double x, y, w, h;
};

double Iou(const Box& a, const Box& b) {
  const double ix = std::max(0.0, std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x));
  const double iy = std::max(0.0, std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y));
  const double inter = ix * iy;
  return inter / (a.w * a.h + b.w * b.h - inter);
}

// ssdMobilenetv1/nonMaxSuppression.ts on (ymin, xmin, ymax, xmax) boxes.
std::vector<int> FaceApiNms(const float* boxes, const float* scores, int n, int max_out, float iou_t,
                            float score_t) {
  auto iou = [&](int i, int j) {
    const float* a = boxes + 4 * i;
    const float* b = boxes + 4 * j;
    const double ay0 = std::min(a[0], a[2]), ax0 = std::min(a[1], a[3]);
    const double ay1 = std::max(a[0], a[2]), ax1 = std::max(a[1], a[3]);
    const double by0 = std::min(b[0], b[2]), bx0 = std::min(b[1], b[3]);
    const double by1 = std::max(b[0], b[2]), bx1 = std::max(b[1], b[3]);
    const double area_a = (ay1 - ay0) * (ax1 - ax0), area_b = (by1 - by0) * (bx1 - bx0);
    if (area_a <= 0 || area_b <= 0) return 0.0;
    const double inter = std::max(std::min(ay1, by1) - std::max(ay0, by0), 0.0) *
                         std::max(std::min(ax1, bx1) - std::max(ax0, bx0), 0.0);
    return inter / (area_a + area_b - inter);
  };
  std::vector<int> cand;
  for (int i = 0; i < n; ++i) {
    if (scores[i] > score_t) cand.push_back(i);
  }
  std::stable_sort(cand.begin(), cand.end(), [&](int a, int b) { return scores[a] > scores[b]; });
  std::vector<int> selected;
  for (int c : cand) {
    if (static_cast<int>(selected.size()) >= std::min(max_out, n)) break;
    double score = scores[c];
    const double original = score;
    for (int j = static_cast<int>(selected.size()) - 1; j >= 0; --j) {
      const double v = iou(c, selected[j]);
      if (v == 0.0) continue;
      score *= v <= iou_t ? 1.0 : 0.0;
      if (score <= score_t) break;
    }
    if (original == score) selected.push_back(c);
  }
  return selected;
}

class FaceApiExactnessTest : public ::testing::Test {
 protected:
  // Loads model `name`, or skips/fails the test when it is missing.
  bool Load(const std::string& name, torch::jit::Module* module) {
    const fs::path path = ModelDir() / name / "model.pt";
    if (!fs::exists(path)) {
      if (Env("STRATUS_REQUIRE_MODELS", "0") == "1") {
        ADD_FAILURE() << "model missing: " << path << " (run `make models`)";
      } else {
        std::cout << "[  SKIPPED ] model missing: " << path << " (run `make models`)\n";
      }
      return false;
    }
    *module = torch::jit::load(path.string());
    module->eval();
    return true;
  }

  static std::vector<int> Samples() {
    std::vector<int> s;
    for (int i = 1; i <= 6; ++i) {
      if (fs::exists(GoldenDir() / ("sample" + std::to_string(i) + ".json"))) s.push_back(i);
    }
    return s;
  }

  static json Golden(int i) {
    std::ifstream in(GoldenDir() / ("sample" + std::to_string(i) + ".json"));
    return json::parse(in);
  }
  // The faces of both reference pipelines (SSD and Tiny face detector): the crop nets see more
  // crop shapes this way.
  static std::vector<json> CropFaces(const json& g) {
    std::vector<json> faces;
    for (const char* detector : {"ssdMobilenetv1", "tinyFaceDetector"}) {
      if (!g.contains(detector)) continue;
      for (const auto& f : g[detector]) faces.push_back(f);
    }
    return faces;
  }
  static Image Png(int i) { return LoadPng(GoldenDir() / ("sample" + std::to_string(i) + ".png")); }

  void SetUp() override {
    if (Samples().empty()) GTEST_SKIP() << "no golden samples in " << GoldenDir();
  }

  c10::InferenceMode inference_mode_;
};

#define LOAD_OR_SKIP(name, module)                      \
  torch::jit::Module module;                            \
  if (!Load(name, &module)) {                           \
    if (!HasFailure()) GTEST_SKIP() << "model " << name << " missing"; \
    return;                                             \
  }

TEST_F(FaceApiExactnessTest, SsdDetectorMatchesReference) {
  LOAD_OR_SKIP("faces", model);
  double worst_iou = 1, worst_score = 0;
  for (int s : Samples()) {
    SCOPED_TRACE("sample" + std::to_string(s));
    const json g = Golden(s);
    const Image img = Png(s);
    ASSERT_EQ(img.w, g["width"].get<int>());
    ASSERT_EQ(img.h, g["height"].get<int>());
    torch::Tensor x = NetInput(img, {0, 0, img.w, img.h}, 512, false, NormalizeSsd);
    auto out = model.forward({x}).toTuple();
    torch::Tensor boxes = out->elements()[0].toTensor().contiguous();
    torch::Tensor scores = out->elements()[1].toTensor().contiguous();
    ASSERT_EQ(boxes.sizes(), (std::vector<int64_t>{1, 5118, 4}));
    ASSERT_EQ(scores.sizes(), (std::vector<int64_t>{1, 5118}));
    const float* b = boxes.data_ptr<float>();
    const float* sc = scores.data_ptr<float>();
    std::vector<int> keep = FaceApiNms(b, sc, 5118, 100, 0.5f, 0.5f);

    // SsdMobilenetv1.locateFaces: clip to [0,1], undo the padding, scale to the image.
    const double scale = 512.0 / std::max(img.w, img.h);
    const double pad_x = 512.0 / std::round(img.w * scale), pad_y = 512.0 / std::round(img.h * scale);
    std::vector<Box> got;
    std::vector<double> got_scores;
    for (int k : keep) {
      const double top = std::max(0.0f, b[4 * k]) * pad_y, bottom = std::min(1.0f, b[4 * k + 2]) * pad_y;
      const double left = std::max(0.0f, b[4 * k + 1]) * pad_x, right = std::min(1.0f, b[4 * k + 3]) * pad_x;
      got.push_back({left * img.w, top * img.h, (right - left) * img.w, (bottom - top) * img.h});
      got_scores.push_back(sc[k]);
    }
    const auto& ref = g["ssdMobilenetv1"];
    ASSERT_EQ(got.size(), ref.size()) << "number of faces";
    std::vector<bool> used(got.size(), false);
    for (const auto& face : ref) {
      const auto& rb = face["detection"]["box"];
      const Box want{rb["x"].get<double>(), rb["y"].get<double>(), rb["width"].get<double>(),
                     rb["height"].get<double>()};
      int best = -1;
      double best_iou = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        const double v = Iou(got[i], want);
        if (!used[i] && v > best_iou) best_iou = v, best = static_cast<int>(i);
      }
      ASSERT_GE(best, 0) << "no detection overlaps the reference face at " << want.x << "," << want.y;
      used[best] = true;
      const double dscore = std::abs(got_scores[best] - face["detection"]["score"].get<double>());
      EXPECT_GE(best_iou, 0.95);
      EXPECT_LE(dscore, 0.01);
      worst_iou = std::min(worst_iou, best_iou);
      worst_score = std::max(worst_score, dscore);
    }
  }
  std::cout << "ssd: worst IoU " << worst_iou << ", worst |score diff| " << worst_score << "\n";
}

TEST_F(FaceApiExactnessTest, LandmarksMatchReference) {
  LOAD_OR_SKIP("face_landmarks68", model);
  double worst = 0;
  for (int s : Samples()) {
    SCOPED_TRACE("sample" + std::to_string(s));
    const json g = Golden(s);
    const Image img = Png(s);
    for (const auto& face : CropFaces(g)) {
      const auto& rb = face["detection"]["box"];
      const double bx = rb["x"].get<double>(), by = rb["y"].get<double>();
      const Crop crop = ClipAndFloor(bx, by, rb["width"].get<double>(), rb["height"].get<double>(),
                                     img.w, img.h);
      ASSERT_EQ(crop.w, face["landmarks"]["cropDims"]["width"].get<int>());
      ASSERT_EQ(crop.h, face["landmarks"]["cropDims"]["height"].get<int>());
      torch::Tensor out =
          model.forward({NetInput(img, crop, 112, true, NormalizeCrop)}).toTensor().contiguous();
      ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 136}));
      const float* p = out.data_ptr<float>();
      // FaceLandmark68NetBase.postProcess (float32), then FaceLandmarks: * crop size + shift.
      const float scale = 112.0f / std::max(crop.h, crop.w);
      const float sw = crop.w * scale, sh = crop.h * scale;
      const float pad_x = sw < sh ? std::abs(sw - sh) / 2 : 0.0f;
      const float pad_y = sh < sw ? std::abs(sw - sh) / 2 : 0.0f;
      const auto& want = face["landmarks"]["positions"];
      ASSERT_EQ(want.size(), 68u);
      for (int i = 0; i < 68; ++i) {
        const float rx = (p[2 * i] * 112.0f - pad_x) / sw;
        const float ry = (p[2 * i + 1] * 112.0f - pad_y) / sh;
        const double x = static_cast<double>(rx) * crop.w + bx;
        const double y = static_cast<double>(ry) * crop.h + by;
        const double d = std::hypot(x - want[i][0].get<double>(), y - want[i][1].get<double>());
        EXPECT_LE(d, 1.0) << "landmark " << i;
        worst = std::max(worst, d);
      }
    }
  }
  std::cout << "landmarks68: worst distance " << worst << " px\n";
}

TEST_F(FaceApiExactnessTest, DescriptorMatchesReference) {
  LOAD_OR_SKIP("face_descriptor", model);
  double worst = 1;
  for (int s : Samples()) {
    SCOPED_TRACE("sample" + std::to_string(s));
    const json g = Golden(s);
    const Image img = Png(s);
    for (const auto& face : CropFaces(g)) {
      const auto& r = face["dlibAlignedRect"];
      const Crop crop = ClipAndFloor(r["x"].get<double>(), r["y"].get<double>(),
                                     r["width"].get<double>(), r["height"].get<double>(), img.w,
                                     img.h);
      torch::Tensor out =
          model.forward({NetInput(img, crop, 150, true, NormalizeCrop)}).toTensor().contiguous();
      ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 128}));
      const auto want = face["descriptor"].get<std::vector<double>>();
      ASSERT_EQ(want.size(), 128u);
      const float* p = out.data_ptr<float>();
      double dot = 0, na = 0, nb = 0;
      for (int i = 0; i < 128; ++i) dot += p[i] * want[i], na += p[i] * p[i], nb += want[i] * want[i];
      const double cosine = dot / std::sqrt(na * nb);
      EXPECT_GE(cosine, 0.999);
      worst = std::min(worst, cosine);
    }
  }
  std::cout << "descriptor: worst cosine " << worst << "\n";
}

TEST_F(FaceApiExactnessTest, AgeGenderMatchesReference) {
  LOAD_OR_SKIP("face_age_gender", model);
  double worst_age = 0, worst_prob = 0;
  for (int s : Samples()) {
    SCOPED_TRACE("sample" + std::to_string(s));
    const json g = Golden(s);
    const Image img = Png(s);
    for (const auto& face : CropFaces(g)) {
      const auto& r = face["alignedRect"]["box"];
      const Crop crop = ClipAndFloor(r["x"].get<double>(), r["y"].get<double>(),
                                     r["width"].get<double>(), r["height"].get<double>(), img.w,
                                     img.h);
      auto out = model.forward({NetInput(img, crop, 112, true, NormalizeCrop)}).toTuple();
      torch::Tensor age = out->elements()[0].toTensor().contiguous();
      torch::Tensor gender = out->elements()[1].toTensor().contiguous();
      ASSERT_EQ(age.sizes(), (std::vector<int64_t>{1}));
      ASSERT_EQ(gender.sizes(), (std::vector<int64_t>{1, 2}));
      const double dage = std::abs(age.item<float>() - face["age"].get<double>());
      EXPECT_LE(dage, 1.0);
      const float male = gender[0][0].item<float>();
      const std::string label = male > 0.5f ? "male" : "female";
      EXPECT_EQ(label, face["gender"].get<std::string>());
      const double prob = male > 0.5f ? male : 1.0 - male;
      const double dprob = std::abs(prob - face["genderProbability"].get<double>());
      EXPECT_LE(dprob, 0.01);
      EXPECT_NEAR(gender[0][0].item<float>() + gender[0][1].item<float>(), 1.0, 1e-5);
      worst_age = std::max(worst_age, dage);
      worst_prob = std::max(worst_prob, dprob);
    }
  }
  std::cout << "age_gender: worst |age diff| " << worst_age << " years, worst |gender prob diff| "
            << worst_prob << "\n";
}

TEST_F(FaceApiExactnessTest, ExpressionsMatchReference) {
  LOAD_OR_SKIP("face_expression", model);
  static const char* kLabels[7] = {"neutral", "happy",     "sad",      "angry",
                                   "fearful", "disgusted", "surprised"};
  double worst = 0;
  for (int s : Samples()) {
    SCOPED_TRACE("sample" + std::to_string(s));
    const json g = Golden(s);
    const Image img = Png(s);
    for (const auto& face : CropFaces(g)) {
      const auto& r = face["alignedRect"]["box"];
      const Crop crop = ClipAndFloor(r["x"].get<double>(), r["y"].get<double>(),
                                     r["width"].get<double>(), r["height"].get<double>(), img.w,
                                     img.h);
      torch::Tensor out =
          model.forward({NetInput(img, crop, 112, true, NormalizeCrop)}).toTensor().contiguous();
      ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 7}));
      for (int i = 0; i < 7; ++i) {
        const double d =
            std::abs(out[0][i].item<float>() - face["expressions"][kLabels[i]].get<double>());
        EXPECT_LE(d, 0.01) << kLabels[i];
        worst = std::max(worst, d);
      }
    }
  }
  std::cout << "expressions: worst |prob diff| " << worst << "\n";
}

// Batching must not change any image's result, in either memory format: a batch of three
// NCHW-contiguous inputs against each image alone in channels_last.
TEST_F(FaceApiExactnessTest, BatchedOutputsMatchSingleImages) {
  const std::pair<const char*, int> kModels[] = {{"faces", 512},
                                                 {"face_landmarks68", 112},
                                                 {"face_descriptor", 150},
                                                 {"face_age_gender", 112},
                                                 {"face_expression", 112}};
  torch::manual_seed(7);
  for (const auto& [name, size] : kModels) {
    SCOPED_TRACE(name);
    LOAD_OR_SKIP(name, model);
    torch::Tensor x = torch::rand({3, 3, size, size}) * 2 - 1;
    auto flatten = [](const c10::IValue& v) {
      std::vector<torch::Tensor> out;
      if (v.isTuple()) {
        for (const auto& e : v.toTuple()->elements()) out.push_back(e.toTensor());
      } else {
        out.push_back(v.toTensor());
      }
      return out;
    };
    std::vector<torch::Tensor> batched = flatten(model.forward({x.contiguous()}));
    for (int64_t b = 0; b < 3; ++b) {
      torch::Tensor xb = x.narrow(0, b, 1).contiguous(at::MemoryFormat::ChannelsLast);
      std::vector<torch::Tensor> single = flatten(model.forward({xb}));
      ASSERT_EQ(single.size(), batched.size());
      for (size_t i = 0; i < single.size(); ++i) {
        ASSERT_EQ(batched[i].size(0), 3);
        ASSERT_EQ(single[i].size(0), 1);
        const double diff =
            (batched[i].narrow(0, b, 1) - single[i]).abs().max().item<double>();
        EXPECT_LE(diff, 1e-4) << "output " << i << " item " << b;
      }
    }
  }
}

}  // namespace
