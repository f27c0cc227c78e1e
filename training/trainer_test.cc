// End-to-end tests of the trainer on a small synthetic text task: a short run must learn it,
// and a run killed with SIGKILL mid-epoch and resumed must end exactly where an uninterrupted
// run with the same seed ends.
#include "training/trainer.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "training/job.h"
#include "runtime/text/encoder.h"

extern char** environ;

namespace stratus::training {
namespace {

namespace fs = std::filesystem;

// Sentences from a tiny grammar; the label follows the sentiment word, flipped by "not".
void WriteSyntheticData(const std::string& path, int n, uint64_t seed) {
  const std::vector<std::string> good = {"great", "lovely", "superb", "fun", "brilliant"};
  const std::vector<std::string> bad = {"awful", "boring", "dull", "terrible", "bland"};
  const std::vector<std::string> noun = {"film", "phone", "meal", "show", "book", "hotel"};
  const std::vector<std::string> filler = {"really", "the", "honestly", "so", "quite", "this"};
  std::mt19937_64 rng(seed);
  std::ofstream out(path);
  out << "sentence\tlabel\n";
  for (int i = 0; i < n; ++i) {
    const bool positive = rng() % 2 == 0;
    const bool negated = rng() % 4 == 0;
    const auto& words = (positive != negated) ? good : bad;
    out << filler[rng() % filler.size()] << " " << noun[rng() % noun.size()] << " was "
        << (negated ? "not " : "") << words[rng() % words.size()] << " "
        << filler[rng() % filler.size()] << "\t" << (positive ? 1 : 0) << "\n";
  }
}

std::string JobYaml(const std::string& dir, int epochs, int threads) {
  std::ostringstream s;
  s << "name: tiny\n"
    << "task: text_classifier\n"
    << "labels: [POSITIVE, NEGATIVE]\n"
    << "data:\n"
    << "  train:\n"
    << "    - path: " << dir << "/train.tsv\n"
    << "      header: true\n"
    << "      labels: {\"1\": POSITIVE, \"0\": NEGATIVE}\n"
    << "  validation_split: 0.2\n"
    << "model: {architecture: ngram_bag, embedding_dim: 16, hidden: 16, bigram_buckets: 1000,"
    << " min_count: 1}\n"
    << "augmentation: {token_dropout: 0.1}\n"
    << "optimiser: {type: adamw, lr: 0.02, weight_decay: 0.0001}\n"
    << "schedule: {type: cosine, warmup_steps: 10}\n"
    << "epochs: " << epochs << "\n"
    << "batch_size: 16\n"
    << "seed: 7\n"
    << "threads: " << threads << "\n"
    << "checkpoint: {dir: ckpt, every_steps: 3, every_seconds: 0}\n"
    << "output: {dir: model}\n";
  return s.str();
}

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("stratus_trainer_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    WriteSyntheticData(dir_ + "/train.tsv", 1500, 42);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string WriteJob(const std::string& name, int epochs, int threads) {
    fs::create_directories(dir_ + "/" + name);
    const std::string path = dir_ + "/" + name + "/job.yaml";
    std::ofstream(path) << JobYaml(dir_, epochs, threads);
    return path;
  }

  static nlohmann::json Report(const std::string& job_path) {
    std::ifstream in(fs::path(job_path).parent_path() / "model" / "report.json");
    return nlohmann::json::parse(in);
  }

  static std::string Binary() {
    const char* bin = std::getenv("STRATUS_BINARY_DIR");
    return std::string(bin ? bin : "build") + "/bin/stratus-train";
  }

  // Starts stratus-train on `job`; returns the child's pid.
  static pid_t Spawn(const std::string& job, int step_delay_ms) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string(*e).rfind("STRATUS_TRAIN_STEP_DELAY_MS=", 0) != 0) env_strings.push_back(*e);
    }
    env_strings.push_back("STRATUS_TRAIN_STEP_DELAY_MS=" + std::to_string(step_delay_ms));
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string bin = Binary();
    std::string job_arg = job;
    std::string quiet = "--no-progress";
    char* argv[] = {bin.data(), job_arg.data(), quiet.data(), nullptr};
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, bin.c_str(), nullptr, nullptr, argv, envp.data()), 0) << bin;
    return pid;
  }

  static int Wait(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
  }

  std::string dir_;
};

