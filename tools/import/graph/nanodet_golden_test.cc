// Holds the imported nanodet ($STRATUS_MODEL_DIR/nanodet, made by `make models`) to the TF.js
// reference in ../shared/golden/nanodet: same input tensor, all six raw outputs. Without the
// model those tests skip, unless STRATUS_REQUIRE_MODELS=1, when they fail.
// The decoder tests run the nanodet decoder on the reference's raw outputs (no model needed).
#include <torch/script.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/decoder.h"
#include "runtime/model.h"
#include "runtime/model_config.h"
#include "runtime/model_repository.h"
#include "runtime/object_detector.h"
#include "runtime/preprocess.h"

namespace {

namespace fs = std::filesystem;

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

fs::path ModelDir() {
  const std::string home = Env("HOME", "/root");
  const std::string cache = Env("STRATUS_CACHE", home + "/.cache/stratus");
  return fs::path(Env("STRATUS_MODEL_DIR", cache + "/models")) / "nanodet";
}

fs::path GoldenDir() {
  const std::string src = Env("STRATUS_SOURCE_DIR", ".");
  return fs::path(Env("STRATUS_GOLDEN_DIR", src + "/../shared/golden")) / "nanodet";
}

std::vector<float> ReadF32(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

class NanodetGoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(GoldenDir() / "nanodet.json")) GTEST_SKIP() << "no golden data";
    if (!fs::exists(ModelDir() / "model.pt")) {
      if (Env("STRATUS_REQUIRE_MODELS", "") == "1") {
        FAIL() << "missing " << (ModelDir() / "model.pt") << " (run make models)";
      }
      GTEST_SKIP() << "no model at " << ModelDir() << " (make models)";
    }
    module_ = torch::jit::load((ModelDir() / "model.pt").string());
    module_.eval();
    std::ifstream in(GoldenDir() / "nanodet.json");
    golden_ = nlohmann::json::parse(in);
  }

  // Runs the model on the golden input of `sample`; outputs in forward's order.
  std::vector<at::Tensor> Run(const std::string& sample, bool channels_last) {
    std::vector<float> x = ReadF32(GoldenDir() / (sample + "_input_1x3x416x416.f32"));
    EXPECT_EQ(x.size(), 3u * 416 * 416);
    at::Tensor input = torch::from_blob(x.data(), {1, 3, 416, 416}).clone();
    if (channels_last) input = input.contiguous(at::MemoryFormat::ChannelsLast);
    c10::InferenceMode guard;
    auto out = module_.forward({input}).toTuple()->elements();
    std::vector<at::Tensor> result;
    for (const auto& o : out) result.push_back(o.toTensor().contiguous());
    return result;
  }

  torch::jit::Module module_;
  nlohmann::json golden_;
};

// forward returns Identity, Identity_1, ..., Identity_5 (sorted output names).
const char* kOutputs[] = {"Identity",   "Identity_1", "Identity_2",
                          "Identity_3", "Identity_4", "Identity_5"};

TEST_F(NanodetGoldenTest, RawOutputsMatchTfjs) {
  for (const std::string sample : {"sample1", "sample2"}) {
    for (bool channels_last : {false, true}) {
      std::vector<at::Tensor> out = Run(sample, channels_last);
      ASSERT_EQ(out.size(), 6u);
      for (size_t i = 0; i < 6; ++i) {
        const auto& g = golden_["images"][sample]["outputs"][kOutputs[i]];
        std::vector<int64_t> shape = g["shape"].get<std::vector<int64_t>>();
        ASSERT_EQ(out[i].sizes().vec(), shape) << kOutputs[i];
        std::vector<float> ref = ReadF32(GoldenDir() / g["file"].get<std::string>());
        ASSERT_EQ(static_cast<int64_t>(ref.size()), out[i].numel());
        const float* got = out[i].data_ptr<float>();
        double max_abs = 0, max_ref = 0;
        for (size_t k = 0; k < ref.size(); ++k) {
          max_abs = std::max(max_abs, static_cast<double>(std::fabs(got[k] - ref[k])));
          max_ref = std::max(max_ref, static_cast<double>(std::fabs(ref[k])));
        }
        // float32 end to end on both sides, different summation orders over ~40 conv layers:
        // within 1e-3 of the output's range.
        std::cout << sample << (channels_last ? " channels_last " : " nchw ") << kOutputs[i]
                  << " max_abs_err=" << max_abs << " (range " << max_ref << ")\n";
        EXPECT_LE(max_abs, 1e-3 * std::max(1.0, max_ref)) << sample << " " << kOutputs[i];
      }
    }
  }
}

