// The sentiment featuriser, trainer and model folder on small made-up data (the lexicons come
// from the shared data folder).
#include "training/sentiment_trainer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/paths.h"
#include "runtime/text/sentiment_linear.h"

namespace stratus::training {
namespace {

namespace fs = std::filesystem;
using text::kNegative;
using text::kNeutral;
using text::kPositive;

std::string LexiconDir() { return (SharedDataDir() / "sentiment" / "lexicons").string(); }

std::unique_ptr<text::SentimentFeaturizer> Featurizer() {
  auto f = text::SentimentFeaturizer::Create({.buckets_log2 = 16}, LexiconDir());
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? std::move(*f) : nullptr;
}

TEST(SentimentFeaturizerTest, NegationClausesAndLexiconScores) {
  auto f = Featurizer();
  ASSERT_NE(f, nullptr);
  const auto good = f->Featurize("good", false).whole;
  const auto not_good = f->Featurize("not good", false).whole;
  // "good" after a negator is another feature (and its character n-grams another namespace).
  for (uint32_t id : good.ids) {
    EXPECT_EQ(std::count(not_good.ids.begin(), not_good.ids.end(), id), 0) << id;
  }
  EXPECT_GT(good.dense[0], 0.3f);       // VADER compound
  EXPECT_LT(not_good.dense[0], 0.0f);   // VADER's negation
  EXPECT_GT(good.dense[14], 0.0f);      // positive lexicon valence
  EXPECT_GT(not_good.dense[15], 0.0f);  // negated: negative valence
  // Clauses: a contrastive conjunction starts one.
  const auto two = f->Featurize("I love the screen but the battery is awful", true);
  ASSERT_EQ(two.clauses.size(), 2u);
  EXPECT_GT(two.clauses[0].dense[0], 0.3f);
  EXPECT_LT(two.clauses[1].dense[0], -0.3f);
  EXPECT_TRUE(f->Featurize("one clause only", true).clauses.empty());
  // Emoji and emoticons count as lexicon evidence.
  EXPECT_GT(f->Featurize("see you 😍", false).whole.dense[16], 0.0f);
  EXPECT_GT(f->Featurize("see you :(", false).whole.dense[15], 0.0f);
}

SentimentSource MadeUp() {
  SentimentSource s{"made-up", true, {}, {}};
  const std::vector<std::string> things = {"phone", "flight", "movie", "pizza", "hotel",
                                           "crew",  "update", "seat",  "show",  "app"};
  for (const std::string& t : things) {
    s.items.push_back({"the " + t + " was wonderful, thanks", kPositive});
    s.items.push_back({"loved the " + t + " :)", kPositive});
    s.items.push_back({"the " + t + " was terrible, never again", kNegative});
    s.items.push_back({"worst " + t + " ever :(", kNegative});
    s.items.push_back({"the " + t + " leaves at 5pm from gate 12", kNeutral});
    s.items.push_back({"is the " + t + " on thursday?", kNeutral});
  }
  return s;
}

TEST(SentimentTrainerTest, LearnsMadeUpDataAndRoundTripsThroughItsFolder) {
  SentimentTrainOptions o;
  o.features.buckets_log2 = 16;
  o.lexicon_dir = LexiconDir();
  o.l2_grid = {1e-3, 1e-2};
  o.epochs_grid = {3, 6};
  o.validation_fraction = 0.2;
  o.threads = 1;
  SentimentTrainReport report;
  auto model = TrainSentiment({MadeUp()}, o, &report);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(report.candidates.size(), 4u);
  EXPECT_EQ(report.train_examples, 60);
  auto top = [](const text::SentimentProbs& p) {
    return static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
  };
  // Things it never saw, with the same patterns.
  EXPECT_EQ(top((*model)->Predict("the taxi was wonderful")), kPositive);
  EXPECT_EQ(top((*model)->Predict("worst taxi ever")), kNegative);
  EXPECT_EQ(top((*model)->Predict("the taxi leaves at 6pm")), kNeutral);
  const text::SentimentProbs mixed =
      (*model)->Predict("the taxi was wonderful but the hotel was terrible");
  const text::SentimentProbs single = (*model)->Predict("the taxi was wonderful");
  EXPECT_GT(mixed[3], 0.1f);
  EXPECT_EQ(single[3], 0.0f);
  for (const auto& p : {mixed, single}) EXPECT_NEAR(p[0] + p[1] + p[2] + p[3], 1.0f, 1e-5f);

  const fs::path dir = fs::temp_directory_path() / absl::StrCat("stratus-sentiment-", getpid());
  ASSERT_TRUE((*model)->Save(dir.string(), "test", "test-1").ok());
  auto loaded = text::LinearSentimentModel::Load(dir.string());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  for (const char* t : {"loved it :)", "the taxi was wonderful but the hotel was terrible", ""}) {
    const auto a = (*model)->Predict(t);
    const auto b = (*loaded)->Predict(t);
    for (int k = 0; k < 4; ++k) EXPECT_EQ(a[k], b[k]) << t;
  }
  // A truncated weights file is refused.
  fs::resize_file(dir / "weights.bin", 100);
  EXPECT_EQ(text::LinearSentimentModel::Load(dir.string()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  fs::remove_all(dir);
  EXPECT_EQ(text::LinearSentimentModel::Load(dir.string()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(SentimentTrainerTest, SourceSpecificWeightsAndCalibrationKeepWhatSourcesShare) {
  // Two sources with the same patterns but opposite class mixes, and a word ("gate") that is
  // NEUTRAL in one and NEGATIVE in the other.
  SentimentSource a = MadeUp(), b{"other", true, {}, {}};
  a.name = "a";
  for (const std::string t : {"bus", "train", "ferry", "tram"}) {
    for (int i = 0; i < 3; ++i)
      b.items.push_back({"the " + t + " was terrible, never again", kNegative});
    b.items.push_back({"the " + t + " was wonderful, thanks", kPositive});
    b.items.push_back({"the " + t + " leaves at 5pm", kNeutral});
    b.items.push_back({"stuck at the gate of the " + t, kNegative});
  }
  SentimentTrainOptions o;
  o.features.buckets_log2 = 16;
  o.lexicon_dir = LexiconDir();
  o.l2_grid = {1e-3};
  o.epochs_grid = {3, 6};
  o.validation_fraction = 0.2;
  o.threads = 1;
  o.balance_classes = false;
  o.source_specific = true;
  o.calibrate = true;
  SentimentTrainReport report;
  auto model = TrainSentiment({a, b}, o, &report);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(report.candidates.size(), 2u);
  for (double off : {report.positive_offset, report.neutral_offset}) {
    EXPECT_GE(off, -1.0);
    EXPECT_LE(off, 1.0);
  }
  auto top = [](const text::SentimentProbs& p) {
    return static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
  };
  EXPECT_EQ(top((*model)->Predict("the taxi was wonderful")), kPositive);
  EXPECT_EQ(top((*model)->Predict("the taxi was terrible, never again")), kNegative);
  EXPECT_EQ(top((*model)->Predict("the taxi leaves at 6pm")), kNeutral);
}

TEST(SentimentTrainerTest, SourcesAndScores) {
  const std::string dir = (SharedDataDir() / "sentiment").string();
  auto airline = ReadSentimentSource(dir, "tweets_airline");
  ASSERT_TRUE(airline.ok()) << airline.status();
  EXPECT_TRUE(airline->three_class);
  EXPECT_EQ(airline->items.size(), 14640u);
  auto sst = ReadSentimentSource(dir, "sst2");
  ASSERT_TRUE(sst.ok()) << sst.status();
  EXPECT_FALSE(sst->three_class);
  EXPECT_EQ(sst->validation.size(), 872u);
  auto sst5 = ReadSentimentSource(dir, "sst5");
  ASSERT_TRUE(sst5.ok()) << sst5.status();
  EXPECT_TRUE(sst5->three_class);
  EXPECT_EQ(sst5->items.size(), 8544u + 2210u);
  EXPECT_EQ(sst5->validation.size(), 1101u);
  EXPECT_EQ(ReadSentimentSource(dir, "nope").status().code(), absl::StatusCode::kInvalidArgument);

  SentimentScore s;
  s.Add(kPositive, kPositive);
  s.Add(kNegative, kPositive);
  s.Add(kNegative, -1);  // a tie counts half
  EXPECT_DOUBLE_EQ(s.Accuracy(), 0.5);
  EXPECT_DOUBLE_EQ(s.Recall(kNegative), 0.25);
}

}  // namespace
}  // namespace stratus::training
