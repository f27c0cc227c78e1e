#include "training/sentiment_trainer.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "training/path_variables.h"
#include "runtime/text/encoder.h"
#include "yaml-cpp/yaml.h"

namespace stratus::training {
namespace {

using text::kNegative;
using text::kNeutral;
using text::kPositive;
using text::kSentimentClasses;

absl::Status ReadLines(const std::string& path, std::vector<std::string>* out) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out->push_back(std::move(line));
  }
  return absl::OkStatus();
}

// "1 text" / "0 text" per line.
absl::Status ReadLabelFirst(const std::string& path, SentimentSource* s) {
  std::vector<std::string> lines;
  if (auto st = ReadLines(path, &lines); !st.ok()) return st;
  for (const std::string& l : lines) {
    if (l.size() < 3 || (l[0] != '0' && l[0] != '1') || l[1] != ' ') continue;
    s->items.push_back({l.substr(2), l[0] == '1' ? kPositive : kNegative});
  }
  return absl::OkStatus();
}

// SST five classes, "0..4 sentence" per line: 0-1 negative, 2 neutral, 3-4 positive.
absl::Status ReadFine(const std::string& path, std::vector<LabelledText>* out) {
  std::vector<std::string> lines;
  if (auto st = ReadLines(path, &lines); !st.ok()) return st;
  for (const std::string& l : lines) {
    if (l.size() < 3 || l[0] < '0' || l[0] > '4' || l[1] != ' ') continue;
    out->push_back({l.substr(2), l[0] < '2' ? kNegative : l[0] == '2' ? kNeutral : kPositive});
  }
  return absl::OkStatus();
}

// "sentence<TAB>label" with a header, label 1 positive, 0 negative.
absl::Status ReadSst(const std::string& path, SentimentSource* s) {
  std::vector<std::string> lines;
  if (auto st = ReadLines(path, &lines); !st.ok()) return st;
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t tab = lines[i].rfind('\t');
    if (tab == std::string::npos) continue;
    const std::string label = lines[i].substr(tab + 1);
    if (label != "0" && label != "1") continue;
    s->items.push_back({lines[i].substr(0, tab), label == "1" ? kPositive : kNegative});
  }
  return absl::OkStatus();
}

// TweetEval: text and label files aligned by line; 0 negative, 1 neutral, 2 positive.
absl::Status ReadTweetEval(const std::string& dir, const std::string& split, SentimentSource* s) {
  std::vector<std::string> texts, labels;
  if (auto st = ReadLines(dir + "/" + split + "_text.txt", &texts); !st.ok()) return st;
  if (auto st = ReadLines(dir + "/" + split + "_labels.txt", &labels); !st.ok()) return st;
  if (texts.size() != labels.size()) {
    return absl::InvalidArgumentError(absl::StrCat(dir, "/", split, ": text and labels differ"));
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    const int raw = std::atoi(labels[i].c_str());
    s->items.push_back({texts[i], raw == 2 ? kPositive : raw == 0 ? kNegative : kNeutral});
  }
  return absl::OkStatus();
}

absl::Status ReadAirline(const std::string& path, SentimentSource* s) {
  std::vector<std::string> lines;
  if (auto st = ReadLines(path, &lines); !st.ok()) return st;
  for (const std::string& l : lines) {
    const size_t tab = l.find('\t');
    if (tab == std::string::npos) continue;
    const std::string label = l.substr(0, tab);
    const int y = label == "pos"   ? kPositive
                  : label == "neg" ? kNegative
                  : label == "neu" ? kNeutral
                                   : -1;
    if (y >= 0) s->items.push_back({l.substr(tab + 1), y});
  }
  return absl::OkStatus();
}

uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

struct Example {
  text::SparseFeatures f;
  int label = 0;
  bool partial = false;
  int source = 0;
  float weight = 1;
};