// Golden raw outputs of `sample` in forward's order.
std::vector<stratus::runtime::OutputTensor> GoldenOutputs(const nlohmann::json& golden,
                                                          const std::string& sample) {
  std::vector<stratus::runtime::OutputTensor> r;
  for (const char* name : kOutputs) {
    const auto& g = golden["images"][sample]["outputs"][name];
    stratus::runtime::OutputTensor o;
    o.shape = g["shape"].get<std::vector<int64_t>>();
    o.data = ReadF32(GoldenDir() / g["file"].get<std::string>());
    r.push_back(std::move(o));
  }
  return r;
}

class NanodetGoldenDecodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(GoldenDir() / "nanodet.json")) GTEST_SKIP() << "no golden data";
    std::ifstream in(GoldenDir() / "nanodet.json");
    golden_ = nlohmann::json::parse(in);
    const std::string src = Env("STRATUS_SOURCE_DIR", ".");
    config_ = YAML::LoadFile(src + "/tools/import/graph/presets/nanodet.yaml");
  }
  stratus::runtime::InputGeometry Geometry(const std::string& sample) const {
    const auto& img = golden_["images"][sample];
    stratus::runtime::InputGeometry g;
    g.image_width = img["width"].get<int>();
    g.image_height = img["height"].get<int>();
    g.input_width = g.input_height = 416;
    g.scale_x = 416.0 / g.image_width;
    g.scale_y = 416.0 / g.image_height;
    return g;
  }
  nlohmann::json golden_;
  YAML::Node config_;
};

// The runtime's preprocessing, driven by the shipped config, turns the reference's photo (the
// exact decoded pixels, faceapi/sampleN.png) into the reference's input tensor.
TEST_F(NanodetGoldenDecodeTest, RuntimePreprocessingReproducesTheInput) {
  const std::string src = Env("STRATUS_SOURCE_DIR", ".");
  std::ifstream in(src + "/tools/import/graph/presets/nanodet.yaml");
  std::stringstream text;
  text << in.rdbuf();
  auto config = stratus::runtime::ParseModelConfig(text.str(), "nanodet");
  ASSERT_TRUE(config.ok()) << config.status();
  for (const std::string sample : {"sample1", "sample2"}) {
    cv::Mat bgr = cv::imread((GoldenDir().parent_path() / "faceapi" / (sample + ".png")).string(),
                             cv::IMREAD_COLOR);
    ASSERT_FALSE(bgr.empty()) << sample;
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    std::vector<float> x(3 * 416 * 416);
    stratus::runtime::InputGeometry g;
    ASSERT_TRUE(stratus::runtime::PreprocessImage(rgb, config->input,
                                                  stratus::runtime::Layout::kNCHW, x.data(), &g)
                    .ok());
    const std::vector<float> ref = ReadF32(GoldenDir() / (sample + "_input_1x3x416x416.f32"));
    ASSERT_EQ(ref.size(), x.size());
    double max_abs = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      max_abs = std::max(max_abs, static_cast<double>(std::fabs(x[i] - ref[i])));
    }
    std::cout << sample << " preprocessing max_abs_err=" << max_abs << "\n";
    // Measured 1.8e-5 / 2.8e-5 (0.007 grey levels): float rounding differences between the
    // runtime's one-pass resize+normalise and tfjs' resize, then divide.
    EXPECT_LE(max_abs, 1e-4) << sample;
  }
}

