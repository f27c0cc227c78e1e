// Training the Stratus sentiment model (runtime/text/sentiment_linear.h) from the labelled
// sources of the shared data folder, torch-free: a class- and source-balanced multinomial
// logistic regression trained by AdaGrad, with the hyper-parameters picked on a validation
// split of the training sources (never on a held-out source). Used by stratus-train-sentiment
// (jobs/sentiment.yaml, `make models`) and by stratus-eval-sentiment, which trains one model
// per held-out source.
//
// Sources (ReadSentimentSource, under DATA/sentiment; see ../shared/data/README.md):
//   tweets_semeval2017            TweetEval val + test, three classes (14,284)
//   tweets_airline                US airline tweets, three classes (14,640)
//   sst2                          SST-2 phrases, GLUE train (train.tsv + dev.tsv), binary;
//                                 validated on sst2/test
//   sst2/test                     SST-2 sentences, GLUE dev (872), binary
//   sst5                          SST sentences of the train and test splits with five-class
//                                 labels as three (0-1 negative, 2 neutral, 3-4 positive;
//                                 10,754); validated on the dev split (stsa.fine.dev, the
//                                 sentences of sst2/test). The same corpus as sst2: a fold
//                                 that holds one out holds out both
//   sentence_polarity             custrev + mpqa, binary (rt-polarity, the corpus SST was
//                                 built from, holds SST-2's test sentences: never trained on)
//   sentence_polarity/custrev, sentence_polarity/mpqa, sentence_polarity/rt-polarity
// Binary sources are `partial`: their loss is over POSITIVE and NEGATIVE only, so they say
// nothing about NEUTRAL.
#ifndef STRATUS_TRAINING_SENTIMENT_TRAINER_H_
#define STRATUS_TRAINING_SENTIMENT_TRAINER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/text/sentiment_linear.h"

namespace stratus::training {

struct LabelledText {
  std::string text;
  int label = 0;  // text::kPositive, kNegative or kNeutral
};

struct SentimentSource {
  std::string name;
  bool three_class = false;  // false: POSITIVE/NEGATIVE only (partial)
  std::vector<LabelledText> items;
  // When not empty, the validation split of this source (and every item trains): SST-2's
  // phrases are sub-phrases of each other, so a random split of them would validate on what
  // training saw; its GLUE dev sentences validate it instead.
  std::vector<LabelledText> validation;
};

// `sentiment_dir` is DATA/sentiment. NOT_FOUND for a missing file, INVALID_ARGUMENT for an
// unknown name.
absl::StatusOr<SentimentSource> ReadSentimentSource(const std::string& sentiment_dir,
                                                    const std::string& name);

struct SentimentTrainOptions {
  text::SentimentFeaturizerOptions features;
  std::string lexicon_dir;  // holds vader/ and afinn/
  int epochs = 5;
  double lr = 0.1;  // AdaGrad
  double l2 = 1e-6;
  // Candidates tried on the validation split; the best (mean over the training sources of
  // macro-F1, or accuracy for binary ones) is then trained on all the training data. Empty:
  // `l2` and `epochs` as given.
  std::vector<double> l2_grid;
  std::vector<int> epochs_grid;
  double validation_fraction = 0.1;  // of each training source, chosen by a seeded hash
  uint64_t seed = 1;
  int threads = 2;  // featurising
  // Each source weighs the same in the loss, and (balance_classes) within a source each class
  // the same, so the model's prior is uniform rather than the training sources' mix of
  // classes. Without balance_classes each example of a source weighs the same: with
  // source_specific, a source's own bias then takes its mix of classes.
  bool balance = true;
  bool balance_classes = true;
  // Training also fits a copy of every weight per source, added to the shared weights for
  // that source's examples and then dropped: the saved model keeps what the sources share
  // (the one a text from an unseen source meets). See Fitter in sentiment_trainer.cc.
  bool source_specific = false;
  // Offsets on the POSITIVE and NEUTRAL logits (each -1..1 by 0.1, NEGATIVE's fixed) chosen
  // with each hyper-parameter candidate on the validation split, the chosen candidate's added
  // to the saved model's bias: the class priors fitted on the training sources.
  bool calibrate = false;
};

struct SentimentTrainReport {
  double chosen_l2 = 0;
  int chosen_epochs = 0;
  double validation_score = 0;  // of the chosen candidate
  double positive_offset = 0;   // of the chosen candidate, added to the POSITIVE bias
  double neutral_offset = 0;    // and to the NEUTRAL bias
  struct Candidate {
    double l2;
    int epochs;
    double score;
    std::vector<double> per_source;
    double positive_offset = 0;
    double neutral_offset = 0;
  };
  std::vector<Candidate> candidates;
  int64_t train_examples = 0;
  double seconds = 0;
};

// Trains on `sources`. `log` (may be empty) receives progress lines.
absl::StatusOr<std::unique_ptr<text::LinearSentimentModel>> TrainSentiment(
    const std::vector<SentimentSource>& sources, const SentimentTrainOptions& options,
    SentimentTrainReport* report, const std::function<void(const std::string&)>& log = {});

// A sentiment job file (jobs/sentiment.yaml):
//   name: sentiment
//   task: sentiment_linear
//   sources: [tweets_semeval2017, tweets_airline, sst2, sentence_polarity]
//   features: {buckets_log2: 20, bigrams: true, char_ngrams: [3, 5], max_clauses: 8}
//   training: {lr: 0.1, l2: [1e-6, 1e-5], epochs: [3, 5], validation_fraction: 0.1,
//              balance: true, balance_classes: false, source_specific: true,
//              calibrate: true}
//   seed: 1
//   threads: 2
//   output: {dir: ${STRATUS_MODEL_DIR:-~/.cache/stratus/models}/sentiment}
// The data come from DATA/sentiment (DATA: SharedDataDir(), i.e. $STRATUS_DATA or the shared
// folder's data/), the lexicons from DATA/sentiment/lexicons. Unknown keys are refused.
struct SentimentJob {
  std::string name = "sentiment";
  std::string version;  // name-<hash of the file>
  std::vector<std::string> sources;
  SentimentTrainOptions train;
  std::string output_dir;
};
absl::StatusOr<SentimentJob> LoadSentimentJob(const std::string& path,
                                              const std::string& sentiment_dir);

// Scores of a labelled set.
struct SentimentScore {
  int n = 0;
  double correct = 0;             // ties of a binary lexicon decision count half
  int confusion[3][3] = {};       // [truth][prediction]
  int ties[3] = {};               // binary: no decision (score exactly 0)
  void Add(int truth, int pred);  // pred -1: tie
  double Accuracy() const { return n ? correct / n : 0; }
  double Recall(int c) const;
  double MacroF1(int classes) const;
};

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_SENTIMENT_TRAINER_H_