// Balanced weights over `index`: each source the same total, each class within it the same.
void Balance(std::vector<Example>* ex, const std::vector<size_t>& index, int sources, bool balance,
             bool classes_too) {
  if (!balance) {
    for (size_t i : index) (*ex)[i].weight = 1;
    return;
  }
  std::vector<std::array<double, 3>> count(sources, {0, 0, 0});
  for (size_t i : index) count[(*ex)[i].source][(*ex)[i].label] += 1;
  int present = 0;
  for (const auto& c : count) present += (c[0] + c[1] + c[2]) > 0;
  const double per_source = static_cast<double>(index.size()) / std::max(1, present);
  for (size_t i : index) {
    const auto& c = count[(*ex)[i].source];
    const int classes = (c[0] > 0) + (c[1] > 0) + (c[2] > 0);
    (*ex)[i].weight = static_cast<float>(classes_too ? per_source / (classes * c[(*ex)[i].label])
                                                     : per_source / (c[0] + c[1] + c[2]));
  }
}

// AdaGrad on the model's weights and, with `source_specific`, on a copy of every weight for
// each source (Daume's feature augmentation): an example's logits are the shared ones plus its
// source's own, so what only one source shows (its topics) can go to that source's copy, and
// the shared weights, the only ones saved, keep what the sources agree on. The class mix of a
// source is its own bias's alone.
class Fitter {
 public:
  Fitter(text::LinearSentimentModel* model, double lr, double l2, int sources, bool source_specific)
      : model_(model), lr_(lr), l2_(l2), g2_(model->weights().size() / kSentimentClasses, 0.0f) {
    if (source_specific) {
      own_.resize(sources);
      own_g2_.resize(sources);
    }
  }

  void Epoch(const std::vector<Example>& ex, std::vector<size_t>* order, std::mt19937_64* rng) {
    std::shuffle(order->begin(), order->end(), *rng);
    for (size_t i : *order) Step(ex[i]);
  }

 private:
  void Update(float* w, float* g2, const float* g, float scale, bool decay) {
    float s = 0;
    for (int k = 0; k < kSentimentClasses; ++k) {
      const float gk = g[k] * scale + (decay ? static_cast<float>(l2_) * w[k] : 0.0f);
      s += gk * gk;
    }
    *g2 += s;
    const float step = static_cast<float>(lr_) / std::sqrt(*g2 + 1e-6f);
    for (int k = 0; k < kSentimentClasses; ++k) {
      w[k] -= step * (g[k] * scale + (decay ? static_cast<float>(l2_) * w[k] : 0.0f));
    }
  }
  // Applies gradient `g` to the rows of `e` in table `w` (AdaGrad state `g2`), the bias row
  // too when `bias`.
  void UpdateRows(const Example& e, float* w, float* g2, const float* g, bool bias) {
    const float scale = text::SparseScale(e.f);
    for (uint32_t id : e.f.ids) Update(&w[id * kSentimentClasses], &g2[id], g, scale, true);
    for (int j = 0; j < text::kDenseFeatures; ++j) {
      const size_t row = model_->dense_row() + j;
      if (e.f.dense[j] != 0.0f) {
        Update(&w[row * kSentimentClasses], &g2[row], g, e.f.dense[j], true);
      }
    }
    if (!bias) return;
    const size_t b = model_->bias_row();
    Update(&w[b * kSentimentClasses], &g2[b], g, 1.0f, false);
  }

