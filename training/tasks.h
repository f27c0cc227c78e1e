// Task-specific halves of the trainer: how a task turns examples into batches, builds its model
// and writes the model folder's extra files. Internal to training/ (includes LibTorch).
#ifndef STRATUS_TRAINING_TASKS_H_
#define STRATUS_TRAINING_TASKS_H_

#include <torch/script.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "training/data.h"
#include "training/job.h"

namespace stratus::training {

struct Batch {
  std::vector<c10::IValue> inputs;  // arguments of logits()/forward()
  torch::Tensor target;             // int64 [B]
  torch::Tensor mask;               // bool [B, C]: classes the example's source tells apart
  int64_t size = 0;
};

enum class Split { kTrain, kValidation, kTest };

class TaskData {
 public:
  virtual ~TaskData() = default;
  // Batch of examples `index[0..n)` of `split`. `train` turns augmentation on; its randomness
  // comes from (aug_seed, example index) only, so it does not depend on batch order or threads.
  virtual Batch Make(Split split, const int64_t* index, int64_t n, bool train,
                     uint64_t aug_seed) = 0;
  virtual int64_t size(Split split) const = 0;
  virtual const Example& example(Split split, int64_t i) const = 0;
  virtual torch::jit::Module BuildModel() = 0;
  // A string that changes when the inputs the model sees change (vocabulary, sizes).
  virtual std::string Identity() const = 0;
  // Writes task files into the model folder and returns config.yaml's task-specific lines
  // (task, input, decoder, labels).
  virtual absl::StatusOr<std::string> WriteModelFiles(const std::string& dir) = 0;
  // Labels of the served outputs (may add a derived class, e.g. MIXED).
  virtual std::vector<std::string> OutputLabels() const = 0;
};

absl::StatusOr<std::unique_ptr<TaskData>> MakeTextTask(const Job& job, Dataset data);
absl::StatusOr<std::unique_ptr<TaskData>> MakeImageTask(const Job& job, Dataset data);

uint64_t Mix64(uint64_t x);  // splitmix64 finaliser

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_TASKS_H_
