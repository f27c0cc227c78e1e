// The trained model ($STRATUS_MODEL_DIR/sentiment, `make models`) behind the service: load
// errors, sensible classes on clear texts, MIXED from contrasting clauses, batch invariance,
// concurrent use, and the core on top of it. Without the model the tests that need it are
// skipped, or fail with STRATUS_REQUIRE_MODELS=1.
#include "services/sentiment/sentiment_model.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/paths.h"
#include "services/sentiment/sentiment.h"
#include "runtime/text/lexicon.h"
#include "runtime/text/sentiment_linear.h"

namespace stratus::sentiment {
namespace {

namespace fs = std::filesystem;

std::string ModelDir() {
  if (const char* d = std::getenv("STRATUS_MODEL_DIR"); d && *d)
    return std::string(d) + "/sentiment";
  if (const char* c = std::getenv("STRATUS_CACHE"); c && *c)
    return std::string(c) + "/models/sentiment";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.cache/stratus/models/sentiment";
}

// Measured with the shipped model on these subsets (SENTIMENT.md), less a margin.
constexpr double kAirlineFloor = 0.65;
constexpr double kSemevalFloor = 0.55;
constexpr double kRtFloor = 0.65;

bool RequireModels() {
  const char* v = std::getenv("STRATUS_REQUIRE_MODELS");
  return v != nullptr && std::string(v) == "1";
}

class SentimentModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = SentimentModel::Load({.model_dir = ModelDir()});
    if (m.ok()) {
      model_ = std::move(*m).release();
    } else {
      load_error_ = new std::string(m.status().ToString());
    }
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  static SentimentModel* model_;
  static std::string* load_error_;
};
SentimentModel* SentimentModelTest::model_ = nullptr;
std::string* SentimentModelTest::load_error_ = nullptr;

#define REQUIRE_MODEL()                                                           \
  do {                                                                            \
    if (model_ == nullptr) {                                                      \
      if (RequireModels()) FAIL() << "sentiment model missing: " << *load_error_; \
      GTEST_SKIP() << "sentiment model missing (make models): " << *load_error_;  \
    }                                                                             \
  } while (0)

SentimentScores One(const SentimentModel& m, const std::string& text) {
  std::string_view v = text;
  auto r = m.Classify({&v, 1});
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() && !r->empty() ? r->front() : SentimentScores{};
}

float Sum(const SentimentScores& s) { return s.positive + s.negative + s.neutral + s.mixed; }

TEST(SentimentModelLoadTest, MissingFolderIsNotFound) {
  auto m = SentimentModel::Load({.model_dir = "/nonexistent/sentiment"});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(m.status().message().find("/nonexistent/sentiment"), std::string::npos);
}

TEST(SentimentModelLoadTest, ConfigsItCannotServeAreRefused) {
  const fs::path dir = fs::temp_directory_path() / absl::StrCat("stratus-sentiment-cfg-", getpid());
  fs::create_directories(dir);
  std::ofstream(dir / "config.yaml") << "task: text_classification\n"
                                        "labels: [POSITIVE, NEGATIVE, ANGRY]\n";
  auto m = SentimentModel::Load({.model_dir = dir.string()});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << m.status();
  std::ofstream(dir / "config.yaml") << "task: detection\nlabels: [POSITIVE, NEGATIVE, NEUTRAL]\n";
  m = SentimentModel::Load({.model_dir = dir.string()});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << m.status();
  // A model of another kind (the token-id networks of the LibTorch trainer).
  std::ofstream(dir / "config.yaml")
      << "task: text_classification\ninput: {type: token_ids, tokenizer: stratus_social_v1, "
         "vocab: vocab.txt, bigram_buckets: 0}\nlabels: [POSITIVE, NEGATIVE, NEUTRAL, MIXED]\n";
  m = SentimentModel::Load({.model_dir = dir.string()});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << m.status();
  // A valid config with a broken weights file and no lexicons.
  std::ofstream(dir / "config.yaml")
      << "task: text_classification\ninput: {type: stratus_linear_v1, buckets_log2: 10, "
         "dense_features: "
      << text::kDenseFeatures
      << ", lexicons: lexicons}\nweights: weights.bin\n"
         "labels: [POSITIVE, NEGATIVE, NEUTRAL, MIXED]\n";
  std::ofstream(dir / "weights.bin") << "not weights";
  m = SentimentModel::Load({.model_dir = dir.string()});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition) << m.status();
  fs::remove_all(dir);
}

