// Reading the examples a job names (torch-free): labelled text files and folders of images,
// the row ranges and label mappings of each source, and the seeded train/validation/test split.
#ifndef STRATUS_TRAINING_DATA_H_
#define STRATUS_TRAINING_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "training/job.h"

namespace stratus::training {

struct Example {
  std::string text;         // text classifier: the text; image classifier: the image path
  int label = 0;            // index into Job::labels
  uint32_t class_mask = 0;  // classes the loss and the prediction range over (bit i = class i)
  int source = 0;           // index into Dataset::sources
};

struct Dataset {
  std::vector<Example> train, validation, test;
  std::vector<std::string> sources;  // names, for per-source metrics
  int64_t skipped_rows = 0;          // rows whose label the source does not map
};

// Loads every source of the job and splits off validation/test fractions of the training pool
// when the job asks for them (a shuffle seeded by the job's seed, so the split is the same on
// every machine and every resume).
absl::StatusOr<Dataset> LoadDataset(const Job& job);

// Reads one source (exposed for tests and the evaluation tool).
absl::Status ReadSource(const Job& job, const DataSource& source, int source_index,
                        std::vector<Example>* out, int64_t* skipped);

// Image files (jpg, jpeg, png, bmp, webp) directly under `dir`, sorted by name.
std::vector<std::string> ListImages(const std::string& dir);

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_DATA_H_