TEST_F(TrainerTest, TinyRunLearnsTheTaskAndWritesTheModelFolder) {
  auto job = LoadJob(WriteJob("tiny", 3, 2));
  ASSERT_TRUE(job.ok()) << job.status();
  auto result = RunTraining(*job, TrainerOptions{});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->preempted);
  // The grammar is learnable from 1,200 sentences in 3 epochs: 95% at least on held-out 20%.
  EXPECT_GE(result->val_accuracy, 0.95);
  EXPECT_GT(result->samples_per_second, 0);
  for (const char* f :
       {"model.pt", "config.yaml", "vocab.txt", "report.json", "training_curves.png"}) {
    EXPECT_TRUE(fs::exists(fs::path(result->output_dir) / f)) << f;
  }
  const auto report = Report(job->file);
  EXPECT_EQ(report["epochs"].size(), 3u);
  EXPECT_EQ(report["validation"]["confusion"].size(), 2u);
  EXPECT_GT(report["validation"]["per_class"]["NEGATIVE"]["recall"].get<double>(), 0.9);
  std::ifstream config(fs::path(result->output_dir) / "config.yaml");
  std::stringstream cs;
  cs << config.rdbuf();
  EXPECT_NE(cs.str().find("task: text_classification"), std::string::npos);
  EXPECT_NE(cs.str().find("labels: [POSITIVE, NEGATIVE]"), std::string::npos);
  // The serving side reads the same folder with the torch-free encoder.
  auto encoder = text::TextEncoder::Load(result->output_dir);
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  EXPECT_GT((*encoder)->options().vocab.size(), 10u);
  EXPECT_EQ((*encoder)->options().bigram_buckets, 1000);
  const auto encoded = (*encoder)->Encode("the film was great");
  EXPECT_EQ(encoded.ids.size(), encoded.clauses.size());
  EXPECT_GT(encoded.ids[0], 1);  // "the" is in the vocabulary

  // Running the finished job again re-exports from the final checkpoint without training.
  auto again = RunTraining(*job, TrainerOptions{});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_DOUBLE_EQ(again->val_accuracy, result->val_accuracy);
}

TEST_F(TrainerTest, KilledMidEpochAndResumedEqualsUninterrupted) {
  ASSERT_TRUE(fs::exists(Binary())) << Binary();
  // Reference: one uninterrupted run.
  const std::string ref_job = WriteJob("reference", 3, 1);
  ASSERT_EQ(Wait(Spawn(ref_job, 0)), 0);
  const auto ref = Report(ref_job);
  ASSERT_EQ(ref["resumes"].get<int>(), 0);

  // The same job, slowed down so that it can be killed mid-epoch once checkpoints exist.
  const std::string job = WriteJob("killed", 3, 1);
  const fs::path ckpt = fs::path(job).parent_path() / "ckpt" / "checkpoint.pt";
  const pid_t pid = Spawn(job, 15);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(ckpt) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(fs::exists(ckpt));
  // Past the first checkpoint (step 3 of 75 in epoch 1), well before the end of epoch 1.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_EQ(Wait(pid), 128 + SIGKILL);
  ASSERT_FALSE(fs::exists(fs::path(job).parent_path() / "model" / "report.json"));

  // Resume to the end.
  ASSERT_EQ(Wait(Spawn(job, 0)), 0);
  const auto resumed = Report(job);
  ASSERT_EQ(resumed["resumes"].get<int>(), 1);
  const auto& at = resumed["resumed_at"][0];
  EXPECT_GT(at["step"].get<int>(), 0) << "the kill should land mid-epoch";
  EXPECT_EQ(resumed["epochs"].size(), ref["epochs"].size());
  // Same seed, same data order, same state: the same final metrics (the tolerance only
  // absorbs printing; single-threaded runs are bit-identical here).
  EXPECT_NEAR(resumed["validation"]["accuracy"].get<double>(),
              ref["validation"]["accuracy"].get<double>(), 1e-9);
  EXPECT_NEAR(resumed["validation"]["loss"].get<double>(), ref["validation"]["loss"].get<double>(),
              1e-6);
  for (size_t e = 0; e < ref["epochs"].size(); ++e) {
    EXPECT_NEAR(resumed["epochs"][e]["train"]["loss"].get<double>(),
                ref["epochs"][e]["train"]["loss"].get<double>(), 1e-6)
        << "epoch " << e + 1;
  }
}

