#include "training/train_command.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/logging.h"
#include "training/job.h"
#include "training/trainer.h"

namespace stratus::training {
namespace {

constexpr char kUsage[] =
    "usage: stratus train JOB.yaml [--set key.path=value]... [--restart] [--check]\n"
    "                              [--progress | --no-progress]\n"
    "  Trains the model a job file describes (see training/README.md) and writes it to the\n"
    "  job's output.dir. Resumes from checkpoint.dir/checkpoint.pt when one is there.\n"
    "  --set      override a key of the job file (e.g. --set output.dir=/models/sentiment)\n"
    "  --restart  ignore an existing checkpoint\n"
    "  --check    validate the job file and exit\n"
    "Environment: STRATUS_TRAIN_STEP_DELAY_MS (tests: sleep after each step).\n";

}  // namespace

int RunTrainCommand(int argc, char** argv) {
  std::string job_path;
  std::vector<std::string> overrides;
  TrainerOptions options;
  options.progress_tty = isatty(STDERR_FILENO) == 1;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--set" && i + 1 < argc) {
      overrides.push_back(argv[++i]);
    } else if (a.rfind("--set=", 0) == 0) {
      overrides.push_back(a.substr(6));
    } else if (a == "--restart") {
      options.restart = true;
    } else if (a == "--check") {
      check_only = true;
    } else if (a == "--progress") {
      options.progress_tty = true;
    } else if (a == "--no-progress") {
      options.progress_tty = false;
    } else if (!a.empty() && a[0] != '-' && job_path.empty()) {
      job_path = a;
    } else {
      std::fprintf(stderr, "unknown argument: %s\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (job_path.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (const char* d = std::getenv("STRATUS_TRAIN_STEP_DELAY_MS"))
    options.step_delay_ms = std::atoi(d);
  auto job = LoadJob(job_path, overrides);
  if (!job.ok()) {
    std::fprintf(stderr, "%s\n", std::string(job.status().message()).c_str());
    return 2;
  }
  if (check_only) {
    std::printf("%s: ok (%s, %zu labels, output %s)\n", job_path.c_str(), job->name.c_str(),
                job->labels.size(), job->output_dir.c_str());
    return 0;
  }
  InstallStopSignalHandlers();
  auto result = RunTraining(*job, options);
  if (!result.ok()) {
    SLOG(ERROR) << "training failed" << Kv("job", job_path)
                << Kv("error", result.status().message());
    return 1;
  }
  if (result->preempted) {
    SLOG(WARNING) << "stopped; run the same command again to resume" << Kv("job", job_path);
    return 143;
  }
  std::printf("%s\n",
              absl::StrFormat("model: %s  val_accuracy: %.4f  samples/s: %.0f", result->output_dir,
                              result->val_accuracy, result->samples_per_second)
                  .c_str());
  return 0;
}

}  // namespace stratus::training