  void Step(const Example& e) {
    float z[kSentimentClasses];
    model_->Logits(e.f, z);
    std::vector<float>* own = nullptr;
    if (!own_.empty()) {
      own = &own_[e.source];
      if (own->empty()) {
        own->assign(model_->weights().size(), 0.0f);
        own_g2_[e.source].assign(g2_.size(), 0.0f);
      }
      const float* w = own->data();
      float sparse[kSentimentClasses] = {0, 0, 0};
      for (uint32_t id : e.f.ids) {
        for (int k = 0; k < kSentimentClasses; ++k) sparse[k] += w[id * kSentimentClasses + k];
      }
      const float scale = text::SparseScale(e.f);
      const float* d = &w[model_->dense_row() * kSentimentClasses];
      const float* b = &w[model_->bias_row() * kSentimentClasses];
      for (int k = 0; k < kSentimentClasses; ++k) {
        z[k] += scale * sparse[k] + b[k];
        for (int j = 0; j < text::kDenseFeatures; ++j) {
          z[k] += e.f.dense[j] * d[j * kSentimentClasses + k];
        }
      }
    }
    if (e.partial) z[kNeutral] = -1e30f;
    const float m = std::max({z[0], z[1], z[2]});
    float p[kSentimentClasses], sum = 0;
    for (int k = 0; k < kSentimentClasses; ++k) sum += p[k] = std::exp(z[k] - m);
    float g[kSentimentClasses];
    for (int k = 0; k < kSentimentClasses; ++k) {
      g[k] = e.weight * (p[k] / sum - (k == e.label ? 1.0f : 0.0f));
    }
    // With per-source copies, a source's class mix is its own bias's alone: the shared bias
    // stays 0 (the calibration sets it).
    UpdateRows(e, model_->weights().data(), g2_.data(), g, own == nullptr);
    if (own != nullptr) UpdateRows(e, own->data(), own_g2_[e.source].data(), g, true);
  }

  text::LinearSentimentModel* model_;
  double lr_, l2_;
  std::vector<float> g2_;
  std::vector<std::vector<float>> own_, own_g2_;  // per source (allocated on first use)
};

}  // namespace

absl::StatusOr<SentimentSource> ReadSentimentSource(const std::string& dir,
                                                    const std::string& name) {
  SentimentSource s;
  s.name = name;
  absl::Status st;
  if (name == "tweets_semeval2017") {
    s.three_class = true;
    st = ReadTweetEval(dir + "/tweets_semeval2017", "val", &s);
    if (st.ok()) st = ReadTweetEval(dir + "/tweets_semeval2017", "test", &s);
  } else if (name == "tweets_airline") {
    s.three_class = true;
    st = ReadAirline(dir + "/tweets_airline/tweets.tsv", &s);
  } else if (name == "sst2") {
    st = ReadSst(dir + "/sst2/train.tsv", &s);
    if (st.ok()) st = ReadSst(dir + "/sst2/dev.tsv", &s);
    SentimentSource v;
    if (st.ok()) st = ReadSst(dir + "/sst2/test.tsv", &v);
    s.validation = std::move(v.items);
  } else if (name == "sst5") {
    s.three_class = true;
    for (const char* f : {"stsa.fine.train", "stsa.fine.test"}) {
      if (st.ok()) st = ReadFine(dir + "/sentence_polarity/" + f, &s.items);
    }
    if (st.ok()) st = ReadFine(dir + "/sentence_polarity/stsa.fine.dev", &s.validation);
  } else if (name == "sst2/test") {
    st = ReadSst(dir + "/sst2/test.tsv", &s);
  } else if (name == "sentence_polarity") {
    for (const char* f : {"custrev.all", "mpqa.all"}) {
      if (st.ok()) st = ReadLabelFirst(dir + "/sentence_polarity/" + f, &s);
    }
  } else if (name == "sentence_polarity/custrev" || name == "sentence_polarity/mpqa" ||
             name == "sentence_polarity/rt-polarity") {
    st = ReadLabelFirst(dir + "/" + name + ".all", &s);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown sentiment source '", name, "'"));
  }
  if (!st.ok()) return st;
  if (s.items.empty()) return absl::NotFoundError(absl::StrCat("no examples in ", dir, "/", name));
  return s;
}

void SentimentScore::Add(int truth, int pred) {
  ++n;
  if (pred < 0) {
    correct += 0.5;
    ++ties[truth];
    return;
  }
  correct += pred == truth;
  ++confusion[truth][pred];
}