TEST_F(TrainerTest, SigtermCheckpointsAndExitsForResume) {
  const std::string job = WriteJob("term", 3, 1);
  const fs::path ckpt = fs::path(job).parent_path() / "ckpt" / "checkpoint.pt";
  const pid_t pid = Spawn(job, 15);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(ckpt) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(Wait(pid), 143);
  // Within the grace period (by far: one step).
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  ASSERT_EQ(Wait(Spawn(job, 0)), 0);
  EXPECT_EQ(Report(job)["resumes"].get<int>(), 1);
}

TEST_F(TrainerTest, ImageClassifierLearnsShapes) {
  // Two classes of 48x48 photos-to-be: a filled disc or a filled square, random colours,
  // positions and sizes on a noisy background.
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> u(0, 255);
  for (const char* cls : {"disc", "square"}) {
    fs::create_directories(dir_ + "/images/" + cls);
    for (int i = 0; i < 150; ++i) {
      cv::Mat img(48, 48, CV_8UC3);
      cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(90));
      const cv::Scalar colour(100 + u(rng) % 156, 100 + u(rng) % 156, 100 + u(rng) % 156);
      const int r = 10 + u(rng) % 8;
      const cv::Point c(r + u(rng) % (48 - 2 * r), r + u(rng) % (48 - 2 * r));
      if (std::string(cls) == "disc") {
        cv::circle(img, c, r, colour, -1);
      } else {
        cv::rectangle(img, {c.x - r, c.y - r}, {c.x + r, c.y + r}, colour, -1);
      }
      cv::imwrite(dir_ + "/images/" + cls + "/" + std::to_string(i) + ".png", img);
    }
  }
  std::ostringstream y;
  y << "name: shapes\ntask: image_classifier\nlabels: [disc, square]\n"
    << "data:\n  train:\n    - {path: " << dir_ << "/images, format: folders}\n"
    << "  validation_split: 0.25\n"
    << "model: {architecture: convnet, width: 8, input_size: 32, dropout: 0.0}\n"
    << "augmentation: {flip: true, crop_scale_min: 0.9, brightness: 0.1}\n"
    << "optimiser: {type: adam, lr: 0.01}\nschedule: {type: cosine, warmup_steps: 5}\n"
    << "epochs: 12\nbatch_size: 16\nseed: 3\nthreads: 1\n"
    << "checkpoint: {dir: " << dir_ << "/shapes-ckpt}\noutput: {dir: " << dir_ << "/shapes}\n";
  const std::string path = dir_ + "/shapes.yaml";
  std::ofstream(path) << y.str();
  auto job = LoadJob(path);
  ASSERT_TRUE(job.ok()) << job.status();
  auto result = RunTraining(*job, TrainerOptions{});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GE(result->val_accuracy, 0.85);
  std::ifstream config(dir_ + "/shapes/config.yaml");
  std::stringstream cs;
  cs << config.rdbuf();
  EXPECT_NE(cs.str().find("task: image_classification"), std::string::npos);
  EXPECT_NE(cs.str().find("width: 32"), std::string::npos);
}

}  // namespace
}  // namespace stratus::training