// Decoding the reference's raw outputs with human's own post-processing (box_decode: human)
// reproduces the detections the JavaScript reference reported (labels, scores, boxes).
TEST_F(NanodetGoldenDecodeTest, HumanDecodeMatchesReference) {
  const YAML::Node& config = config_;
  stratus::runtime::DecoderContext c;
  c.model_name = "objects";
  c.type = "nanodet";
  c.params = YAML::Load(
      "{type: nanodet, box_decode: human, score_threshold: 0.2, iou_threshold: 0.4, "
      "max_results: 10}");
  c.labels = config["labels"].as<std::vector<std::string>>();
  c.input_width = c.input_height = 416;
  auto decoder = stratus::runtime::CreateDecoder(c);
  ASSERT_TRUE(decoder.ok()) << decoder.status();
  for (const std::string sample : {"sample1", "sample2"}) {
    const auto& img = golden_["images"][sample];
    const stratus::runtime::InputGeometry g = Geometry(sample);
    auto outputs = GoldenOutputs(golden_, sample);
    ASSERT_TRUE((*decoder)->CheckOutputs(outputs, 1).ok());
    auto pred = (*decoder)->Decode(outputs, {g}, {});
    ASSERT_TRUE(pred.ok()) << pred.status();
    const auto& want = img["detections"];
    const auto& got = (*pred)[0].detections;
    for (const auto& d : got) {
      std::cout << sample << " human " << d.label << " " << d.confidence << " box " << d.box.left
                << "," << d.box.top << " " << d.box.width << "x" << d.box.height << "\n";
    }
    ASSERT_EQ(got.size(), want.size()) << sample;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].label, want[i]["label"].get<std::string>()) << sample << " #" << i;
      EXPECT_NEAR(got[i].confidence, want[i]["rawScore"].get<double>(), 1e-3);
      const auto& b = want[i]["boxRaw"];  // x, y, w, h with w, h clamped separately
      EXPECT_NEAR(got[i].box.left, b[0].get<double>(), 1e-4) << sample << " #" << i;
      EXPECT_NEAR(got[i].box.top, b[1].get<double>(), 1e-4) << sample << " #" << i;
      EXPECT_NEAR(got[i].box.width, std::min(b[2].get<double>(), 1 - b[0].get<double>()), 1e-4);
      EXPECT_NEAR(got[i].box.height, std::min(b[3].get<double>(), 1 - b[1].get<double>()), 1e-4);
    }
  }
}

// The model's own (GFL) decoding, with the shipped config, finds the people of the sample
// photos: the centre of every face the face-api reference found lies inside a person box.
TEST_F(NanodetGoldenDecodeTest, GflDecodeFindsThePeople) {
  const YAML::Node& config = config_;
  stratus::runtime::DecoderContext c;
  c.model_name = "objects";
  c.type = "nanodet";
  c.params = config["decoder"];
  c.labels = config["labels"].as<std::vector<std::string>>();
  c.input_width = config["input"]["width"].as<int>();
  c.input_height = config["input"]["height"].as<int>();
  auto decoder = stratus::runtime::CreateDecoder(c);
  ASSERT_TRUE(decoder.ok()) << decoder.status();
  for (const std::string sample : {"sample1", "sample2"}) {
    const stratus::runtime::InputGeometry g = Geometry(sample);
    auto pred = (*decoder)->Decode(GoldenOutputs(golden_, sample), {g}, {});
    ASSERT_TRUE(pred.ok()) << pred.status();
    std::vector<stratus::runtime::Box> people;
    for (const auto& d : (*pred)[0].detections) {
      std::cout << sample << " " << d.label << " " << d.confidence << " box " << d.box.left << ","
                << d.box.top << " " << d.box.width << "x" << d.box.height << "\n";
      if (d.label == "person" && d.confidence >= 0.3) people.push_back(d.box);
    }
    std::ifstream in(GoldenDir().parent_path() / "faceapi" / (sample + ".json"));
    ASSERT_TRUE(in) << "no faceapi golden for " << sample;
    const auto faces = nlohmann::json::parse(in);
    int checked = 0;
    for (const auto& f : faces["ssdMobilenetv1"]) {
      const auto& r = f["detection"]["relativeBox"];
      const double cx = r["x"].get<double>() + r["width"].get<double>() / 2;
      const double cy = r["y"].get<double>() + r["height"].get<double>() / 2;
      bool inside = false;
      for (const auto& p : people) {
        inside =
            inside || (cx > p.left && cx < p.left + p.width && cy > p.top && cy < p.top + p.height);
      }
      EXPECT_TRUE(inside) << sample << ": face at " << cx << "," << cy << " in no person box";
      ++checked;
    }
    EXPECT_GE(checked, 1) << sample;
    EXPECT_GE(people.size(), static_cast<size_t>(checked)) << sample;
  }
}

