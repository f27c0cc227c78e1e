// Outputs around training (torch-free): atomic file writes, the PNG of the loss and accuracy
// curves, and the terminal progress bar.
#ifndef STRATUS_TRAINING_REPORT_H_
#define STRATUS_TRAINING_REPORT_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace stratus::training {

// Writes `bytes` to `path` atomically: a temporary file in the same folder, fsync, rename over
// `path`, fsync of the folder. A reader sees the old file or the new one, never a torn one,
// even if the process is killed at any point.
absl::Status WriteFileAtomic(const std::string& path, const std::string& bytes);

struct Curves {
  std::vector<double> train_loss, val_loss, train_acc, val_acc;  // one value per epoch
};

// Draws loss (left) and accuracy (right) against epoch, train and validation, as a PNG.
absl::Status WriteCurvesPng(const Curves& curves, const std::string& title,
                            const std::string& path);

// A progress line for one epoch. On a terminal: a bar redrawn in place with rate and ETA; not
// on a terminal: a plain log line every `log_every_seconds`.
class Progress {
 public:
  Progress(bool tty, double log_every_seconds = 10.0);
  void StartEpoch(int epoch, int epochs, int64_t steps, int64_t first_step);
  void Update(int64_t step, int64_t samples, double loss);
  void EndEpoch();

 private:
  bool tty_;
  double log_every_;
  int epoch_ = 0, epochs_ = 0;
  int64_t steps_ = 0, first_step_ = 0;
  int64_t samples_ = 0;
  std::chrono::steady_clock::time_point start_, last_log_;
};

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_REPORT_H_
