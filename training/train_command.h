// `stratus train JOB.yaml [--set key.path=value]... [--restart] [--progress|--no-progress]`
// Torch-free header: the `stratus` CLI calls this for its `train` subcommand (argv[0] is the
// subcommand name or the program name; arguments follow).
//
// Exit status: 0 the model was written; 1 failure (message on stderr); 2 usage or job-file
// error (FILE:LINE:COL: key: reason); 143 stopped by SIGTERM/SIGINT after checkpointing (run
// the same command again to resume).
#ifndef STRATUS_TRAINING_TRAIN_COMMAND_H_
#define STRATUS_TRAINING_TRAIN_COMMAND_H_

namespace stratus::training {

int RunTrainCommand(int argc, char** argv);

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_TRAIN_COMMAND_H_