double SentimentScore::Recall(int c) const {
  int total = ties[c];
  for (int k = 0; k < 3; ++k) total += confusion[c][k];
  return total ? (confusion[c][c] + 0.5 * ties[c]) / total : 0;
}

double SentimentScore::MacroF1(int classes) const {
  double sum = 0;
  for (int c = 0; c < classes; ++c) {
    int predicted = 0;
    for (int t = 0; t < 3; ++t) predicted += confusion[t][c];
    const double precision = predicted ? static_cast<double>(confusion[c][c]) / predicted : 0;
    const double recall = Recall(c);
    sum += precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
  }
  return sum / classes;
}

absl::StatusOr<std::unique_ptr<text::LinearSentimentModel>> TrainSentiment(
    const std::vector<SentimentSource>& sources, const SentimentTrainOptions& options,
    SentimentTrainReport* report, const std::function<void(const std::string&)>& log) {
  const auto start = std::chrono::steady_clock::now();
  auto say = [&](const std::string& s) {
    if (log) log(s);
  };
  auto featurizer = text::SentimentFeaturizer::Create(options.features, options.lexicon_dir);
  if (!featurizer.ok()) return featurizer.status();
  std::shared_ptr<text::SentimentFeaturizer> fz = std::move(*featurizer);

  std::vector<Example> ex;
  std::vector<const LabelledText*> texts;
  std::vector<char> fixed_validation;  // per example: from a source's own validation list
  for (size_t s = 0; s < sources.size(); ++s) {
    for (const auto* list : {&sources[s].items, &sources[s].validation}) {
      for (const LabelledText& t : *list) {
        Example e;
        e.label = t.label;
        e.partial = !sources[s].three_class;
        e.source = static_cast<int>(s);
        ex.push_back(std::move(e));
        texts.push_back(&t);
        fixed_validation.push_back(list == &sources[s].validation);
      }
    }
  }
  if (ex.empty()) return absl::InvalidArgumentError("no training examples");
  const int threads = std::max(1, options.threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (size_t i = t; i < ex.size(); i += threads) {
        ex[i].f = std::move(fz->Featurize(texts[i]->text, false).whole);
      }
    });
  }
  for (auto& th : pool) th.join();
  say(absl::StrFormat("featurised %d texts from %d sources", ex.size(), sources.size()));

  auto make_model = [&] {
    auto f = text::SentimentFeaturizer::Create(options.features, options.lexicon_dir);
    return text::LinearSentimentModel::Create(std::move(*f));
  };
  auto fit = [&](const std::vector<size_t>& index, double l2, int epochs,
                 const std::function<void(int, const text::LinearSentimentModel&)>& after) {
    Balance(&ex, index, static_cast<int>(sources.size()), options.balance, options.balance_classes);
    auto model = make_model();
    Fitter fitter(model.get(), options.lr, l2, static_cast<int>(sources.size()),
                  options.source_specific);
    std::mt19937_64 rng(options.seed);
    std::vector<size_t> order = index;
    for (int e = 1; e <= epochs; ++e) {
      fitter.Epoch(ex, &order, &rng);
      if (after) after(e, *model);
    }
    return model;
  };

  std::vector<double> l2s =
      options.l2_grid.empty() ? std::vector<double>{options.l2} : options.l2_grid;
  std::vector<int> epochs =
      options.epochs_grid.empty() ? std::vector<int>{options.epochs} : options.epochs_grid;
  std::sort(epochs.begin(), epochs.end());
  SentimentTrainReport local;
  SentimentTrainReport& r = report ? *report : local;
  r.candidates.clear();
  r.positive_offset = r.neutral_offset = 0;
  std::vector<float> offsets = {0.0f};
  if (options.calibrate) {
    for (int k = -10; k <= 10; ++k) {
      if (k != 0) offsets.push_back(0.1f * k);
    }
  }
  r.chosen_l2 = l2s[0];
  r.chosen_epochs = epochs.back();
  if (l2s.size() * epochs.size() > 1) {
    std::vector<size_t> train, val;
    for (size_t i = 0; i < ex.size(); ++i) {
      const double u = (Mix(options.seed * 7919 + i) >> 11) * 0x1.0p-53;
      const bool own = !sources[ex[i].source].validation.empty();
      ((own ? fixed_validation[i] != 0 : u < options.validation_fraction) ? val : train)
          .push_back(i);
    }
    double best = -1;
    for (double l2 : l2s) {
      fit(train, l2, epochs.back(), [&](int e, const text::LinearSentimentModel& m) {
        if (std::find(epochs.begin(), epochs.end(), e) == epochs.end()) return;
        // Each candidate with the class offsets that suit it best on the same validation
        // split (POSITIVE and NEUTRAL logits against NEGATIVE's; they move three-class
        // decisions only).
        std::vector<std::array<float, kSentimentClasses>> z(val.size());
        for (size_t v = 0; v < val.size(); ++v) m.Logits(ex[val[v]].f, z[v].data());
        SentimentTrainReport::Candidate c{l2, e, -1, {}, 0, 0};
        for (float pos_offset : offsets) {
          for (float neu_offset : offsets) {
            std::vector<SentimentScore> per(sources.size());
            for (size_t v = 0; v < val.size(); ++v) {
              const Example& x = ex[val[v]];
              const auto& q = z[v];
              int pred;
              if (!sources[x.source].three_class) {
                pred = q[kPositive] >= q[kNegative] ? kPositive : kNegative;
              } else {
                const float adj[3] = {q[kPositive] + pos_offset, q[kNegative],
                                      q[kNeutral] + neu_offset};
                pred = static_cast<int>(std::max_element(adj, adj + 3) - adj);
              }
              per[x.source].Add(x.label, pred);
            }
            double score = 0;
            std::vector<double> per_source;
            for (size_t s = 0; s < sources.size(); ++s) {
              const double v = sources[s].three_class ? per[s].MacroF1(3) : per[s].Accuracy();
              per_source.push_back(v);
              score += v / sources.size();
            }
            if (score > c.score + 1e-9) {
              c.score = score;
              c.per_source = std::move(per_source);
              c.positive_offset = pos_offset;
              c.neutral_offset = neu_offset;
            }
          }
        }
        say(absl::StrFormat(
            "  l2 %g epochs %d: validation %.4f (offsets POSITIVE %+.1f NEUTRAL %+.1f)", l2, e,
            c.score, c.positive_offset, c.neutral_offset));
        if (c.score > best) {
          best = c.score;
          r.chosen_l2 = l2;
          r.chosen_epochs = e;
          r.validation_score = c.score;
          r.positive_offset = c.positive_offset;
          r.neutral_offset = c.neutral_offset;
        }
        r.candidates.push_back(std::move(c));
      });
    }
    say(absl::StrFormat("chosen on validation: l2 %g, %d epochs (%.4f)", r.chosen_l2,
                        r.chosen_epochs, r.validation_score));
  }
  std::vector<size_t> all;  // every item; a source's own validation list stays out
  for (size_t i = 0; i < ex.size(); ++i) {
    if (!fixed_validation[i]) all.push_back(i);
  }
  auto model = fit(all, r.chosen_l2, r.chosen_epochs, {});
  model->weights()[model->bias_row() * kSentimentClasses + kPositive] += r.positive_offset;
  model->weights()[model->bias_row() * kSentimentClasses + kNeutral] += r.neutral_offset;
  r.train_examples = static_cast<int64_t>(ex.size());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return model;
}

