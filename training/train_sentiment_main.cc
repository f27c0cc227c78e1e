// stratus-train-sentiment: trains the sentiment model of a job file (jobs/sentiment.yaml) on
// all of its sources and writes the model folder (runtime/text/sentiment_linear.h) with a
// report.json of the hyper-parameters chosen on the validation split.
//
//   stratus-train-sentiment JOB.yaml [--out DIR] [--threads N]
//
// Data: $STRATUS_DATA or the shared folder's data/ (common/paths.h). Exit status 0 when
// the model was written, 1 on failure, 2 on a usage or job-file error.
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_format.h"
#include "common/paths.h"
#include "nlohmann/json.hpp"
#include "training/sentiment_trainer.h"

int main(int argc, char** argv) {
  std::string job_path, out_dir;
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--out" && i + 1 < argc) {
      out_dir = argv[++i];
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (job_path.empty() && !a.empty() && a[0] != '-') {
      job_path = a;
    } else {
      std::fprintf(stderr, "usage: stratus-train-sentiment JOB.yaml [--out DIR] [--threads N]\n");
      return 2;
    }
  }
  if (job_path.empty()) {
    std::fprintf(stderr, "usage: stratus-train-sentiment JOB.yaml [--out DIR] [--threads N]\n");
    return 2;
  }
  const std::string sentiment_dir = (stratus::SharedDataDir() / "sentiment").string();
  auto job = stratus::training::LoadSentimentJob(job_path, sentiment_dir);
  if (!job.ok()) {
    std::fprintf(stderr, "%s\n", std::string(job.status().message()).c_str());
    return 2;
  }
  if (!out_dir.empty()) job->output_dir = out_dir;
  if (threads > 0) job->train.threads = threads;
  if (job->output_dir.empty()) {
    std::fprintf(stderr, "%s: no output.dir and no --out\n", job_path.c_str());
    return 2;
  }
  std::vector<stratus::training::SentimentSource> sources;
  nlohmann::json report;
  for (const std::string& name : job->sources) {
    auto s = stratus::training::ReadSentimentSource(sentiment_dir, name);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.status().message()).c_str());
      return 1;
    }
    report["sources"][name] = s->items.size();
    sources.push_back(std::move(*s));
  }
  stratus::training::SentimentTrainReport r;
  auto model = stratus::training::TrainSentiment(
      sources, job->train, &r,
      [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  if (auto s = (*model)->Save(job->output_dir, job->name, job->version); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  report["job"] = job_path;
  report["version"] = job->version;
  report["trained_on"] = "all examples of every source above";
  report["chosen"] = {{"l2", r.chosen_l2},
                      {"epochs", r.chosen_epochs},
                      {"positive_offset", r.positive_offset},
                      {"neutral_offset", r.neutral_offset},
                      {"validation_score", r.validation_score}};
  for (const auto& c : r.candidates) {
    report["candidates"].push_back({{"l2", c.l2},
                                    {"epochs", c.epochs},
                                    {"positive_offset", c.positive_offset},
                                    {"neutral_offset", c.neutral_offset},
                                    {"score", c.score},
                                    {"per_source", c.per_source}});
  }
  report["train_examples"] = r.train_examples;
  report["seconds"] = r.seconds;
  std::ofstream(job->output_dir + "/report.json") << report.dump(2) << "\n";
  std::printf("sentiment: %lld examples, l2 %g, %d epochs (validation %.4f), %.1f s -> %s\n",
              static_cast<long long>(r.train_examples), r.chosen_l2, r.chosen_epochs,
              r.validation_score, r.seconds, job->output_dir.c_str());
  return 0;
}
