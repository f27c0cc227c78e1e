// stratus-sentiment: sentiment of social-media messages (Amazon Comprehend's DetectSentiment and
// BatchDetectSentiment over gRPC and over the AWS JSON 1.1 protocol), a streaming feed stored in
// PostgreSQL, and topic trends.
//
// Start-up: the model loads on a thread of its own while the database pool, the servers and the
// AWS endpoint are set up; the servers start once it is loaded, so the first readiness
// evaluation already sees "model" and "database" (cold start = process start to SERVING, which
// decides how quickly the service scales up from zero).
#include <cstdlib>
#include <future>
#include <iostream>
#include <memory>
#include <string>

#include "common/paths.h"
#include "absl/strings/str_cat.h"
#include "common/aws/credentials.h"
#include "common/aws/json_protocol.h"
#include "common/db.h"
#include "common/logging.h"
#include "common/service_flags.h"
#include "common/service_host.h"
#include "services/sentiment/comprehend_endpoint.h"
#include "services/sentiment/schema.h"
#include "services/sentiment/sentiment.h"
#include "services/sentiment/sentiment_model.h"
#include "services/sentiment/sentiment_service.h"

namespace {

int Fail(const std::string& message, int code = 2) {
  std::cerr << "error: " << message << "\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  namespace sent = stratus::sentiment;
  stratus::FlagSet flags("stratus-sentiment",
                         "Sentiment of social-media messages (Comprehend-compatible), feeds and "
                         "trends.");
  stratus::CommonServiceFlags common;
  stratus::RegisterCommonServiceFlags(stratus::kSentimentDefaults, true, flags, &common);
  std::string model_dir = stratus::DefaultModelDir();
  std::string model;
  sent::SentimentModel::Options model_options;
  int feed_batch = 32;
  stratus::aws::CredentialSources credentials;
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
  flags.String("access-key-id", "STRATUS_AWS_ACCESS_KEY_ID", &credentials.access_key_id,
               "access key id accepted on the AWS endpoint (with --secret-access-key)");
  flags.String("secret-access-key", "STRATUS_AWS_SECRET_ACCESS_KEY", &credentials.secret_access_key,
               "its secret");
  flags.String("credentials-file", "STRATUS_AWS_CREDENTIALS_FILE",
               &credentials.shared_credentials_file,
               "AWS shared-credentials file (profile 'stratus'); generated when missing");
  int exit_code = 0;
  if (!stratus::ParseFlagsOrExit(flags, argc, argv, &exit_code)) return exit_code;
  if (auto s = stratus::ApplyCommonServiceFlags(&common); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  if (common.database_url.empty()) {
    return Fail("--database-url (or STRATUS_DATABASE_URL) is required");
  }
  model_options.model_dir = model.empty() ? model_dir + "/sentiment" : model;
  auto loading = std::async(std::launch::async,
                            [&model_options] { return sent::SentimentModel::Load(model_options); });

  auto db = stratus::Database::Create({.url = common.database_url, .pool_size = 8});
  if (!db.ok()) return Fail(std::string(db.status().message()));
  auto host = stratus::ServiceHost::Create(common.host);
  if (!host.ok()) return Fail(std::string(host.status().message()));
  sent::SentimentAnalyzer::Options analyzer_options;
  analyzer_options.db = db->get();
  analyzer_options.metrics = &(*host)->metrics();
  auto analyzer = sent::SentimentAnalyzer::Create(analyzer_options);
  if (!analyzer.ok()) return Fail(std::string(analyzer.status().message()));
  sent::SentimentServiceImpl service(analyzer->get(), feed_batch);
  (*host)->AddService(&service, "stratus.v1.SentimentService");
  const sent::SentimentAnalyzer* core = analyzer->get();
  (*host)->AddReadinessCheck("model", [core] { return core->ModelReadiness(); });
  (*host)->AddReadinessCheck(
      "database", stratus::DatabaseReadinessCheck(db->get(), "sentiment", sent::Migrations()));

  // The AWS JSON 1.1 endpoint (Comprehend), when keys are configured.
  stratus::aws::CredentialsStore keys;
  std::unique_ptr<stratus::aws::AwsJsonEndpoint> endpoint;
  const bool have_keys = !credentials.access_key_id.empty() ||
                         !credentials.secret_access_key.empty() ||
                         !credentials.shared_credentials_file.empty();
  if (have_keys && (*host)->http() != nullptr) {
    credentials.create_if_missing = !credentials.shared_credentials_file.empty();
    auto creds = stratus::aws::LoadCredentials(credentials);
    if (!creds.ok()) return Fail(absl::StrCat("AWS credentials: ", creds.status().message()));
    if (auto s = keys.Add(*creds); !s.ok()) return Fail(std::string(s.message()));
    stratus::aws::AwsJsonEndpoint::Options options;
    options.credentials = &keys;
    options.sigv4.service = "comprehend";
    options.errors = stratus::aws::ComprehendErrorDefaults();
    options.metrics = &(*host)->metrics();
    auto created = stratus::aws::AwsJsonEndpoint::Create(options);
    if (!created.ok()) return Fail(std::string(created.status().message()));
    endpoint = std::move(*created);
    sent::RegisterComprehendOperations(endpoint.get(), core);
    endpoint->Install((*host)->http());
  } else {
    SLOG(WARNING) << "no AWS access keys configured (--access-key-id/--secret-access-key or "
                     "--credentials-file): the AWS JSON endpoint is off, gRPC only";
  }

  auto loaded = loading.get();
  if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
  SLOG(INFO) << "sentiment model loaded" << stratus::Kv("model", (*loaded)->Describe())
             << stratus::Kv("dir", model_options.model_dir)
             << stratus::Kv("load_ms", static_cast<int64_t>((*loaded)->load_ms()));
  (*analyzer)->SetClassifier(std::move(*loaded));

  if (auto s = (*host)->Start(); !s.ok()) {
    SLOG(ERROR) << "cannot start" << stratus::Kv("error", s.message());
    return 1;
  }
  SLOG(INFO) << "sentiment serving" << stratus::Kv("grpc_port", (*host)->grpc_port())
             << stratus::Kv("http_port", (*host)->http_port())
             << stratus::Kv("aws", endpoint != nullptr);
  stratus::ServiceHost::InstallSignalHandlers(host->get());
  (*host)->Wait();
  return 0;
}
