// stratus-eval-sentiment: the sentiment model against the VADER and AFINN baselines, by
// source. For each source held out, a model is trained with the job's recipe (jobs/
// sentiment.yaml: features, hyper-parameter candidates chosen on a validation split of the
// *training* sources) on the job's other sources only, then scored once on the held-out one,
// beside VADER and AFINN computed in the same run:
//   tweets_semeval2017   three classes (all 14,284 tweets)
//   tweets_airline       three classes (all 14,640 tweets)
//   sentence_polarity    binary: custrev and mpqa reported separately, and rt-polarity (never
//                        trained on: the corpus SST was built from; shown, not claimed)
//   sst2                 binary: its 872 test sentences (GLUE dev); sst5 (the same corpus)
//                        is held out with it and has no fold of its own
// Three-class: accuracy, macro-F1 and per-class recall; the model by arg max over POSITIVE/
// NEGATIVE/NEUTRAL, VADER by its documented thresholds (compound >= 0.05 positive, <= -0.05
// negative), AFINN by sign (0 neutral). Binary: forced choice, the model by P(POSITIVE) vs
// P(NEGATIVE), the lexicons by sign, a tie (score exactly 0) half right.
// MIXED: held-out custrev sentences of opposite polarity joined by ", but" (the fold without
// sentence_polarity), and the share of single held-out texts called MIXED.
// Speed: Predict (featurising included) on one thread, texts per CPU second.
//
//   stratus-eval-sentiment [--job jobs/sentiment.yaml] [--json FILE] [--holdout NAME]...
//   stratus-eval-sentiment --model DIR --text TEXT...   (scores of a model folder)
//
// Data: $STRATUS_DATA or the shared folder's data/.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/paths.h"
#include "nlohmann/json.hpp"
#include "training/sentiment_trainer.h"
#include "runtime/text/sentiment_linear.h"

