// stratus-eval-sentiment: compares the trained sentiment model with the VADER and AFINN
// lexicon baselines on the same held-out sets, and measures the derived MIXED class.
//
//   stratus-eval-sentiment [--model DIR] [--data DIR] [--json FILE]
//
// --model defaults to $STRATUS_MODEL_DIR/sentiment (or ~/.cache/stratus/models/sentiment),
// --data to $STRATUS_DATA or ../shared/data. Sets (none of them trained on):
//   custrev      customer reviews, pos/neg           (a source the model never saw)
//   mpqa         opinion phrases from news, pos/neg  (a source the model never saw)
//   rt-polarity  movie review snippets, pos/neg      (Pang & Lee: the corpus SST was built
//                                                     from, so not independent of sst2)
//   tweets-c     SemEval-2017 tweets, neg/neu/pos    (test rows 9500.. of TweetEval: same
//                                                     source as the training tweets, held out)
// Binary sets are scored forced-choice: the model by P(POSITIVE) vs P(NEGATIVE), VADER by the
// sign of compound, AFINN by the sign of its sum; a tie (score exactly 0) counts half right.
// Three-class tweets: the model's arg max over POSITIVE/NEGATIVE/NEUTRAL (MIXED set aside),
// VADER with its documented thresholds (compound >= 0.05 positive, <= -0.05 negative), AFINN by
// sign (0 neutral); accuracy and macro-averaged recall (SemEval's primary measure).
#include <ATen/Parallel.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "training/text/encoder.h"
#include "training/text/lexicon.h"

namespace {

using stratus::text::Afinn;
using stratus::text::TextEncoder;
using stratus::text::Vader;

struct Item {
  std::string text;
  int label;  // 0 positive, 1 negative, 2 neutral
};

std::vector<Item> ReadLabelFirst(const std::string& path) {
  std::vector<Item> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 3) continue;
    out.push_back({line.substr(2), line[0] == '1' ? 0 : 1});
  }
  return out;
}

std::vector<Item> ReadTweets(const std::string& dir, size_t begin) {
  std::vector<Item> out;
  std::ifstream text(dir + "/test_text.txt");
  std::ifstream labels(dir + "/test_labels.txt");
  std::string t, l;
  for (size_t i = 0; std::getline(text, t) && std::getline(labels, l); ++i) {
    if (i < begin) continue;
    const int raw = std::atoi(l.c_str());  // 0 negative, 1 neutral, 2 positive
    out.push_back({t, raw == 2 ? 0 : raw == 0 ? 1 : 2});
  }
  return out;
}

class Model {
 public:
  Model(const std::string& dir) : module_(torch::jit::load(dir + "/model.pt")) {
    module_.eval();
    auto enc = TextEncoder::Load(dir);
    if (!enc.ok()) {
      std::fprintf(stderr, "%s\n", std::string(enc.status().message()).c_str());
      std::exit(1);
    }
    encoder_ = std::move(*enc);
  }
  // Rows of [POSITIVE, NEGATIVE, NEUTRAL, MIXED] probabilities.
  std::vector<std::array<float, 4>> Predict(const std::vector<std::string>& texts,
                                            size_t batch = 256) {
    torch::NoGradGuard no_grad;
    std::vector<std::array<float, 4>> out;
    for (size_t s = 0; s < texts.size(); s += batch) {
      std::vector<std::string_view> views;
      for (size_t i = s; i < std::min(texts.size(), s + batch); ++i) views.push_back(texts[i]);
      std::vector<int64_t> ids, clauses;
      int64_t t = 0;
      encoder_->EncodeBatch(views, &ids, &clauses, &t);
      const auto n = static_cast<int64_t>(views.size());
      torch::Tensor ti = torch::from_blob(ids.data(), {n, t}, torch::kInt64);
      torch::Tensor tc = torch::from_blob(clauses.data(), {n, t}, torch::kInt64);
      torch::Tensor p = module_.forward({ti, tc}).toTensor().contiguous();
      for (int64_t r = 0; r < n; ++r) {
        std::array<float, 4> row{};
        for (int k = 0; k < 4 && k < p.size(1); ++k) row[k] = p[r][k].item<float>();
        out.push_back(row);
      }
    }
    return out;
  }

 private:
  torch::jit::Module module_;
  std::unique_ptr<TextEncoder> encoder_;
};

