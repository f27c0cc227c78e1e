// A training job: the YAML file `stratus train JOB.yaml` runs (see jobs/*.yaml and
// training/README.md for every key). Parsing is strict: an unknown key, a missing required key
// or a bad value is refused with `FILE:LINE:COLUMN: key.path: reason`. Paths may use
// `${VAR}` / `${VAR:-default}` and are resolved against the job file's folder, so a job moves
// between a laptop, a Kubernetes Job and a spot node by changing paths (or environment) only.
// Torch-free.
#ifndef STRATUS_TRAINING_JOB_H_
#define STRATUS_TRAINING_JOB_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace stratus::training {

enum class Task { kImageClassifier, kTextClassifier };

struct DataSource {
  enum class Format {
    kTsv,         // text<TAB>label per line (header skipped when `header: true`)
    kLabelFirst,  // "label text..." per line
    kLines,       // one text per line in `path`, one label per line in `labels_path`
    kFolders,     // images: one sub-folder per class under `path`
  };
  std::string path;         // resolved
  std::string labels_path;  // kLines only
  Format format = Format::kTsv;
  bool header = false;
  std::map<std::string, std::string> labels;  // label as written (or folder) -> class name
  int64_t rows_begin = 0;                     // rows [begin, end) of the file, in file order
  int64_t rows_end = -1;                      // -1: to the end
  // The source only tells apart the classes its labels map to (e.g. a positive/negative set in
  // a 3-class task): the loss is taken over those classes only, renormalised.
  bool partial = false;
  std::string name;  // for reports; defaults to the file name
};

struct ModelSpec {
  std::string architecture;  // text: ngram_bag; image: convnet
  // ngram_bag
  int embedding_dim = 64;
  int hidden = 64;
  int vocab_size = 30000;  // most frequent word features kept
  int min_count = 2;
  int64_t bigram_buckets = 100000;
  int max_tokens = 256;
  int max_clauses = 8;
  std::string vader_dir;  // lexicon channel (optional): folder of vader_lexicon.txt
  std::string afinn_dir;  // optional: folder of AFINN-en-165.txt
  // Four-way output with a MIXED class derived from clauses (see SENTIMENT.md); empty: off.
  std::string mixed_label;
  std::string mixed_positive;
  std::string mixed_negative;
  // convnet
  int width = 32;       // channels of the first stage (doubles per stage)
  int input_size = 96;  // square input, pixels
  double dropout = 0.2;
};

struct AugmentSpec {
  // images
  bool flip = false;
  double crop_scale_min = 1.0;  // random crop of this fraction of the side .. 1
  double brightness = 0.0;      // +- fraction
  double contrast = 0.0;        // +- fraction
  double rotate_degrees = 0.0;
  int downscale_min_px = 0;  // sometimes shrink to [min, input] px and back (low-res faces)
  double blur = 0.0;         // probability of a Gaussian blur
  // text
  double token_dropout = 0.0;  // probability of dropping each feature id in training
};

struct OptimSpec {
  std::string type = "adamw";  // sgd | adam | adamw
  double lr = 1e-3;
  double weight_decay = 0.0;
  double momentum = 0.9;  // sgd only
};

struct ScheduleSpec {
  std::string type = "cosine";  // cosine | step | constant
  int64_t warmup_steps = 0;
  int step_epochs = 10;  // step only: multiply by gamma every step_epochs
  double gamma = 0.1;
  double min_lr_fraction = 0.0;  // cosine floor
};

struct CheckpointSpec {
  std::string dir;
  int64_t every_steps = 0;    // 0: off
  double every_seconds = 60;  // 0: off
  double grace_seconds = 20;  // SIGTERM -> checkpoint and exit within this (informational)
};

struct Job {
  std::string name;
  std::string file;          // the job file as given
  std::string content_hash;  // hex FNV-1a of the file text plus overrides
  Task task = Task::kTextClassifier;
  std::vector<std::string> labels;  // classes the network tells apart, in output order
  std::vector<DataSource> train, validation, test;
  double validation_split = 0.0;  // fraction of train held out when `validation` is empty
  double test_split = 0.0;        // fraction of train held out as a test set
  ModelSpec model;
  AugmentSpec augment;
  OptimSpec optimiser;
  ScheduleSpec schedule;
  int epochs = 10;
  int batch_size = 32;
  uint64_t seed = 1;
  int threads = 2;
  CheckpointSpec checkpoint;
  std::string output_dir;
  std::string version;    // written to config.yaml; default "<name>-<hash>"
  int64_t max_steps = 0;  // testing aid: stop (as if killed) after this many steps
};

// Parses and validates. `overrides` are "dotted.key=yaml-value" pairs applied before
// validation (`stratus train JOB.yaml --set output.dir=/models/x`).
absl::StatusOr<Job> LoadJob(const std::string& path,
                            const std::vector<std::string>& overrides = {});
absl::StatusOr<Job> ParseJob(const std::string& yaml_text, const std::string& path,
                             const std::vector<std::string>& overrides = {});

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_JOB_H_