double IoU(const stratus::runtime::Box& a, const stratus::runtime::Box& b) {
  const double iw = std::max(
      0.0, std::min<double>(a.left + a.width, b.left + b.width) - std::max<double>(a.left, b.left));
  const double ih = std::max(
      0.0, std::min<double>(a.top + a.height, b.top + b.height) - std::max<double>(a.top, b.top));
  const double inter = iw * ih;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

// The whole chain through the runtime (repository load with its freezing and layout choice,
// preprocessing from the photo, forward, decoder) finds what decoding the reference's own
// outputs finds: same labels, boxes within IoU 0.95, confidences within 0.01.
TEST_F(NanodetGoldenTest, RuntimeDetectorMatchesDecodedReference) {
  stratus::runtime::RuntimeOptions ro;
  ro.device = "cpu";
  auto repo =
      stratus::runtime::ModelRepository::Load(ModelDir().parent_path().string(), {"nanodet"}, ro);
  ASSERT_TRUE(repo.ok()) << repo.status();
  auto detector = stratus::runtime::ObjectDetector::Create(**repo, "nanodet");
  ASSERT_TRUE(detector.ok()) << detector.status();
  const std::string src = Env("STRATUS_SOURCE_DIR", ".");
  const YAML::Node config = YAML::LoadFile(src + "/tools/import/graph/presets/nanodet.yaml");
  stratus::runtime::DecoderContext c;
  c.model_name = "objects";
  c.type = "nanodet";
  c.params = config["decoder"];
  c.labels = config["labels"].as<std::vector<std::string>>();
  c.input_width = c.input_height = 416;
  auto decoder = stratus::runtime::CreateDecoder(c);
  ASSERT_TRUE(decoder.ok()) << decoder.status();
  for (const std::string sample : {"sample1", "sample2"}) {
    cv::Mat bgr = cv::imread((GoldenDir().parent_path() / "faceapi" / (sample + ".png")).string(),
                             cv::IMREAD_COLOR);
    ASSERT_FALSE(bgr.empty());
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    auto got = (*detector)->Detect({rgb}, {});
    ASSERT_TRUE(got.ok()) << got.status();
    const auto& img = golden_["images"][sample];
    stratus::runtime::InputGeometry g;
    g.image_width = img["width"].get<int>();
    g.image_height = img["height"].get<int>();
    g.input_width = g.input_height = 416;
    g.scale_x = 416.0 / g.image_width;
    g.scale_y = 416.0 / g.image_height;
    auto want = (*decoder)->Decode(GoldenOutputs(golden_, sample), {g}, {});
    ASSERT_TRUE(want.ok());
    const auto& w = (*want)[0].detections;
    const auto& d = (*got)[0];
    ASSERT_EQ(d.size(), w.size()) << sample;
    for (size_t i = 0; i < d.size(); ++i) {
      EXPECT_EQ(d[i].label, w[i].label) << sample << " #" << i;
      EXPECT_NEAR(d[i].confidence, w[i].confidence, 0.01) << sample << " #" << i;
      EXPECT_GE(IoU(d[i].box, w[i].box), 0.95) << sample << " #" << i;
    }
  }
}

}  // namespace
