// Runs a training job (job.h) to a model directory in the repository format (runtime/MODELS.md):
// model.pt (TorchScript) + config.yaml, plus report.json and training_curves.png; a text job
// also writes its vocabulary. Torch-free header.
//
// Preemption: the full training state (parameters and buffers, optimiser state, step counter
// from which the schedule is computed, torch RNG state, epoch, step within the epoch, this
// epoch's data order, partial metrics, history) is checkpointed atomically to
// checkpoint.dir/checkpoint.pt every `every_steps` steps / `every_seconds` seconds, at the end
// of each epoch and when SIGTERM or SIGINT arrives (at the next step boundary). Running the
// same job again resumes from it; with a fixed seed the result is the same as an uninterrupted
// run's (data order and augmentation are functions of seed, epoch and example; parameters are
// initialised from the seed; the JIT optimiser is off so every run executes the same kernels).
#ifndef STRATUS_TRAINING_TRAINER_H_
#define STRATUS_TRAINING_TRAINER_H_

#include <string>

#include "absl/status/statusor.h"
#include "training/job.h"

namespace stratus::training {

struct TrainerOptions {
  bool progress_tty = false;  // draw a progress bar (else log lines every 10 s)
  bool restart = false;       // ignore (and overwrite) an existing checkpoint
  int step_delay_ms = 0;      // testing aid: sleep after each step
};

struct TrainResult {
  bool preempted = false;   // stopped by a signal after writing a checkpoint
  std::string output_dir;   // set when finished
  double val_accuracy = 0;  // of the last epoch
  double val_loss = 0;
  double test_accuracy = -1;  // -1: no test set
  double samples_per_second = 0;
  int resumes = 0;  // how many times this run was resumed from a checkpoint
};

absl::StatusOr<TrainResult> RunTraining(const Job& job, const TrainerOptions& options);

// SIGTERM / SIGINT make RunTraining checkpoint and return with preempted = true.
void InstallStopSignalHandlers();

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_TRAINER_H_