TEST_F(SentimentModelTest, ClearTextsGetTheirClassAndScoresSumToOne) {
  REQUIRE_MODEL();
  SentimentScores pos = One(*model_, "I love this phone, best purchase ever!! :)");
  SentimentScores neg = One(*model_, "This is the worst service, I hate it. Never again");
  SentimentScores neu = One(*model_, "The meeting has been moved to Thursday at 3pm");
  for (const auto& s : {pos, neg, neu}) {
    EXPECT_NEAR(Sum(s), 1.0f, 1e-4f);
    for (float v : {s.positive, s.negative, s.neutral, s.mixed}) {
      EXPECT_GE(v, 0.0f);
      EXPECT_LE(v, 1.0f);
    }
  }
  EXPECT_EQ(ArgMax(pos), v1::Sentiment::POSITIVE);
  EXPECT_EQ(ArgMax(neg), v1::Sentiment::NEGATIVE);
  EXPECT_EQ(ArgMax(neu), v1::Sentiment::NEUTRAL);
  // Social-media signals move the scores: shouting and emoji strengthen the positive side.
  SentimentScores plain = One(*model_, "this is good");
  SentimentScores loud = One(*model_, "this is GOOOOD!!! 😍😍");
  EXPECT_GT(loud.positive, plain.positive);
}

TEST_F(SentimentModelTest, ContrastingClausesMakeMixed) {
  REQUIRE_MODEL();
  SentimentScores mixed = One(*model_, "I love the screen but the battery is awful");
  SentimentScores single = One(*model_, "great phone, great price");
  EXPECT_GT(mixed.mixed, 0.2f);
  EXPECT_LT(single.mixed, 0.05f);
  EXPECT_GT(mixed.mixed, 5 * single.mixed);
}

TEST_F(SentimentModelTest, BatchingDoesNotChangeScores) {
  REQUIRE_MODEL();
  std::vector<std::string> texts = {
      "ok",
      "@united lost my bag AGAIN... thanks for nothing #fail http://t.co/xyz",
      "Sooo happy to see you all tonight 🎉🎉",
      "not bad at all, though the ending was weak",
      std::string(4000, 'a'),
      "😡",
      "Meeting at 5. Bring the slides; we'll review them.",
  };
  std::vector<std::string_view> views(texts.begin(), texts.end());
  auto batch = model_->Classify(views);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    SentimentScores alone = One(*model_, texts[i]);
    EXPECT_NEAR((*batch)[i].positive, alone.positive, 1e-5f) << texts[i];
    EXPECT_NEAR((*batch)[i].negative, alone.negative, 1e-5f) << texts[i];
    EXPECT_NEAR((*batch)[i].neutral, alone.neutral, 1e-5f) << texts[i];
    EXPECT_NEAR((*batch)[i].mixed, alone.mixed, 1e-5f) << texts[i];
  }
  // Larger than max_batch: split, same answers.
  std::vector<std::string_view> many;
  for (int i = 0; i < 150; ++i) many.push_back(views[i % views.size()]);
  auto split = model_->Classify(many);
  ASSERT_TRUE(split.ok());
  ASSERT_EQ(split->size(), many.size());
  EXPECT_NEAR((*split)[149].positive, (*batch)[149 % views.size()].positive, 1e-5f);
}

TEST_F(SentimentModelTest, ConcurrentCallersGetTheSameAnswers) {
  REQUIRE_MODEL();
  const std::string text = "the food was great but the waiter was rude";
  const SentimentScores expected = One(*model_, text);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        SentimentScores s = One(*model_, text);
        if (std::fabs(s.mixed - expected.mixed) > 1e-6f) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(SentimentModelTest, TheCoreServesTheModel) {
  REQUIRE_MODEL();
  auto analyzer = SentimentAnalyzer::Create({});
  ASSERT_TRUE(analyzer.ok());
  // Not owned by the analyzer here: the suite keeps the model.
  (*analyzer)->SetClassifier(std::shared_ptr<const SentimentClassifier>(model_, [](auto*) {}));
  v1::DetectSentimentRequest req;
  req.set_text("Absolutely loving the new update, great job team! 👏");
  req.set_language_code("en");
  auto r = (*analyzer)->DetectSentiment(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sentiment(), v1::Sentiment::POSITIVE);
  const auto& s = r->sentiment_score();
  EXPECT_NEAR(s.positive() + s.negative() + s.neutral() + s.mixed(), 1.0f, 1e-4f);
  v1::BatchDetectSentimentRequest batch;
  for (int i = 0; i < kMaxBatchTexts; ++i) batch.add_text_list(i % 2 ? "awful, just awful" : "");
  auto b = (*analyzer)->BatchDetectSentiment(batch);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->result_list_size(), 12);
  EXPECT_EQ(b->error_list_size(), 13);
  for (const auto& item : b->result_list()) EXPECT_EQ(item.sentiment(), v1::Sentiment::NEGATIVE);
}

