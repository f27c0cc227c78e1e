// The trainer's image model folder is one the model runtime loads and runs (runtime/MODELS.md):
// train a tiny classifier, then Model::Load it and classify.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <sstream>

#include "gtest/gtest.h"
#include "runtime/model.h"
#include "training/job.h"
#include "training/trainer.h"

namespace stratus::training {
namespace {

namespace fs = std::filesystem;

cv::Mat Shape(bool disc, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> u(0, 255);
  cv::Mat img(48, 48, CV_8UC3);
  cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(90));
  const cv::Scalar colour(100 + u(rng) % 156, 100 + u(rng) % 156, 100 + u(rng) % 156);
  const int r = 10 + u(rng) % 8;
  const cv::Point c(r + u(rng) % (48 - 2 * r), r + u(rng) % (48 - 2 * r));
  if (disc) {
    cv::circle(img, c, r, colour, -1);
  } else {
    cv::rectangle(img, {c.x - r, c.y - r}, {c.x + r, c.y + r}, colour, -1);
  }
  return img;
}

TEST(TrainerRuntimeTest, TrainedImageModelLoadsAndRunsInTheRuntime) {
  const std::string dir =
      fs::temp_directory_path() / ("stratus_trainer_rt_" + std::to_string(getpid()));
  fs::remove_all(dir);
  std::mt19937_64 rng(5);
  for (const char* cls : {"disc", "square"}) {
    fs::create_directories(dir + "/images/" + cls);
    for (int i = 0; i < 150; ++i) {
      cv::imwrite(dir + "/images/" + cls + "/" + std::to_string(i) + ".png",
                  Shape(std::string(cls) == "disc", rng));
    }
  }
  std::ostringstream y;
  y << "name: shapes\ntask: image_classifier\nlabels: [disc, square]\n"
    << "data:\n  train:\n    - {path: " << dir << "/images, format: folders}\n"
    << "  validation_split: 0.25\n"
    << "model: {architecture: convnet, width: 8, input_size: 32, dropout: 0.0}\n"
    << "augmentation: {flip: true, crop_scale_min: 0.9}\n"
    << "optimiser: {type: adam, lr: 0.01}\nschedule: {type: cosine, warmup_steps: 5}\n"
    << "epochs: 15\nbatch_size: 16\nseed: 3\nthreads: 1\n"
    << "checkpoint: {dir: " << dir << "/ckpt}\noutput: {dir: " << dir << "/shapes}\n";
  std::ofstream(dir + "/shapes.yaml") << y.str();
  auto job = LoadJob(dir + "/shapes.yaml");
  ASSERT_TRUE(job.ok()) << job.status();
  auto trained = RunTraining(*job, TrainerOptions{});
  ASSERT_TRUE(trained.ok()) << trained.status();

  auto model = runtime::Model::Load(dir + "/shapes", runtime::RuntimeOptions{});
  ASSERT_TRUE(model.ok()) << model.status();
  // Fresh shapes, RGB as the runtime expects.
  std::vector<cv::Mat> images;
  std::vector<int> truth;
  for (int i = 0; i < 40; ++i) {
    cv::Mat rgb;
    cv::cvtColor(Shape(i % 2 == 0, rng), rgb, cv::COLOR_BGR2RGB);
    images.push_back(rgb);
    truth.push_back(i % 2 == 0 ? 0 : 1);
  }
  auto predictions = (*model)->Run(images);
  ASSERT_TRUE(predictions.ok()) << predictions.status();
  int correct = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    const auto& p = (*predictions)[i].probabilities;
    ASSERT_EQ(p.size(), 2u);
    EXPECT_NEAR(p[0] + p[1], 1.0f, 1e-4);
    correct += (p[0] > p[1] ? 0 : 1) == truth[i];
  }
  // The runtime's preprocessing (stretch, mean/std from config.yaml) matches training's.
  EXPECT_GE(correct, 32) << "of 40";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace stratus::training
