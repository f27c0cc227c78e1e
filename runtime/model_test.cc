// Loads tiny TorchScript models built here (torch::jit::Module::define) through the runtime and
// the repository, and checks preprocessing, decoding and the error paths end to end.
#include "runtime/model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "runtime/model_repository.h"
#include "runtime/object_detector.h"

namespace stratus::runtime {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class ModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("stratus_model_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Folder(const std::string& name, const std::string& config) {
    fs::path f = dir_ / name;
    fs::create_directories(f);
    std::ofstream(f / "config.yaml") << config;
    return f;
  }

  // SSD-like: a conv (so layouts and FLOPs matter) and constant boxes/scores per image.
  void SaveSsd(const fs::path& f) {
    torch::jit::Module m("TinySsd");
    m.register_parameter("w", torch::ones({4, 3, 3, 3}), false);
    m.register_buffer("boxes", torch::tensor({0.1f, 0.2f, 0.3f, 0.4f,      //
                                              0.11f, 0.21f, 0.31f, 0.41f,  //
                                              0.5f, 0.5f, 0.9f, 0.9f})
                                   .reshape({3, 4}));
    m.register_buffer("scores", torch::tensor({0.9f, 0.8f, 0.3f}));
    m.define(R"(
def forward(self, x):
    y = torch.conv2d(x, self.w)
    z = y.mean() * 0.0
    b = x.size(0)
    boxes = self.boxes.unsqueeze(0).expand(b, -1, -1) + z
    scores = self.scores.unsqueeze(0).expand(b, -1) + z
    return (boxes, scores)
)");
    m.save((f / "model.pt").string());
  }

  // Classifier whose logits are the per-channel means of the input: checks colour order and
  // normalisation through the whole path.
  void SaveMeans(const fs::path& f, int extra_outputs = 0) {
    torch::jit::Module m("Means");
    m.register_buffer("pad", torch::zeros({1, extra_outputs}));
    m.define(R"(
def forward(self, x):
    m = x.mean([2, 3])
    return torch.cat([m, self.pad.expand(x.size(0), -1)], 1)
)");
    m.save((f / "model.pt").string());
  }

  fs::path dir_;
};

constexpr char kSsdConfig[] = R"(
name: faces
version: "test-1"
task: face_detection
input: {width: 64, height: 64, resize: pad_bottom_right, interpolation: tf_bilinear,
        color: rgb, mean: 127.5, std: 127.5}
decoder: {type: ssd, iou_threshold: 0.5}
labels: [face]
)";

std::string MeansConfig(const std::string& name, const std::string& color,
                        const std::string& labels = "[r, g, b]") {
  return "name: " + name + "\ntask: image_classification\n" +
         "input: {width: 8, height: 8, resize: stretch, color: " + color +
         ", mean: [0, 0, 0], std: [1, 1, 1]}\ndecoder: {type: classifier, activation: none}\n" +
         "labels: " + labels + "\n";
}

TEST_F(ModelTest, SsdThroughTheRuntimeUndoesPadding) {
  const fs::path f = Folder("faces", kSsdConfig);
  SaveSsd(f);
  RuntimeOptions o;
  o.device = "cpu";
  auto model = Model::Load(f.string(), o);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->name(), "faces");
  EXPECT_EQ((*model)->device(), "cpu");
  // 4 output channels x 62x62 positions x 27 multiply-adds x 2.
  EXPECT_DOUBLE_EQ((*model)->flops_per_image(), 2.0 * 4 * 62 * 62 * 27);
  // A 200x100 image: padded to 200x200 at the bottom, so box y fractions double.
  cv::Mat img(100, 200, CV_8UC3, cv::Scalar(10, 20, 30));
  auto p = (*model)->Run({img, img});
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_THAT(*p, SizeIs(2));
  ASSERT_THAT((*p)[1].detections, SizeIs(1));  // NMS removed the overlap, 0.3 < 0.5
  const Detection& d = (*p)[1].detections[0];
  EXPECT_EQ(d.label, "face");
  EXPECT_NEAR(d.confidence, 0.9, 1e-6);
  EXPECT_NEAR(d.box.left, 0.2, 1e-5);
  EXPECT_NEAR(d.box.top, 0.2, 1e-5);
  EXPECT_NEAR(d.box.width, 0.2, 1e-5);
  EXPECT_NEAR(d.box.height, 0.4, 1e-5);
  DecodeOptions low;
  low.min_confidence = 0.2f;
  p = (*model)->Run({img}, low);
  ASSERT_TRUE(p.ok());
  EXPECT_THAT((*p)[0].detections, SizeIs(2));
}

