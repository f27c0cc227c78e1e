#include "training/job.h"

#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stratus::training {
namespace {

using ::testing::HasSubstr;

constexpr char kJob[] = R"(name: tiny
task: text_classifier
labels: [POSITIVE, NEGATIVE]
data:
  root: data
  train:
    - path: train.tsv
      header: true
      labels: {"1": POSITIVE, "0": NEGATIVE}
  validation_split: 0.2
model:
  architecture: ngram_bag
  embedding_dim: 16
optimiser:
  type: adamw
  lr: 0.01
epochs: 2
batch_size: 8
checkpoint:
  dir: ${TINY_CKPT:-ckpt}
output:
  dir: /models/tiny
)";

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(JobTest, ParsesAndResolvesPaths) {
  unsetenv("TINY_CKPT");
  auto job = ParseJob(kJob, "/jobs/tiny.yaml");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->name, "tiny");
  EXPECT_EQ(job->task, Task::kTextClassifier);
  ASSERT_EQ(job->train.size(), 1u);
  EXPECT_EQ(job->train[0].path, "/jobs/data/train.tsv");
  EXPECT_TRUE(job->train[0].header);
  EXPECT_EQ(job->train[0].labels.at("1"), "POSITIVE");
  EXPECT_EQ(job->checkpoint.dir, "/jobs/ckpt");
  EXPECT_EQ(job->output_dir, "/models/tiny");
  EXPECT_DOUBLE_EQ(job->optimiser.lr, 0.01);
  EXPECT_EQ(job->seed, 1u);
  EXPECT_DOUBLE_EQ(job->validation_split, 0.2);
}

TEST(JobTest, EnvironmentMovesAJobWithoutEditingIt) {
  setenv("TINY_CKPT", "/spot/ckpt", 1);
  auto job = ParseJob(kJob, "/jobs/tiny.yaml");
  unsetenv("TINY_CKPT");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->checkpoint.dir, "/spot/ckpt");
}

TEST(JobTest, UnknownKeyGivesLineAndReason) {
  auto job = ParseJob(Replace(kJob, "  lr: 0.01", "  lr: 0.01\n  learning_rate: 3"), "j.yaml");
  ASSERT_FALSE(job.ok());
  EXPECT_THAT(std::string(job.status().message()),
              HasSubstr("j.yaml:17:3: optimiser.learning_rate: unknown key"));
  auto top = ParseJob(std::string(kJob) + "epochz: 3\n", "j.yaml");
  ASSERT_FALSE(top.ok());
  EXPECT_THAT(std::string(top.status().message()), HasSubstr("j.yaml:23:1: epochz: unknown key"));
}

TEST(JobTest, BadValuesGiveLineAndReason) {
  auto lr = ParseJob(Replace(kJob, "lr: 0.01", "lr: -1"), "j.yaml");
  ASSERT_FALSE(lr.ok());
  EXPECT_THAT(std::string(lr.status().message()),
              HasSubstr("j.yaml:16:7: optimiser.lr: must be in [1e-09, 10], got -1"));
  auto type = ParseJob(Replace(kJob, "type: adamw", "type: adamax"), "j.yaml");
  ASSERT_FALSE(type.ok());
  EXPECT_THAT(std::string(type.status().message()),
              HasSubstr("j.yaml:15:9: optimiser.type: 'adamax' is not one of adam, adamw, sgd"));
  auto epochs = ParseJob(Replace(kJob, "epochs: 2", "epochs: two"), "j.yaml");
  ASSERT_FALSE(epochs.ok());
  EXPECT_THAT(std::string(epochs.status().message()),
              HasSubstr("j.yaml:17:9: epochs: 'two' is not an integer"));
  auto label = ParseJob(Replace(kJob, "\"0\": NEGATIVE", "\"0\": NEGATIV"), "j.yaml");
  ASSERT_FALSE(label.ok());
  EXPECT_THAT(std::string(label.status().message()),
              HasSubstr("data.train[0].labels.0: 'NEGATIV' is not one of the job's labels"));
  auto missing = ParseJob(Replace(kJob, "epochs: 2\n", ""), "j.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("epochs: required"));
  auto syntax = ParseJob("name: [unclosed\n", "j.yaml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_THAT(std::string(syntax.status().message()), HasSubstr("j.yaml:"));
}

TEST(JobTest, ImageKeysAreRefusedForTextJobs) {
  auto job = ParseJob(Replace(kJob, "embedding_dim: 16", "input_size: 96"), "j.yaml");
  ASSERT_FALSE(job.ok());
  EXPECT_THAT(std::string(job.status().message()), HasSubstr("model.input_size: unknown key"));
}

TEST(JobTest, OverridesAreAppliedThenValidated) {
  auto job = ParseJob(kJob, "/jobs/tiny.yaml", {"output.dir=/elsewhere", "epochs=5"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->output_dir, "/elsewhere");
  EXPECT_EQ(job->epochs, 5);
  auto bad = ParseJob(kJob, "/jobs/tiny.yaml", {"batch_size=0"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("batch_size: must be in [1, 65536]"));
  // The job's identity hash changes with overrides (it keys model stamps).
  EXPECT_NE(ParseJob(kJob, "a.yaml")->content_hash,
            ParseJob(kJob, "a.yaml", {"epochs=5"})->content_hash);
}

}  // namespace
TEST(JobTest, OverridesOnADocumentThatIsNotAMappingAreErrors) {
  for (const char* text : {"just a scalar", "- a\n- b\n", ""}) {
    auto job = ParseJob(text, "j.yaml", {"epochs=3"});
    ASSERT_FALSE(job.ok()) << text;
    EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

}  // namespace stratus::training
