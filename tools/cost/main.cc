// stratus-cost: the `stratus cost` command as a binary of its own (see cost_command.h).
#include "tools/cost/cost_command.h"

int main(int argc, char** argv) { return RunCostCommand(argc, argv); }
