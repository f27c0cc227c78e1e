// The trained sentiment model (training/SENTIMENT.md): the linear classifier of
// runtime/text/sentiment_linear.h, the trainer's own featuriser and weights, torch-free.
//
//   auto model = SentimentModel::Load({.model_dir = dir + "/sentiment"});
//   auto scores = (*model)->Classify(texts);
//
// Errors of Load (all name the folder): NOT_FOUND (no config.yaml / weights / lexicons),
// INVALID_ARGUMENT (a config the service cannot serve: not a stratus_linear_v1
// text_classification model, labels other than POSITIVE/NEGATIVE/NEUTRAL[/MIXED]),
// FAILED_PRECONDITION (weights or lexicons that do not load, or a warm-up answer whose scores
// do not sum to 1).
//
// Thread safety: immutable after Load; Classify may run concurrently on any threads.
#ifndef STRATUS_SERVICES_SENTIMENT_SENTIMENT_MODEL_H_
#define STRATUS_SERVICES_SENTIMENT_SENTIMENT_MODEL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/sentiment/classifier.h"

namespace stratus::sentiment {

class SentimentModel final : public SentimentClassifier {
 public:
  struct Options {
    // Folder with config.yaml, weights.bin and lexicons/ ($STRATUS_MODEL_DIR/sentiment).
    std::string model_dir;
    // Threads one Classify call spreads a batch of at least 2 x 16 texts over (a text costs
    // ~0.1 ms, so smaller batches stay on the calling thread); concurrency otherwise comes
    // from the RPC threads. 0 or 1: the calling thread only.
    int intra_op_threads = 1;
    // Texts per chunk of a Classify call (a chunk runs on one thread).
    int max_batch = 64;
  };

  static absl::StatusOr<std::unique_ptr<SentimentModel>> Load(const Options& options);
  ~SentimentModel() override;
  SentimentModel(const SentimentModel&) = delete;
  SentimentModel& operator=(const SentimentModel&) = delete;

  absl::StatusOr<std::vector<SentimentScores>> Classify(
      absl::Span<const std::string_view> texts) const override;
  std::string Describe() const override;
  // Load and warm-up wall time.
  double load_ms() const;

 private:
  struct Impl;
  explicit SentimentModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stratus::sentiment

#endif  // STRATUS_SERVICES_SENTIMENT_SENTIMENT_MODEL_H_