namespace {

namespace tr = stratus::training;
namespace tx = stratus::text;

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct Fold {
  std::string held_out;
  std::vector<std::string> train;  // sources
  std::vector<std::string> test;   // sets scored
};

struct Row {
  tr::SentimentScore model, vader, afinn;
  int mixed = 0;
};

Row Score(const tx::LinearSentimentModel& m, const tr::SentimentSource& s) {
  Row r;
  const tx::Vader& vader = m.featurizer().vader();
  const tx::Afinn& afinn = m.featurizer().afinn();
  for (const tr::LabelledText& t : s.items) {
    const tx::SentimentProbs p = m.Predict(t.text);
    r.mixed += std::max_element(p.begin(), p.end()) - p.begin() == 3;
    const double c = vader.PolarityScores(t.text).compound;
    const double a = afinn.Score(t.text);
    if (s.three_class) {
      r.model.Add(t.label,
                  static_cast<int>(std::max_element(p.begin(), p.begin() + 3) - p.begin()));
      r.vader.Add(t.label, c >= 0.05 ? tx::kPositive : c <= -0.05 ? tx::kNegative : tx::kNeutral);
      r.afinn.Add(t.label, a > 0 ? tx::kPositive : a < 0 ? tx::kNegative : tx::kNeutral);
    } else {
      r.model.Add(t.label, p[tx::kPositive] >= p[tx::kNegative] ? tx::kPositive : tx::kNegative);
      r.vader.Add(t.label, c > 0 ? tx::kPositive : c < 0 ? tx::kNegative : -1);
      r.afinn.Add(t.label, a > 0 ? tx::kPositive : a < 0 ? tx::kNegative : -1);
    }
  }
  return r;
}

nlohmann::json Json(const tr::SentimentScore& s, int classes) {
  nlohmann::json j = {{"accuracy", s.Accuracy()}, {"macro_f1", s.MacroF1(classes)}};
  j["recall"] = {{"positive", s.Recall(tx::kPositive)}, {"negative", s.Recall(tx::kNegative)}};
  if (classes == 3) j["recall"]["neutral"] = s.Recall(tx::kNeutral);
  return j;
}

int PrintScores(const std::string& model_dir, const std::vector<std::string>& texts) {
  auto m = tx::LinearSentimentModel::Load(model_dir);
  if (!m.ok()) {
    std::fprintf(stderr, "%s\n", std::string(m.status().message()).c_str());
    return 1;
  }
  for (const std::string& t : texts) {
    const tx::SentimentProbs p = (*m)->Predict(t);
    std::printf("POSITIVE %.3f NEGATIVE %.3f NEUTRAL %.3f MIXED %.3f  %s\n", p[0], p[1], p[2], p[3],
                t.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string job_path = "jobs/sentiment.yaml", json_out, model_dir;
  std::vector<std::string> texts, only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--job" && i + 1 < argc) {
      job_path = argv[++i];
    } else if (a == "--json" && i + 1 < argc) {
      json_out = argv[++i];
    } else if (a == "--holdout" && i + 1 < argc) {
      only.push_back(argv[++i]);
    } else if (a == "--model" && i + 1 < argc) {
      model_dir = argv[++i];
    } else if (a == "--text" && i + 1 < argc) {
      texts.push_back(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: stratus-eval-sentiment [--job JOB.yaml] [--json FILE] "
                   "[--holdout SOURCE]...\n"
                   "       stratus-eval-sentiment --model DIR --text TEXT...\n");
      return 2;
    }
  }
  if (!texts.empty()) {
    if (model_dir.empty()) {
      const char* m = std::getenv("STRATUS_MODEL_DIR");
      const char* home = std::getenv("HOME");
      model_dir = m ? std::string(m) + "/sentiment"
                    : std::string(home ? home : ".") + "/.cache/stratus/models/sentiment";
    }
    return PrintScores(model_dir, texts);
  }
  const std::string sent = (stratus::SharedDataDir() / "sentiment").string();
  auto job = tr::LoadSentimentJob(job_path, sent);
  if (!job.ok()) {
    std::fprintf(stderr, "%s\n", std::string(job.status().message()).c_str());
    return 2;
  }
  std::vector<Fold> folds;
  // sst2 and sst5 are one corpus (SST): held out together, in the sst2 fold.
  auto same_corpus = [](const std::string& a, const std::string& b) {
    auto sst = [](const std::string& s) { return s == "sst2" || s == "sst5"; };
    return a == b || (sst(a) && sst(b));
  };
  for (const std::string& held : job->sources) {
    if (!only.empty() && std::find(only.begin(), only.end(), held) == only.end()) continue;
    if (held == "sst5") continue;
    Fold f{held, {}, {}};
    for (const std::string& s : job->sources) {
      if (same_corpus(s, held)) continue;
      f.train.push_back(s);
    }
    if (held == "sentence_polarity") {
      f.test = {"sentence_polarity/custrev", "sentence_polarity/mpqa",
                "sentence_polarity/rt-polarity"};
    } else if (held == "sst2") {
      f.test = {"sst2/test"};
    } else {
      f.test = {held};
    }
    folds.push_back(std::move(f));
  }
  if (folds.empty()) {
    std::fprintf(stderr, "no fold to run (sources: %s)\n",
                 absl::StrJoin(job->sources, ", ").c_str());
    return 2;
  }
  std::map<std::string, tr::SentimentSource> cache;
  auto source = [&](const std::string& name) -> const tr::SentimentSource* {
    auto it = cache.find(name);
    if (it == cache.end()) {
      auto s = tr::ReadSentimentSource(sent, name);
      if (!s.ok()) {
        std::fprintf(stderr, "%s\n", std::string(s.status().message()).c_str());
        return nullptr;
      }
      it = cache.emplace(name, std::move(*s)).first;
    }
    return &it->second;
  };

  nlohmann::json report;
  report["job"] = job_path;
  std::vector<std::string> table;
  int64_t single = 0, single_mixed = 0;
  double speed = 0;
  for (const Fold& f : folds) {
    std::vector<tr::SentimentSource> train;
    for (const std::string& s : f.train) {
      const tr::SentimentSource* p = source(s);
      if (p == nullptr) return 1;
      train.push_back(*p);
    }
    std::fprintf(stderr, "held out %s: training on %s\n", f.held_out.c_str(),
                 absl::StrJoin(f.train, ", ").c_str());
    tr::SentimentTrainReport r;
    auto model = tr::TrainSentiment(train, job->train, &r, [](const std::string& line) {
      std::fprintf(stderr, "  %s\n", line.c_str());
    });
    if (!model.ok()) {
      std::fprintf(stderr, "%s\n", std::string(model.status().message()).c_str());
      return 1;
    }
    nlohmann::json& fj = report["folds"][f.held_out];
    fj["trained_on"] = f.train;
    fj["chosen"] = {{"l2", r.chosen_l2},
                    {"epochs", r.chosen_epochs},
                    {"positive_offset", r.positive_offset},
                    {"neutral_offset", r.neutral_offset},
                    {"validation_score", r.validation_score}};
    fj["train_seconds"] = r.seconds;
    for (const std::string& t : f.test) {
      const tr::SentimentSource* s = source(t);
      if (s == nullptr) return 1;
      const Row row = Score(**model, *s);
      const int k = s->three_class ? 3 : 2;
      single += s->items.size();
      single_mixed += row.mixed;
      table.push_back(absl::StrFormat("%-29s %6d | %.3f / %.3f | %.3f / %.3f | %.3f / %.3f", t,
                                      row.model.n, row.model.Accuracy(), row.model.MacroF1(k),
                                      row.vader.Accuracy(), row.vader.MacroF1(k),
                                      row.afinn.Accuracy(), row.afinn.MacroF1(k)));
      auto recalls = [&](const tr::SentimentScore& sc) {
        return k == 3 ? absl::StrFormat("%.2f %.2f %.2f", sc.Recall(tx::kPositive),
                                        sc.Recall(tx::kNegative), sc.Recall(tx::kNeutral))
                      : absl::StrFormat("%.2f %.2f", sc.Recall(tx::kPositive),
                                        sc.Recall(tx::kNegative));
      };
      table.push_back(absl::StrFormat("  recall %-20s        | %-15s | %-15s | %-15s",
                                      k == 3 ? "pos neg neu" : "pos neg", recalls(row.model),
                                      recalls(row.vader), recalls(row.afinn)));
      fj["sets"][t] = {{"n", row.model.n},
                       {"classes", k},
                       {"model", Json(row.model, k)},
                       {"vader", Json(row.vader, k)},
                       {"afinn", Json(row.afinn, k)},
                       {"called_mixed", row.mixed}};
    }
    if (f.held_out == "sentence_polarity") {
      const tr::SentimentSource* cr = source("sentence_polarity/custrev");
      std::vector<std::string> pos, neg;
      for (const auto& it : cr->items) (it.label == tx::kPositive ? pos : neg).push_back(it.text);
      int hit = 0, n = 0;
      for (size_t i = 0; i < 500 && i < pos.size() && i < neg.size(); ++i, ++n) {
        const std::string t = i % 2 ? pos[i] + " , but " + neg[i] : neg[i] + " , but " + pos[i];
        const tx::SentimentProbs p = (*model)->Predict(t);
        hit += std::max_element(p.begin(), p.end()) - p.begin() == 3;
      }
      report["mixed"]["pairs"] = n;
      report["mixed"]["pairs_mixed"] = hit;
      table.push_back(absl::StrFormat(
          "MIXED: %d/%d (%.1f%%) held-out custrev pos+neg pairs joined by ', but' come out MIXED",
          hit, n, 100.0 * hit / n));
    }
    if (speed == 0) {
      const tr::SentimentSource* tw = source("tweets_semeval2017");
      const size_t n = std::min<size_t>(3000, tw->items.size());
      const double t0 = CpuSeconds();
      float sink = 0;
      for (size_t i = 0; i < n; ++i) sink += (*model)->Predict(tw->items[i].text)[0];
      speed = n / std::max(1e-9, CpuSeconds() - t0);
      report["speed_texts_per_cpu_second"] = speed + 0 * sink;
    }
  }
  std::printf("Held out of training (each row: a model trained without that source)\n");
  std::printf("%-29s %6s | %-13s | %-13s | %-13s\n", "set", "n", "Stratus acc/F1", "VADER acc/F1",
              "AFINN acc/F1");
  std::printf("%s\n", std::string(86, '-').c_str());
  for (const auto& l : table) std::printf("%s\n", l.c_str());
  std::printf("false MIXED: %.1f%% of the %lld single held-out texts\n",
              100.0 * single_mixed / std::max<int64_t>(1, single), static_cast<long long>(single));
  std::printf("speed: %.0f texts per CPU second (one thread, featurising included)\n", speed);
  report["single_texts"] = single;
  report["single_mixed"] = single_mixed;
  if (!json_out.empty()) std::ofstream(json_out) << report.dump(2) << "\n";
  return 0;
}
