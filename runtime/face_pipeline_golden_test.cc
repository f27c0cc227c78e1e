// The face pipeline on the imported face-api models against the JavaScript reference's outputs
// (../shared/golden/faceapi/sampleN.{png,json}): same faces, boxes IoU >= 0.95, landmarks within
// 1 px, descriptor cosine >= 0.999, age within 1 year, gender and expression probabilities
// within 0.01 in FP32; with --precision auto (on CPUs with native bf16 only: the face detector
// in bf16) the looser bounds of kAuto. Each case prints its worst deviations and precisions.
//
// Needs the imported models in $STRATUS_MODEL_DIR (default ~/.cache/stratus/models; `make test`
// imports them first). Without them the tests skip, unless STRATUS_REQUIRE_MODELS=1 (CI), where
// they fail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>
#include <tuple>

#include "runtime/face_pipeline.h"
#include "runtime/model_repository.h"

namespace stratus::runtime {
namespace {

namespace fs = std::filesystem;

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

fs::path ModelDir() {
  return Env("STRATUS_MODEL_DIR", Env("HOME", "/root") + "/.cache/stratus/models");
}

fs::path GoldenDir() {
  const std::string src = Env("STRATUS_SOURCE_DIR", ".");
  return Env("STRATUS_GOLDEN_DIR", (fs::path(src) / ".." / "shared" / "golden").string());
}

bool RequireModels() { return Env("STRATUS_REQUIRE_MODELS", "0") == "1"; }

const char* const kFaceModels[] = {"faces", "face_landmarks68", "face_descriptor",
                                   "face_age_gender", "face_expression", "face_iris"};

double IoU(const PixelRect& a, const PixelRect& b) {
  const double ix = std::max(0.0, std::min(a.x + a.width, b.x + b.width) - std::max(a.x, b.x));
  const double iy = std::max(0.0, std::min(a.y + a.height, b.y + b.height) - std::max(a.y, b.y));
  const double inter = ix * iy;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

// The models and pipeline loaded once per precision ("fp32", "bf16") for the whole binary.
struct Loaded {
  std::string missing;     // a model file is missing
  std::string load_error;  // the load failed
  std::unique_ptr<ModelRepository> repo;
  std::unique_ptr<FacePipeline> pipeline;
};

const Loaded& LoadedFor(const std::string& precision) {
  static auto* cache = new std::map<std::string, Loaded>;
  auto it = cache->find(precision);
  if (it != cache->end()) return it->second;
  Loaded& l = (*cache)[precision];
  for (const char* m : kFaceModels) {
    if (!fs::exists(ModelDir() / m / "model.pt")) {
      l.missing = "model " + std::string(m) + " not in " + ModelDir().string();
      return l;
    }
  }
  RuntimeOptions o;
  o.precision = precision;
  auto repo = ModelRepository::Load(
      ModelDir().string(), std::vector<std::string>(std::begin(kFaceModels), std::end(kFaceModels)),
      o);
  if (!repo.ok()) {
    l.load_error = std::string(repo.status().message());
    return l;
  }
  l.repo = std::move(*repo);
  auto p = FacePipeline::Create(*l.repo, FacePipeline::Options{});
  if (!p.ok()) {
    l.load_error = std::string(p.status().message());
    return l;
  }
  l.pipeline = std::move(*p);
  return l;
}

// How far from the reference each precision may be.
struct Tolerance {
  double iou;          // box IoU at least
  double score;        // detection score within
  double landmark_px;  // every landmark within, pixels
  double cosine;       // descriptor cosine at least
  double age;          // years within
  double probability;  // gender and expression probabilities within
};
// FP32: the reference's own arithmetic, to rounding.
constexpr Tolerance kFp32{0.95, 0.01, 1.0, 0.999, 1.0, 0.01};
// --precision auto on a CPU with native bf16: the face detector in bf16, the crop models in
// FP32. Measured on the six golden photos (runtime/MODELS.md), with a margin.
constexpr Tolerance kAuto{0.98, 0.05, 8.0, 0.99, 5.0, 0.45};

class FacePipelineGoldenTest : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(FacePipelineGoldenTest, MatchesFaceApi) {
  const auto& [precision, sample] = GetParam();
  if (precision == "auto" && !CpuHasNativeBf16()) {
    GTEST_SKIP() << "this CPU has no native bf16 (avx512_bf16, amx_bf16): auto is fp32 here";
  }
  const Loaded& loaded = LoadedFor(precision);
  if (!loaded.missing.empty()) {
    if (RequireModels()) FAIL() << "STRATUS_REQUIRE_MODELS=1 but " << loaded.missing;
    GTEST_SKIP() << loaded.missing << " (run `make models`)";
  }
  ASSERT_TRUE(loaded.load_error.empty()) << loaded.load_error;
  const Tolerance& tol = precision == "auto" ? kAuto : kFp32;
  const std::string name = "sample" + std::to_string(sample);
  const fs::path png = GoldenDir() / "faceapi" / (name + ".png");
  const fs::path json_path = GoldenDir() / "faceapi" / (name + ".json");
  if (!fs::exists(png)) {
    if (RequireModels()) FAIL() << "golden file missing: " << png;
    GTEST_SKIP() << "golden file missing: " << png;
  }
  cv::Mat bgr = cv::imread(png.string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(bgr.empty()) << png;
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  nlohmann::json golden;
  std::ifstream(json_path) >> golden;
  ASSERT_EQ(rgb.cols, golden["width"].get<int>());
  ASSERT_EQ(rgb.rows, golden["height"].get<int>());

  auto result = loaded.pipeline->Analyze({rgb}, AnalyzeOptions{});
  ASSERT_TRUE(result.ok()) << result.status();
  const std::vector<Face>& faces = (*result)[0];
  const auto& ref = golden["ssdMobilenetv1"];
  ASSERT_EQ(faces.size(), ref.size()) << name << ": number of faces";

  std::vector<bool> used(faces.size(), false);
  double worst_px = 0, worst_cos = 1, worst_age = 0, worst_prob = 0, worst_iou = 1;
  for (size_t g = 0; g < ref.size(); ++g) {
    const auto& r = ref[g];
    const auto& rb = r["detection"]["box"];
    const PixelRect gbox{rb["x"].get<double>(), rb["y"].get<double>(), rb["width"].get<double>(),
                         rb["height"].get<double>()};
    // The face with the best IoU.
    size_t best = faces.size();
    double best_iou = -1;
    for (size_t f = 0; f < faces.size(); ++f) {
      const double iou = IoU(faces[f].box_pixels, gbox);
      if (!used[f] && iou > best_iou) {
        best_iou = iou;
        best = f;
      }
    }
    ASSERT_LT(best, faces.size());
    used[best] = true;
    const Face& f = faces[best];
    SCOPED_TRACE(name + " face " + std::to_string(g));
    EXPECT_GE(best_iou, tol.iou);
    EXPECT_NEAR(f.score, r["detection"]["score"].get<double>(), tol.score);

    const auto& pos = r["landmarks"]["positions"];
    ASSERT_EQ(f.landmarks.size(), pos.size());
    double max_px = 0;
    for (size_t i = 0; i < pos.size(); ++i) {
      max_px = std::max(max_px, std::hypot(f.landmarks[i].x - pos[i][0].get<double>(),
                                           f.landmarks[i].y - pos[i][1].get<double>()));
    }
    EXPECT_LE(max_px, tol.landmark_px) << "largest landmark deviation in pixels";
    worst_px = std::max(worst_px, max_px);
    worst_iou = std::min(worst_iou, best_iou);

    const auto& gd = r["descriptor"];
    ASSERT_EQ(f.descriptor.size(), gd.size());
    double dot = 0, na = 0, nb = 0;
    for (size_t i = 0; i < gd.size(); ++i) {
      const double a = f.descriptor[i], b = gd[i].get<double>();
      dot += a * b;
      na += a * a;
      nb += b * b;
    }
    EXPECT_GE(dot / std::sqrt(na * nb), tol.cosine) << "descriptor cosine";
    worst_cos = std::min(worst_cos, dot / std::sqrt(na * nb));
    worst_age = std::max(worst_age, std::fabs(f.age - r["age"].get<double>()));
    worst_prob = std::max(worst_prob,
                          std::fabs(f.gender_probability - r["genderProbability"].get<double>()));

    EXPECT_NEAR(f.age, r["age"].get<double>(), tol.age);
    if (precision == "fp32" ||
        std::fabs(r["genderProbability"].get<double>() - 0.5) > tol.probability) {
      EXPECT_EQ(f.gender, r["gender"].get<std::string>());
    }
    EXPECT_NEAR(f.gender_probability, r["genderProbability"].get<double>(), tol.probability);
    ASSERT_EQ(f.expressions.size(), 7u);
    for (const auto& [label, p] : f.expressions) {
      EXPECT_NEAR(p, r["expressions"][label].get<double>(), tol.probability) << label;
      worst_prob = std::max(worst_prob, std::fabs(p - r["expressions"][label].get<double>()));
    }
  }
  std::printf(
      "%s (face detector %s) %s: %zu faces; worst: box IoU %.6f, landmark %.2e px, descriptor "
      "cosine %.8f, age %.2e y, probability %.2e\n",
      precision.c_str(), (*loaded.repo->Get("faces"))->precision().c_str(), name.c_str(),
      faces.size(), worst_iou, worst_px, worst_cos, worst_age, worst_prob);
}

// Concurrent callers (the detector service's batcher and stream handlers) get the same answers
// as a lone caller.
TEST(FacePipelineGoldenConcurrencyTest, ConcurrentCallsAgree) {
  const Loaded& loaded = LoadedFor("fp32");
  if (!loaded.missing.empty()) {
    if (RequireModels()) FAIL() << "STRATUS_REQUIRE_MODELS=1 but " << loaded.missing;
    GTEST_SKIP() << loaded.missing;
  }
  ASSERT_TRUE(loaded.load_error.empty()) << loaded.load_error;
  FacePipeline* pipeline = loaded.pipeline.get();
  std::vector<cv::Mat> images;
  for (int s : {1, 2, 3}) {
    cv::Mat bgr =
        cv::imread((GoldenDir() / "faceapi" / ("sample" + std::to_string(s) + ".png")).string());
    if (bgr.empty()) GTEST_SKIP() << "golden images missing";
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    images.push_back(rgb);
  }
  // All three in one call (one batch per crop model) as the reference for each.
  auto together = pipeline->Analyze(images, AnalyzeOptions{});
  ASSERT_TRUE(together.ok()) << together.status();
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<std::vector<std::vector<Face>>>> alone(images.size(),
                                                                    absl::UnknownError(""));
  for (size_t i = 0; i < images.size(); ++i) {
    threads.emplace_back([&, i] { alone[i] = pipeline->Analyze({images[i]}, AnalyzeOptions{}); });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < images.size(); ++i) {
    ASSERT_TRUE(alone[i].ok()) << alone[i].status();
    const std::vector<Face>& a = (*alone[i])[0];
    const std::vector<Face>& b = (*together)[i];
    ASSERT_EQ(a.size(), b.size());
    for (size_t f = 0; f < a.size(); ++f) {
      EXPECT_NEAR(a[f].score, b[f].score, 1e-5);
      for (size_t k = 0; k < a[f].landmarks.size(); ++k) {
        EXPECT_NEAR(a[f].landmarks[k].x, b[f].landmarks[k].x, 0.01);
      }
      for (size_t k = 0; k < a[f].descriptor.size(); ++k) {
        EXPECT_NEAR(a[f].descriptor[k], b[f].descriptor[k], 1e-4);
      }
      EXPECT_NEAR(a[f].age, b[f].age, 0.01);
    }
  }
}

// EyeDirection on the golden photos (people facing the camera, most looking into it): each iris
// centre lies inside its eye (68-point contour), mirroring the photo mirrors the gaze (yaw
// changes sign, pitch stays), and the gaze of faces that look at the camera is moderate.
TEST(FacePipelineEyeDirectionTest, IrisesInTheirEyesAndMirrorSymmetric) {
  const Loaded& loaded = LoadedFor("fp32");
  if (!loaded.missing.empty()) {
    if (RequireModels()) FAIL() << "STRATUS_REQUIRE_MODELS=1 but " << loaded.missing;
    GTEST_SKIP() << loaded.missing;
  }
  ASSERT_TRUE(loaded.load_error.empty()) << loaded.load_error;
  AnalyzeOptions options;
  options.eye_direction = true;
  options.descriptor = options.age_gender = options.expressions = false;
  int faces = 0;
  double asymmetry = 0;  // sum of |yaw + mirrored yaw|
  for (int s = 1; s <= 6; ++s) {
    cv::Mat bgr =
        cv::imread((GoldenDir() / "faceapi" / ("sample" + std::to_string(s) + ".png")).string());
    if (bgr.empty()) {
      if (RequireModels()) FAIL() << "golden images missing";
      GTEST_SKIP() << "golden images missing";
    }
    cv::Mat rgb, mirrored;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    cv::flip(rgb, mirrored, 1);
    auto got = loaded.pipeline->Analyze({rgb, mirrored}, options);
    ASSERT_TRUE(got.ok()) << got.status();
    const std::vector<Face>& a = (*got)[0];
    const std::vector<Face>& b = (*got)[1];
    for (const Face& f : a) {
      SCOPED_TRACE("sample" + std::to_string(s));
      ASSERT_TRUE(f.eye_direction.has_value());
      const EyeDirection& e = *f.eye_direction;
      // Inside the eye: closer to the 68-point eye centre than half the eye's width.
      for (const auto& [first, iris] : {std::pair{36, e.right_iris}, std::pair{42, e.left_iris}}) {
        double cx = 0, cy = 0;
        for (int i = first; i < first + 6; ++i) {
          cx += f.landmarks[i].x / 6.0;
          cy += f.landmarks[i].y / 6.0;
        }
        const double width = std::hypot(f.landmarks[first + 3].x - f.landmarks[first].x,
                                        f.landmarks[first + 3].y - f.landmarks[first].y);
        EXPECT_LT(std::hypot(iris.x - cx, iris.y - cy), width / 2) << "eye at " << first;
      }
      // The same face in the mirrored photo: the box mirrored.
      const Face* m = nullptr;
      double best = 0;
      for (const Face& g : b) {
        PixelRect back = g.box_pixels;
        back.x = rgb.cols - g.box_pixels.x - g.box_pixels.width;
        const double iou = IoU(back, f.box_pixels);
        if (iou > best) {
          best = iou;
          m = &g;
        }
      }
      ASSERT_NE(m, nullptr);
      ASSERT_TRUE(m->eye_direction.has_value());
      std::printf("sample%d face at x=%.0f: yaw %.1f pitch %.1f, mirrored yaw %.1f pitch %.1f\n",
                  s, f.box_pixels.x, e.yaw, e.pitch, m->eye_direction->yaw,
                  m->eye_direction->pitch);
      // Landmarks and iris points of a mirrored face differ by a few pixels: a few degrees.
      EXPECT_NEAR(e.yaw, -m->eye_direction->yaw, 12.0);
      EXPECT_NEAR(e.pitch, m->eye_direction->pitch, 8.0);
      asymmetry += std::fabs(e.yaw + m->eye_direction->yaw);
      EXPECT_LT(std::fabs(e.yaw), 45);
      EXPECT_LT(std::fabs(e.pitch), 45);
      EXPECT_NEAR(e.confidence, f.score * 100, 1e-3);
      ++faces;
    }
  }
  EXPECT_GT(faces, 5);
  EXPECT_LT(asymmetry / faces, 5.0) << "mean yaw asymmetry under mirroring, degrees";
}

INSTANTIATE_TEST_SUITE_P(Samples, FacePipelineGoldenTest,
                         ::testing::Combine(::testing::Values("fp32", "auto"),
                                            ::testing::Values(1, 2, 3, 4, 5, 6)),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_sample" +
                                  std::to_string(std::get<1>(info.param));
                         });

}  // namespace
}  // namespace stratus::runtime