namespace {

// ${VAR} / ${VAR:-default} and a leading ~.
absl::StatusOr<std::string> ExpandPath(const std::string& raw) {
  auto expanded = ExpandPathVariables(raw);
  if (!expanded.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(expanded.status().message(), " in ", raw));
  }
  return expanded;
}

absl::Status CheckKeys(const YAML::Node& n, const std::string& where,
                       const std::vector<std::string>& allowed) {
  if (!n.IsMap()) return absl::InvalidArgumentError(where + ": must be a mapping");
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string k = it->first.as<std::string>();
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unknown key '", k, "' (", absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SentimentJob> LoadSentimentJob(const std::string& path,
                                              const std::string& sentiment_dir) {
  SentimentJob job;
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    const YAML::Node root = YAML::Load(content);
    if (auto s = CheckKeys(
            root, path,
            {"name", "task", "sources", "features", "training", "seed", "threads", "output"});
        !s.ok()) {
      return s;
    }
    if (root["task"].as<std::string>("") != "sentiment_linear") {
      return absl::InvalidArgumentError(path + ": task must be sentiment_linear");
    }
    job.name = root["name"].as<std::string>(job.name);
    job.version = absl::StrFormat("%s-%016x", job.name, text::Fnv1a64(content));
    job.sources = root["sources"].as<std::vector<std::string>>();
    for (const std::string& s : job.sources) {
      if (auto r = ReadSentimentSource(sentiment_dir, s); !r.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": sources: ", r.status().message()));
      }
    }
    SentimentTrainOptions& t = job.train;
    if (const YAML::Node f = root["features"]) {
      if (auto s = CheckKeys(f, path + ": features",
                             {"buckets_log2", "bigrams", "char_ngrams", "max_clauses"});
          !s.ok()) {
        return s;
      }
      t.features.buckets_log2 = f["buckets_log2"].as<int>(t.features.buckets_log2);
      t.features.bigrams = f["bigrams"].as<bool>(t.features.bigrams);
      if (const YAML::Node c = f["char_ngrams"]) {
        t.features.char_ngram_min = c[0].as<int>();
        t.features.char_ngram_max = c[1].as<int>();
      }
      t.features.max_clauses = f["max_clauses"].as<int>(t.features.max_clauses);
    }
    if (const YAML::Node tr = root["training"]) {
      if (auto s = CheckKeys(tr, path + ": training",
                             {"lr", "l2", "epochs", "validation_fraction", "balance",
                              "balance_classes", "source_specific", "calibrate"});
          !s.ok()) {
        return s;
      }
      t.lr = tr["lr"].as<double>(t.lr);
      if (const YAML::Node l = tr["l2"]) {
        t.l2_grid = l.IsSequence() ? l.as<std::vector<double>>() : std::vector{l.as<double>()};
      }
      if (const YAML::Node e = tr["epochs"]) {
        t.epochs_grid = e.IsSequence() ? e.as<std::vector<int>>() : std::vector{e.as<int>()};
      }
      t.validation_fraction = tr["validation_fraction"].as<double>(t.validation_fraction);
      t.balance = tr["balance"].as<bool>(t.balance);
      t.source_specific = tr["source_specific"].as<bool>(t.source_specific);
      t.balance_classes = tr["balance_classes"].as<bool>(t.balance_classes);
      t.calibrate = tr["calibrate"].as<bool>(t.calibrate);
    }
    t.seed = root["seed"].as<uint64_t>(t.seed);
    t.threads = root["threads"].as<int>(t.threads);
    if (const YAML::Node o = root["output"]) {
      auto dir = ExpandPath(o["dir"].as<std::string>(""));
      if (!dir.ok())
        return absl::InvalidArgumentError(path +
                                          ": output.dir: " + std::string(dir.status().message()));
      job.output_dir = *dir;
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
  if (job.sources.empty()) return absl::InvalidArgumentError(path + ": no sources");
  if (job.train.lr <= 0 || job.train.validation_fraction <= 0 ||
      job.train.validation_fraction >= 1) {
    return absl::InvalidArgumentError(path + ": training: lr > 0, 0 < validation_fraction < 1");
  }
  job.train.lexicon_dir = sentiment_dir + "/lexicons";
  return job;
}

}  // namespace stratus::training