// --precision: fp32 by default; a value it does not know is refused naming it; bf16 is refused
// on a CPU without native bfloat16 and, where the CPU has it, runs the model under autocast
// with float outputs close to FP32's.
TEST_F(ModelTest, PrecisionIsCheckedAndBf16StaysCloseToFp32) {
  const fs::path f = Folder("faces", kSsdConfig);
  SaveSsd(f);
  RuntimeOptions o;
  o.device = "cpu";
  auto fp32 = Model::Load(f.string(), o);
  ASSERT_TRUE(fp32.ok()) << fp32.status();
  EXPECT_EQ((*fp32)->precision(), "fp32");
  o.precision = "fp16";
  auto bad = Model::Load(f.string(), o);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("fp16"));
  o.precision = "bf16";
  auto bf16 = Model::Load(f.string(), o);
  if (!CpuHasNativeBf16()) {
    EXPECT_EQ(bf16.status().code(), absl::StatusCode::kFailedPrecondition);
    return;
  }
  ASSERT_TRUE(bf16.ok()) << bf16.status();
  EXPECT_EQ((*bf16)->precision(), "bf16");
  cv::Mat img(100, 200, CV_8UC3, cv::Scalar(10, 20, 30));
  std::vector<InputGeometry> g;
  auto a = (*fp32)->Forward({img}, &g);
  auto b = (*bf16)->Forward({img}, &g);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  for (size_t k = 0; k < a->size(); ++k) {
    ASSERT_EQ((*a)[k].data.size(), (*b)[k].data.size());
    for (size_t i = 0; i < (*a)[k].data.size(); ++i) {
      EXPECT_NEAR((*a)[k].data[i], (*b)[k].data[i], 0.05 + 0.02 * std::fabs((*a)[k].data[i]));
    }
  }
}

TEST_F(ModelTest, ColourOrderNormalisationAndLayouts) {
  for (const std::string layout : {"nchw", "channels_last", "auto"}) {
    for (const std::string color : {"rgb", "bgr"}) {
      const std::string name = "means_" + color;
      const fs::path f = Folder(name, MeansConfig(name, color));
      SaveMeans(f);
      RuntimeOptions o;
      o.layout = layout;
      auto model = Model::Load(f.string(), o);
      ASSERT_TRUE(model.ok()) << model.status();
      cv::Mat img(5, 7, CV_8UC3, cv::Scalar(10, 20, 30));  // R=10 G=20 B=30 (RGB Mat)
      auto p = (*model)->Run({img});
      ASSERT_TRUE(p.ok()) << p.status();
      const std::vector<float>& v = (*p)[0].probabilities;
      ASSERT_THAT(v, SizeIs(3));
      EXPECT_NEAR(v[0], color == "rgb" ? 10 : 30, 1e-4) << layout;
      EXPECT_NEAR(v[2], color == "rgb" ? 30 : 10, 1e-4) << layout;
    }
  }
}