// Accuracy floors on small fixed subsets of the data (the first rows of each file), against
// VADER on the same texts. The shipped model is trained on every source (SENTIMENT.md), so the
// tweets here were seen in training; rt-polarity never was. The held-out figures are
// stratus-eval-sentiment's.
struct Labelled {
  std::string text;
  int label;  // 0 positive, 1 negative, 2 neutral
};

std::vector<Labelled> FirstRows(const std::string& set, size_t n) {
  const fs::path dir = SharedDataDir() / "sentiment";
  std::vector<Labelled> out;
  std::string line;
  if (set == "airline") {
    std::ifstream in(dir / "tweets_airline" / "tweets.tsv");
    while (out.size() < n && std::getline(in, line)) {
      const size_t tab = line.find('\t');
      if (tab == std::string::npos) continue;
      const std::string l = line.substr(0, tab);
      out.push_back({line.substr(tab + 1), l == "pos" ? 0 : l == "neg" ? 1 : 2});
    }
  } else if (set == "semeval") {
    std::ifstream text(dir / "tweets_semeval2017" / "test_text.txt");
    std::ifstream labels(dir / "tweets_semeval2017" / "test_labels.txt");
    std::string l;
    while (out.size() < n && std::getline(text, line) && std::getline(labels, l)) {
      out.push_back({line, l == "2" ? 0 : l == "0" ? 1 : 2});
    }
  } else {
    std::ifstream in(dir / "sentence_polarity" / "rt-polarity.all");
    while (out.size() < n && std::getline(in, line)) {
      if (line.size() > 2) out.push_back({line.substr(2), line[0] == '1' ? 0 : 1});
    }
  }
  return out;
}

TEST_F(SentimentModelTest, AccuracyFloorsOnFixedSubsets) {
  REQUIRE_MODEL();
  auto vader = text::Vader::Load((SharedDataDir() / "sentiment" / "lexicons" / "vader").string());
  ASSERT_TRUE(vader.ok()) << vader.status();
  struct Case {
    std::string set;
    bool three_class;
    double floor;
  };
  for (const Case& c : {Case{"airline", true, kAirlineFloor}, Case{"semeval", true, kSemevalFloor},
                        Case{"rt-polarity", false, kRtFloor}}) {
    const std::vector<Labelled> rows = FirstRows(c.set, 400);
    ASSERT_EQ(rows.size(), 400u) << c.set;
    std::vector<std::string_view> views;
    for (const auto& r : rows) views.push_back(r.text);
    auto scores = model_->Classify(views);
    ASSERT_TRUE(scores.ok()) << scores.status();
    double model_right = 0, vader_right = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      const SentimentScores& s = (*scores)[i];
      const double compound = (*vader)->PolarityScores(rows[i].text).compound;
      int m, v;
      if (c.three_class) {
        m = s.positive >= s.negative && s.positive >= s.neutral ? 0
            : s.negative >= s.neutral                           ? 1
                                                                : 2;
        v = compound >= 0.05 ? 0 : compound <= -0.05 ? 1 : 2;
      } else {
        m = s.positive >= s.negative ? 0 : 1;
        v = compound > 0 ? 0 : compound < 0 ? 1 : -1;
      }
      model_right += m == rows[i].label;
      vader_right += v == rows[i].label ? 1.0 : v < 0 ? 0.5 : 0.0;
    }
    const double acc = model_right / rows.size(), vacc = vader_right / rows.size();
    EXPECT_GE(acc, c.floor) << c.set << ": model " << acc << " VADER " << vacc;
    EXPECT_GT(acc, vacc + 0.05) << c.set << ": model " << acc << " VADER " << vacc;
  }
}

}  // namespace
}  // namespace stratus::sentiment