struct Score {
  double correct = 0;
  int n = 0;
  int confusion[3][3] = {};
  int ties[3] = {};  // forced choice without a decision (score exactly 0): half right
  void Add(int truth, int pred, double credit) {
    correct += credit;
    ++n;
    if (pred >= 0) {
      ++confusion[truth][pred];
    } else {
      ++ties[truth];
    }
  }
  double accuracy() const { return n ? correct / n : 0; }
  double macro_recall(int classes) const {
    double sum = 0;
    for (int c = 0; c < classes; ++c) {
      int total = ties[c];
      for (int k = 0; k < 3; ++k) total += confusion[c][k];
      sum += total ? (confusion[c][c] + 0.5 * ties[c]) / total : 0;
    }
    return sum / classes;
  }
};

int Sign(double v) { return v > 0 ? 0 : v < 0 ? 1 : -1; }

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir, data_dir, json_out;
  std::vector<std::string> texts_only;  // --text: print the model's scores for these and exit
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) {
      model_dir = argv[++i];
    } else if (a == "--data" && i + 1 < argc) {
      data_dir = argv[++i];
    } else if (a == "--text" && i + 1 < argc) {
      texts_only.push_back(argv[++i]);
    } else if (a == "--json" && i + 1 < argc) {
      json_out = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: stratus-eval-sentiment [--model DIR] [--data DIR] [--json FILE] [--text "
                   "TEXT]...\n");
      return 2;
    }
  }
  if (model_dir.empty()) {
    const char* m = std::getenv("STRATUS_MODEL_DIR");
    const char* home = std::getenv("HOME");
    model_dir = m ? std::string(m) + "/sentiment"
                  : std::string(home ? home : ".") + "/.cache/stratus/models/sentiment";
  }
  if (data_dir.empty()) {
    const char* d = std::getenv("STRATUS_DATA");
    data_dir = d ? d : "../shared/data";
  }
  if (!texts_only.empty()) {
    try {
      Model m(model_dir);
      const auto p = m.Predict(texts_only);
      for (size_t i = 0; i < p.size(); ++i) {
        std::printf("POSITIVE %.3f NEGATIVE %.3f NEUTRAL %.3f MIXED %.3f  %s\n", p[i][0], p[i][1],
                    p[i][2], p[i][3], texts_only[i].c_str());
      }
    } catch (const c10::Error& e) {
      std::fprintf(stderr, "%s\n", e.what_without_backtrace());
      return 1;
    }
    return 0;
  }
  const std::string sent = data_dir + "/sentiment";
  auto vader = Vader::Load(sent + "/lexicons/vader");
  auto afinn = Afinn::Load(sent + "/lexicons/afinn");
  if (!vader.ok() || !afinn.ok()) {
    std::fprintf(stderr, "cannot load lexicons under %s\n", sent.c_str());
    return 1;
  }
  std::unique_ptr<Model> model;
  try {
    model = std::make_unique<Model>(model_dir);
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "cannot load %s: %s\n", model_dir.c_str(), e.what_without_backtrace());
    return 1;
  }

  struct Set {
    std::string name, note;
    std::vector<Item> items;
    int classes;
  };
  std::vector<Set> sets = {
      {"custrev", "other source", ReadLabelFirst(sent + "/sentence_polarity/custrev.all"), 2},
      {"mpqa", "other source", ReadLabelFirst(sent + "/sentence_polarity/mpqa.all"), 2},
      {"rt-polarity", "SST's parent corpus",
       ReadLabelFirst(sent + "/sentence_polarity/rt-polarity.all"), 2},
      {"tweets-c", "held-out tweets", ReadTweets(sent + "/tweets_semeval2017", 9500), 3},
  };
  nlohmann::json report;
  std::printf("%-12s %-20s %6s | %-15s | %-15s | %-15s\n", "set", "", "n", "model acc/mR",
              "VADER acc/mR", "AFINN acc/mR");
  std::printf("%s\n", std::string(96, '-').c_str());
  int64_t single_mixed = 0, single_total = 0;
  for (const Set& s : sets) {
    if (s.items.empty()) {
      std::fprintf(stderr, "no data for %s\n", s.name.c_str());
      return 1;
    }
    std::vector<std::string> texts;
    for (const auto& it : s.items) texts.push_back(it.text);
    const auto probs = model->Predict(texts);
    Score m, v, a;
    Score m_lex, v_lex, m_nolex;  // binary sets: texts VADER finds sentiment in, and the rest
    for (size_t i = 0; i < s.items.size(); ++i) {
      const int y = s.items[i].label;
      const auto& p = probs[i];
      const double c = vader.value()->PolarityScores(texts[i]).compound;
      const double f = afinn.value()->Score(texts[i]);
      const int argmax4 = static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
      single_mixed += argmax4 == 3;
      ++single_total;
      if (s.classes == 2) {
        const int mp = p[0] >= p[1] ? 0 : 1;
        m.Add(y, mp, mp == y);
        const int vp = Sign(c), ap = Sign(f);
        v.Add(y, vp, vp < 0 ? 0.5 : vp == y);
        if (vp >= 0) {
          m_lex.Add(y, mp, mp == y);
          v_lex.Add(y, vp, vp == y);
        } else {
          m_nolex.Add(y, mp, mp == y);
        }
        a.Add(y, ap, ap < 0 ? 0.5 : ap == y);
      } else {
        const int mp = static_cast<int>(std::max_element(p.begin(), p.begin() + 3) - p.begin());
        m.Add(y, mp, mp == y);
        const int vp = c >= 0.05 ? 0 : c <= -0.05 ? 1 : 2;
        v.Add(y, vp, vp == y);
        const int ap = f > 0 ? 0 : f < 0 ? 1 : 2;
        a.Add(y, ap, ap == y);
      }
    }
    std::printf("%-12s %-20s %6d | %.3f / %.3f   | %.3f / %.3f   | %.3f / %.3f\n", s.name.c_str(),
                s.note.c_str(), m.n, m.accuracy(), m.macro_recall(s.classes), v.accuracy(),
                v.macro_recall(s.classes), a.accuracy(), a.macro_recall(s.classes));
    if (s.classes == 2) {
      std::printf(
          "%-12s   %5.1f%% with VADER words: model %.3f VADER %.3f; without: model %.3f "
          "(lexicons 0.5)\n",
          "", 100.0 * m_lex.n / m.n, m_lex.accuracy(), v_lex.accuracy(), m_nolex.accuracy());
    }
    report["sets"][s.name] = {
        {"n", m.n},
        {"classes", s.classes},
        {"note", s.note},
        {"model", {{"accuracy", m.accuracy()}, {"macro_recall", m.macro_recall(s.classes)}}},
        {"vader", {{"accuracy", v.accuracy()}, {"macro_recall", v.macro_recall(s.classes)}}},
        {"afinn", {{"accuracy", a.accuracy()}, {"macro_recall", a.macro_recall(s.classes)}}}};
  }

  // MIXED: custrev sentences of opposite polarity joined by ", but" (both orders), none of
  // them seen in training, against the same sentences alone.
  std::vector<std::string> pos, neg;
  for (const auto& it : sets[0].items) (it.label == 0 ? pos : neg).push_back(it.text);
  std::vector<std::string> mixed;
  for (size_t i = 0; i < 500 && i < pos.size() && i < neg.size(); ++i) {
    mixed.push_back(i % 2 ? pos[i] + " , but " + neg[i] : neg[i] + " , but " + pos[i]);
  }
  const auto mp = model->Predict(mixed);
  int hit = 0;
  for (const auto& p : mp) hit += (std::max_element(p.begin(), p.end()) - p.begin()) == 3;
  std::printf(
      "\nMIXED: %d/%zu (%.1f%%) of custrev pos+neg pairs joined by ', but' come out MIXED; "
      "%.1f%% of the %lld single texts above do\n",
      hit, mixed.size(), 100.0 * hit / mixed.size(), 100.0 * single_mixed / single_total,
      static_cast<long long>(single_total));
  report["mixed"] = {{"pairs", mixed.size()},
                     {"pairs_mixed", hit},
                     {"single_texts", single_total},
                     {"single_mixed", single_mixed}};

  // Speed of the model alone (tokenising included), one thread.
  at::set_num_threads(1);
  std::vector<std::string> sample(sets[3].items.size() > 1000 ? 1000 : sets[3].items.size());
  for (size_t i = 0; i < sample.size(); ++i) sample[i] = sets[3].items[i].text;
  for (size_t batch : {size_t{1}, size_t{25}}) {
    const auto t0 = std::chrono::steady_clock::now();
    model->Predict(sample, batch);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("speed: batch %2zu: %.0f texts/s on one thread\n", batch, sample.size() / s);
    report["speed"]["batch_" + std::to_string(batch)] = sample.size() / s;
  }
  if (!json_out.empty()) std::ofstream(json_out) << report.dump(2) << "\n";
  return 0;
}