TEST_F(ModelTest, BatchesAreSplitAndConcurrentCallsAgree) {
  const fs::path f = Folder("means", MeansConfig("means", "rgb"));
  SaveMeans(f);
  RuntimeOptions o;
  o.max_batch_size = 3;
  auto model = Model::Load(f.string(), o);
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<cv::Mat> imgs;
  for (int i = 0; i < 8; ++i) imgs.emplace_back(4, 4, CV_8UC3, cv::Scalar(i, 0, 0));
  auto p = (*model)->Run(imgs);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_THAT(*p, SizeIs(8));
  for (int i = 0; i < 8; ++i) EXPECT_NEAR((*p)[i].probabilities[0], i, 1e-4);

  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      cv::Mat img(4, 4, CV_8UC3, cv::Scalar(t * 10, 0, 0));
      for (int k = 0; k < 20; ++k) {
        auto r = (*model)->Run({img});
        if (!r.ok() || std::fabs((*r)[0].probabilities[0] - t * 10) > 1e-3) ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(ModelTest, BadImagesAreInvalidArgument) {
  const fs::path f = Folder("means", MeansConfig("means", "rgb"));
  SaveMeans(f);
  auto model = Model::Load(f.string(), RuntimeOptions{});
  ASSERT_TRUE(model.ok());
  auto p = (*model)->Run({cv::Mat()});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  p = (*model)->Run({cv::Mat(4, 4, CV_8UC1, cv::Scalar(0))});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("image 0"));
}

TEST_F(ModelTest, LoadErrorsNameTheModelAndTheProblem) {
  // Output shape the decoder does not expect: 4 logits for 3 labels.
  fs::path f = Folder("wide", MeansConfig("wide", "rgb"));
  SaveMeans(f, 1);
  auto m = Model::Load(f.string(), RuntimeOptions{});
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("model 'wide'"));
  EXPECT_THAT(m.status().message(), HasSubstr("[1,4]"));
  // model.pt that is not TorchScript.
  f = Folder("garbage", MeansConfig("garbage", "rgb"));
  std::ofstream(f / "model.pt") << "not a zip";
  m = Model::Load(f.string(), RuntimeOptions{});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(m.status().message(), HasSubstr("model 'garbage': model.pt does not load"));
  // Missing model.pt.
  f = Folder("empty", MeansConfig("empty", "rgb"));
  m = Model::Load(f.string(), RuntimeOptions{});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
  // Unknown decoder.
  f = Folder("odd",
             "name: odd\ntask: face_detection\ninput: {width: 8, height: 8}\n"
             "decoder: {type: frobnicate}\n");
  SaveMeans(f);
  m = Model::Load(f.string(), RuntimeOptions{});
  EXPECT_THAT(m.status().message(), HasSubstr("unknown decoder type 'frobnicate'"));
  // CUDA asked for on a machine without it (or a bad device string).
  f = Folder("means", MeansConfig("means", "rgb"));
  SaveMeans(f);
  RuntimeOptions o;
  o.device = "cuda:7";
  m = Model::Load(f.string(), o);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  o.device = "tpu";
  EXPECT_THAT(Model::Load(f.string(), o).status().message(), HasSubstr("bad device 'tpu'"));
}

