// stratus-train: the trainer as its own binary (`stratus train` runs the same code).
#include "training/train_command.h"

int main(int argc, char** argv) { return stratus::training::RunTrainCommand(argc, argv); }
