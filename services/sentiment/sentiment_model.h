// The trained sentiment model (training/SENTIMENT.md) served with LibTorch: the torch-free text
// encoder (training/text/encoder.h, the trainer's own code) turns texts into [B, T] ids and
// clause ids, the TorchScript module answers [B, 4] probabilities.
//
//   auto model = SentimentModel::Load({.model_dir = dir + "/sentiment"});
//   auto scores = (*model)->Classify(texts);
//
// LibTorch stays in sentiment_model.cc (pimpl): this header does not include it.
//
// Errors of Load (all name the folder): NOT_FOUND (no model.pt / config.yaml / vocabulary),
// INVALID_ARGUMENT (a config the service cannot serve: not text_classification over token ids,
// labels other than POSITIVE/NEGATIVE/NEUTRAL[/MIXED]), FAILED_PRECONDITION (model.pt does not
// load, or its warm-up forward fails or answers a shape other than [B, labels]).
//
// Thread safety: immutable after Load; Classify may run concurrently on any threads (each call
// owns its tensors; TorchScript forward is reentrant).
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
    // Folder with config.yaml, model.pt and the vocabulary ($STRATUS_MODEL_DIR/sentiment).
    std::string model_dir;
    // LibTorch intra-op threads for the whole process (at::set_num_threads). The model is a
    // bag of embeddings: one forward of 25 tweets takes well under a millisecond, so spreading
    // it over threads costs more in synchronisation than it saves; concurrency comes from the
    // RPC threads instead. 0 leaves LibTorch's setting alone.
    int intra_op_threads = 1;
    // Texts per forward at most; longer Classify() calls are split.
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
