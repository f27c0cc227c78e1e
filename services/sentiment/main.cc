// stratus-sentiment: sentiment of social-media messages (Amazon Comprehend's DetectSentiment and
// BatchDetectSentiment over gRPC and over the AWS JSON 1.1 protocol), a streaming feed stored in
// PostgreSQL, and topic trends.
//
// Start-up: the model loads on a thread of its own while the database pool, the servers and the
// AWS endpoint are set up; the servers start once it is loaded, so the first readiness
// evaluation already sees "model" and "database" (cold start = process start to SERVING, which
// decides how quickly the service scales up from zero).
#include <future>
#include <memory>
#include <string>

#include "common/logging.h"
#include "common/paths.h"
#include "common/service_main.h"
#include "services/sentiment/comprehend_endpoint.h"
#include "services/sentiment/comprehend_text.h"
#include "services/sentiment/schema.h"
#include "services/sentiment/sentiment.h"
#include "services/sentiment/sentiment_model.h"
#include "services/sentiment/sentiment_service.h"

int main(int argc, char** argv) {
  namespace sent = stratus::sentiment;
  stratus::ServiceMain main(
      {.binary = "stratus-sentiment",
       .summary = "Sentiment of social-media messages (Comprehend-compatible), feeds and trends.",
       .defaults = stratus::kSentimentDefaults,
       .uses_database = true,
       .aws_service = "comprehend"});
  stratus::FlagSet& flags = main.flags();
  std::string model_dir = stratus::DefaultModelDir();
  std::string model;
  sent::SentimentModel::Options model_options;
  int feed_batch = 32;
  flags.String("model-dir", "STRATUS_MODEL_DIR", &model_dir,
               "the model repository (the model is its 'sentiment' folder)");
  flags.String("model", "STRATUS_SENTIMENT_MODEL", &model,
               "the model folder itself (default: <model-dir>/sentiment)");
  flags.Int("threads", "STRATUS_SENTIMENT_THREADS", &model_options.intra_op_threads,
            "threads one batch of 32+ texts is spread over (requests already run in parallel)");
  flags.Int("max-batch", "STRATUS_SENTIMENT_MAX_BATCH", &model_options.max_batch,
            "texts per chunk of a batch on one thread");
  flags.Int("feed-batch", "STRATUS_SENTIMENT_FEED_BATCH", &feed_batch,
            "posts of a Feed stream scored and stored together at most");
  return main.Run(argc, argv, [&](stratus::ServiceContext& ctx) -> absl::Status {
    model_options.model_dir = model.empty() ? model_dir + "/sentiment" : model;
    auto loading = std::async(std::launch::async,
                              [&model_options] { return sent::SentimentModel::Load(model_options); });
    absl::StatusOr<stratus::Database*> db = ctx.database();
    if (!db.ok()) return db.status();
    sent::SentimentAnalyzer::Options analyzer_options;
    analyzer_options.db = *db;
    analyzer_options.metrics = &ctx.metrics();
    absl::StatusOr<std::unique_ptr<sent::SentimentAnalyzer>> created =
        sent::SentimentAnalyzer::Create(analyzer_options);
    if (!created.ok()) return created.status();
    sent::SentimentAnalyzer* analyzer = ctx.Keep(std::move(*created));
    // Language, PII and key phrases; the language profiles are optional (make models).
    sent::TextAnalyzer::Options text_options;
    const std::string profiles = model_dir + "/language/profiles.tsv";
    auto languages = stratus::text::LanguageIdentifier::Create({.profiles_path = profiles});
    if (languages.ok()) {
      text_options.languages = std::move(*languages);
    } else if (absl::IsNotFound(languages.status())) {
      SLOG(WARNING) << "DetectDominantLanguage off"
                    << stratus::Kv("error", languages.status().message());
    } else {
      return languages.status();
    }
    absl::StatusOr<std::unique_ptr<sent::TextAnalyzer>> text_created =
        sent::TextAnalyzer::Create(text_options);
    if (!text_created.ok()) return text_created.status();
    sent::TextAnalyzer* text = ctx.Keep(std::move(*text_created));
    ctx.host().AddService(ctx.Make<sent::SentimentServiceImpl>(analyzer, feed_batch, text),
                          "stratus.v1.SentimentService");
    ctx.host().AddReadinessCheck("model", [analyzer] { return analyzer->ModelReadiness(); });
    ctx.host().AddReadinessCheck(
        "database", stratus::DatabaseReadinessCheck(*db, "sentiment", sent::Migrations()));
    if (stratus::aws::AwsJsonEndpoint* endpoint = ctx.aws_endpoint()) {
      sent::RegisterComprehendOperations(endpoint, analyzer, text);
    }
    // The servers start once the model is loaded, so that the first readiness evaluation
    // already sees "model" and "database".
    auto loaded = loading.get();
    if (!loaded.ok()) return loaded.status();
    SLOG(INFO) << "sentiment model loaded" << stratus::Kv("model", (*loaded)->Describe())
               << stratus::Kv("dir", model_options.model_dir)
               << stratus::Kv("load_ms", static_cast<int64_t>((*loaded)->load_ms()));
    analyzer->SetClassifier(std::move(*loaded));
    return absl::OkStatus();
  });
}