TEST_F(ModelTest, RepositoryServesGoodModelsBesideBrokenOnes) {
  SaveSsd(Folder("faces", kSsdConfig));
  std::ofstream(Folder("broken", MeansConfig("broken", "rgb")) / "model.pt") << "junk";
  Folder("noconfig", "");
  fs::remove(dir_ / "noconfig" / "config.yaml");
  std::ofstream(Folder("nomodelconfig", "") / "model.pt") << "weights without a config";
  fs::remove(dir_ / "nomodelconfig" / "config.yaml");
  SaveMeans(Folder("misnamed", MeansConfig("other", "rgb")));
  fs::create_directories(dir_ / ".tmp-import");  // importers' temporaries are skipped
  Folder("words",
         "name: words\ntask: text_classification\ninput: {type: token_ids}\n"
         "decoder: {type: classifier}\nlabels: [a, b]\n");

  auto repo = ModelRepository::Load(dir_.string(), RuntimeOptions{});
  ASSERT_TRUE(repo.ok()) << repo.status();
  const std::vector<ModelInfo> list = (*repo)->List();
  ASSERT_THAT(list, SizeIs(6));
  EXPECT_EQ(list[0].name, "broken");
  EXPECT_EQ(list[0].state, ModelState::kFailed);
  EXPECT_THAT(list[0].error, HasSubstr("model.pt does not load"));
  EXPECT_EQ(list[1].name, "faces");
  EXPECT_EQ(list[1].state, ModelState::kReady);
  EXPECT_EQ(list[1].version, "test-1");
  EXPECT_THAT(list[2].error, HasSubstr("does not match the folder name 'misnamed'"));
  // A folder with neither config.yaml nor model.pt is someone else's data: skipped. A model
  // without its config is a broken import: failed.
  EXPECT_EQ(list[3].name, "noconfig");
  EXPECT_EQ(list[3].state, ModelState::kSkipped);
  EXPECT_THAT(list[3].error, HasSubstr("not a model folder"));
  EXPECT_EQ(list[4].name, "nomodelconfig");
  EXPECT_EQ(list[4].state, ModelState::kFailed);
  EXPECT_THAT(list[4].error, HasSubstr("no config.yaml"));
  EXPECT_EQ(list[5].state, ModelState::kSkipped);
  EXPECT_STREQ(ModelStateName(list[5].state), "SKIPPED");
  EXPECT_FALSE((*repo)->AllReady());

  auto faces = (*repo)->Get("faces");
  ASSERT_TRUE(faces.ok());
  cv::Mat img(64, 64, CV_8UC3, cv::Scalar(0, 0, 0));
  auto p = (*faces)->Run({img});
  ASSERT_TRUE(p.ok());
  EXPECT_THAT((*p)[0].detections, SizeIs(1));
  EXPECT_EQ((*repo)->Get("broken").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*repo)->Get("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ModelRepository::Load((dir_ / "nope").string(), RuntimeOptions{}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ModelTest, ObjectDetectorOnAYoloV8ExportWithLetterbox) {
  // [B, 4+2, N=2]: box 0 (cx 50, cy 50, 20x10) cat 0.1 / dog 0.9; box 1 low scores.
  const fs::path f = Folder("objects", R"(
name: objects
task: object_detection
input: {width: 100, height: 100, resize: letterbox, color: rgb, mean: 0, std: 255}
decoder: {type: yolo, layout: v8}
labels: [cat, dog]
)");
  torch::jit::Module m("TinyYolo");
  m.register_buffer("out", torch::tensor({50.f, 10.f, 50.f, 30.f, 20.f, 4.f, 10.f, 4.f,  //
                                          0.1f, 0.2f, 0.9f, 0.1f})
                               .reshape({1, 6, 2}));
  m.define(R"(
def forward(self, x):
    return self.out.expand(x.size(0), -1, -1) + x.mean() * 0.0
)");
  m.save((f / "model.pt").string());
  auto repo = ModelRepository::Load(dir_.string(), RuntimeOptions{});
  ASSERT_TRUE(repo.ok());
  auto det = ObjectDetector::Create(**repo, "objects");
  ASSERT_TRUE(det.ok()) << det.status();
  // 200x100 letterboxed into 100x100: scale 0.5, 25 px bands above and below.
  cv::Mat img(100, 200, CV_8UC3, cv::Scalar(1, 2, 3));
  auto d = (*det)->Detect({img}, DetectOptions{});
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_THAT((*d)[0], SizeIs(1));
  EXPECT_EQ((*d)[0][0].label, "dog");
  EXPECT_NEAR((*d)[0][0].box.left, 0.4, 1e-5);
  EXPECT_NEAR((*d)[0][0].box.top, 0.4, 1e-5);  // (45 - 25) / 0.5 / 100
  EXPECT_NEAR((*d)[0][0].box.width, 0.2, 1e-5);
  EXPECT_NEAR((*d)[0][0].box.height, 0.2, 1e-5);
  DetectOptions only_cats;
  only_cats.classes = {"cat"};
  d = (*det)->Detect({img}, only_cats);
  ASSERT_TRUE(d.ok());
  EXPECT_THAT((*d)[0], SizeIs(0));
  DetectOptions bad;
  bad.classes = {"zebra"};
  EXPECT_EQ((*det)->Detect({img}, bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = DetectOptions{};
  bad.min_confidence = 1.5f;
  EXPECT_EQ((*det)->Detect({img}, bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*det)->Detect({cv::Mat()}, DetectOptions{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ObjectDetector::Create(**repo, "nope").status().code(), absl::StatusCode::kNotFound);

  // One forward for images with options of their own: each gets what Detect() gives it alone.
  DetectOptions all;
  all.min_confidence = 0.05f;
  all.max_results = 10;
  DetectOptions strict;
  strict.min_confidence = 0.5f;
  strict.max_results = 10;
  auto all_options = (*det)->Resolve(all);
  auto cat_options = (*det)->Resolve(DetectOptions{.min_confidence = 0.05f,
                                                    .classes = {"cat"},
                                                    .max_results = 10});
  auto strict_options = (*det)->Resolve(strict);
  ASSERT_TRUE(all_options.ok() && cat_options.ok() && strict_options.ok());
  double forward_ms = -1;
  auto each = (*det)->DetectEach({img, img, img}, {*all_options, *cat_options, *strict_options},
                                 &forward_ms);
  ASSERT_TRUE(each.ok()) << each.status();
  ASSERT_THAT(*each, SizeIs(3));
  auto alone = (*det)->Detect({img}, all);
  ASSERT_TRUE(alone.ok());
  ASSERT_EQ((*each)[0].size(), (*alone)[0].size());
  EXPECT_GT((*each)[0].size(), 1u);  // the low-scored box too
  for (size_t i = 0; i < (*alone)[0].size(); ++i) {
    EXPECT_EQ((*each)[0][i].label, (*alone)[0][i].label);
    EXPECT_FLOAT_EQ((*each)[0][i].confidence, (*alone)[0][i].confidence);
  }
  for (const Detection& c : (*each)[1]) EXPECT_EQ(c.label, "cat");
  EXPECT_FALSE((*each)[1].empty());
  ASSERT_THAT((*each)[2], SizeIs(1));
  EXPECT_EQ((*each)[2][0].label, "dog");
  EXPECT_GE(forward_ms, 0);
  // Resolve refuses what Detect refuses; DetectEach wants resolved, complete options.
  EXPECT_EQ((*det)->Resolve(DetectOptions{.max_results = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*det)->DetectEach({img}, {DecodeOptions{}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*det)->DetectEach({img, img}, {*all_options}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ModelTest, FoldedSamePaddingComputesTheSame) {
  // TF "SAME" stride-2 convolutions as TF.js importers write them: pad after, then convolve.
  const std::string config =
      "name: same\ntask: face_embedding\n"
      "input: {width: 9, height: 8, mean: 100, std: 50}\n"
      "decoder: {type: embedding}\n";
  const fs::path f = Folder("same", config);
  torch::jit::Module m("SamePad");
  m.register_parameter("w", torch::randn({4, 3, 3, 3}), false);
  m.register_parameter("dw", torch::randn({4, 1, 3, 3}), false);
  m.register_parameter("b", torch::randn({4}), false);
  m.define(R"(
def forward(self, x):
    p = torch.constant_pad_nd(x, [0, 1, 0, 0], 0.)
    y = torch.conv2d(p, self.w, self.b, [2, 2], [0, 0], [1, 1], 1)
    q = torch.constant_pad_nd(y, [0, 1, 0, 1], 0.)
    z = torch.conv2d(q, self.dw, None, [2, 2], [0, 0], [1, 1], 4)
    return z.reshape(x.size(0), -1)
)");
  m.save((f / "model.pt").string());
  cv::Mat img(8, 9, CV_8UC3);
  cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
  std::vector<std::vector<float>> results;
  for (bool fold : {false, true}) {
    RuntimeOptions o;
    o.fold_padding = fold;
    o.layout = "nchw";
    auto model = Model::Load(f.string(), o);
    ASSERT_TRUE(model.ok()) << model.status();
    auto out = (*model)->Forward({img}, nullptr);
    ASSERT_TRUE(out.ok()) << out.status();
    results.push_back((*out)[0].data);
    auto profile = (*model)->ProfileOps(1, 1);
    ASSERT_TRUE(profile.ok());
    EXPECT_EQ(profile->find("constant_pad_nd") == std::string::npos, fold) << *profile;
  }
  ASSERT_EQ(results[0].size(), results[1].size());
  for (size_t i = 0; i < results[0].size(); ++i) {
    EXPECT_NEAR(results[0][i], results[1][i], 1e-4) << i;
  }
}

}  // namespace
}  // namespace stratus::runtime
