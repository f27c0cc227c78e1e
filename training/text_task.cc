// The text classifier task: vocabulary from the training split, the lexicon channel, batches
// of padded feature ids, and the model folder's vocabulary and input description.
#include <algorithm>
#include <map>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "training/models.h"
#include "training/tasks.h"
#include "runtime/text/encoder.h"
#include "runtime/text/lexicon.h"

namespace stratus::training {

uint64_t Mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

namespace {

class TextTask : public TaskData {
 public:
  static absl::StatusOr<std::unique_ptr<TaskData>> Create(const Job& job, Dataset data) {
    auto t = std::unique_ptr<TextTask>(new TextTask(job, std::move(data)));
    if (auto s = t->Init(); !s.ok()) return s;
    return std::unique_ptr<TaskData>(std::move(t));
  }

  int64_t size(Split s) const override { return static_cast<int64_t>(Set(s).size()); }
  const Example& example(Split s, int64_t i) const override { return Set(s)[i]; }

  Batch Make(Split split, const int64_t* index, int64_t n, bool train, uint64_t aug_seed) override {
    const auto& enc = Encoded(split);
    const auto& set = Set(split);
    std::vector<std::vector<int64_t>> ids(n), clauses(n);
    int64_t longest = 1;
    for (int64_t b = 0; b < n; ++b) {
      const auto& e = enc[index[b]];
      if (train && job_.augment.token_dropout > 0 && e.ids.size() > 1) {
        std::mt19937_64 rng(Mix64(aug_seed ^ Mix64(static_cast<uint64_t>(index[b]))));
        std::uniform_real_distribution<double> u(0.0, 1.0);
        for (size_t k = 0; k < e.ids.size(); ++k) {
          if (u(rng) >= job_.augment.token_dropout) {
            ids[b].push_back(e.ids[k]);
            clauses[b].push_back(e.clauses[k]);
          }
        }
        if (ids[b].empty()) {
          ids[b].push_back(e.ids[0]);
          clauses[b].push_back(e.clauses[0]);
        }
      } else {
        ids[b] = e.ids;
        clauses[b] = e.clauses;
      }
      longest = std::max<int64_t>(longest, ids[b].size());
    }
    torch::Tensor tid = torch::zeros({n, longest}, torch::kInt64);
    torch::Tensor tcl = torch::zeros({n, longest}, torch::kInt64);
    torch::Tensor target = torch::empty({n}, torch::kInt64);
    const auto c = static_cast<int64_t>(job_.labels.size());
    torch::Tensor mask = torch::empty({n, c}, torch::kBool);
    auto pid = tid.accessor<int64_t, 2>();
    auto pcl = tcl.accessor<int64_t, 2>();
    auto pt = target.accessor<int64_t, 1>();
    auto pm = mask.accessor<bool, 2>();
    for (int64_t b = 0; b < n; ++b) {
      for (size_t k = 0; k < ids[b].size(); ++k) {
        pid[b][k] = ids[b][k];
        pcl[b][k] = clauses[b][k];
      }
      const Example& ex = set[index[b]];
      pt[b] = ex.label;
      for (int64_t k = 0; k < c; ++k) pm[b][k] = (ex.class_mask >> k) & 1u;
    }
    Batch batch;
    batch.inputs = {tid, tcl};
    batch.target = target;
    batch.mask = mask;
    batch.size = n;
    return batch;
  }

  torch::jit::Module BuildModel() override {
    NgramBagInfo info;
    info.num_embeddings = encoder_->num_embeddings();
    info.num_classes = static_cast<int>(job_.labels.size());
    info.lexicon = lexicon_;
    if (!job_.model.mixed_label.empty()) {
      info.mixed_positive = LabelIndex(job_.model.mixed_positive);
      info.mixed_negative = LabelIndex(job_.model.mixed_negative);
    }
    return BuildNgramBag(job_.model, info);
  }

  std::string Identity() const override {
    std::string all = absl::StrJoin(encoder_->options().vocab, "\n");
    return absl::StrCat("text:", all.size(), ":", text::Fnv1a64(all), ":",
                        encoder_->num_embeddings());
  }

  std::vector<std::string> OutputLabels() const override {
    std::vector<std::string> l = job_.labels;
    if (!job_.model.mixed_label.empty()) l.push_back(job_.model.mixed_label);
    return l;
  }

  absl::StatusOr<std::string> WriteModelFiles(const std::string& dir) override {
    if (auto s = encoder_->WriteVocab(dir + "/vocab.txt"); !s.ok()) return s;
    const auto& o = encoder_->options();
    std::string labels;
    for (const auto& l : OutputLabels()) labels += absl::StrCat(labels.empty() ? "" : ", ", l);
    return absl::StrCat(
        "task: text_classification\n", "input:\n",
        "  type: token_ids            # see training/SENTIMENT.md\n",
        "  tokenizer: stratus_social_v1\n", "  vocab: vocab.txt\n",
        "  vocab_size: ", o.vocab.size(), "\n", "  bigram_buckets: ", o.bigram_buckets, "\n",
        "  max_tokens: ", o.max_tokens, "\n", "  max_clauses: ", o.max_clauses, "\n",
        "  tensors: [ids, clauses]    # int64 [B,T] each, padded with 0\n", "decoder:\n",
        "  type: classifier\n", "  softmax_applied: true\n", "labels: [", labels, "]\n");
  }

 private:
  TextTask(const Job& job, Dataset data) : job_(job), data_(std::move(data)) {}

  int LabelIndex(const std::string& l) const {
    return static_cast<int>(std::find(job_.labels.begin(), job_.labels.end(), l) -
                            job_.labels.begin());
  }

  const std::vector<Example>& Set(Split s) const {
    return s == Split::kTrain        ? data_.train
           : s == Split::kValidation ? data_.validation
                                     : data_.test;
  }
  const std::vector<text::TextEncoder::Encoded>& Encoded(Split s) const {
    return s == Split::kTrain ? enc_train_ : s == Split::kValidation ? enc_val_ : enc_test_;
  }

  absl::Status Init() {
    const ModelSpec& m = job_.model;
    std::unique_ptr<text::Vader> vader;
    std::unique_ptr<text::Afinn> afinn;
    if (!m.vader_dir.empty()) {
      auto v = text::Vader::Load(m.vader_dir);
      if (!v.ok()) return v.status();
      vader = std::move(*v);
    }
    if (!m.afinn_dir.empty()) {
      auto a = text::Afinn::Load(m.afinn_dir);
      if (!a.ok()) return a.status();
      afinn = std::move(*a);
    }
    // Lexicon words: a prior for words the training data never shows, and the dictionary
    // that splits hashtags and elongations while the vocabulary is being counted.
    std::unordered_map<std::string, double> valence;
    auto is_plain = [](const std::string& w) { return w.find(' ') == std::string::npos; };
    if (afinn) {
      for (const auto& [w, s] : afinn->words()) {
        if (is_plain(w)) valence[w] = s * 0.8;  // AFINN -5..5 onto VADER's -4..4
      }
    }
    if (vader) {
      for (const auto& [w, s] : vader->lexicon()) {
        if (is_plain(w)) valence[w] = s;  // VADER wins where both have the word
      }
      for (const auto& [emoji, description] : vader->emoji()) {
        const double c = vader->PolarityScores(description).compound;
        if (c != 0.0) valence[emoji] = 3.0 * c;
      }
    }
    std::unordered_set<std::string> dictionary;
    for (const auto& [w, s] : valence) dictionary.insert(w);

    std::unordered_map<std::string, int64_t> counts;
    for (const Example& e : data_.train) {
      for (const auto& tok : text::Featurize(e.text, &dictionary, m.max_clauses).tokens) {
        ++counts[tok];
      }
    }
    std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    text::EncoderOptions eo;
    eo.vocab = {"<pad>", "<unk>",  "<allcaps>", "<elong>",  "<!!>",
                "<url>", "<user>", "<number>",  "<hashtag>"};
    std::unordered_set<std::string> in_vocab(eo.vocab.begin(), eo.vocab.end());
    for (const auto& [w, n] : sorted) {
      if (n < m.min_count || static_cast<int>(eo.vocab.size()) >= m.vocab_size) break;
      if (in_vocab.insert(w).second) eo.vocab.push_back(w);
    }
    const size_t from_data = eo.vocab.size();
    std::vector<std::string> lex_words;
    for (const auto& [w, s] : valence) lex_words.push_back(w);
    std::sort(lex_words.begin(), lex_words.end());
    for (const auto& w : lex_words) {
      if (in_vocab.insert(w).second) eo.vocab.push_back(w);
      if (in_vocab.insert("NOT_" + w).second) eo.vocab.push_back("NOT_" + w);
    }
    eo.bigram_buckets = m.bigram_buckets;
    eo.max_tokens = m.max_tokens;
    eo.max_clauses = m.max_clauses;
    auto enc = text::TextEncoder::Create(std::move(eo));
    if (!enc.ok()) return enc.status();
    encoder_ = std::move(*enc);
    SLOG(INFO) << "vocabulary" << Kv("from_data", from_data)
               << Kv("from_lexicons", encoder_->options().vocab.size() - from_data)
               << Kv("bigram_buckets", m.bigram_buckets);

    // Lexicon channel: [positive valence, negative valence] per id; "NOT_w" flips and damps w
    // as VADER does (x -0.74).
    lexicon_ = torch::zeros({encoder_->num_embeddings(), 2}, torch::kFloat32);
    auto pl = lexicon_.accessor<float, 2>();
    const auto& vocab = encoder_->options().vocab;
    for (size_t i = 0; i < vocab.size(); ++i) {
      std::string w = vocab[i];
      double sign = 1.0;
      if (w.rfind("NOT_", 0) == 0) {
        w = w.substr(4);
        sign = -0.74;
      }
      auto it = valence.find(w);
      if (it == valence.end()) continue;
      const double v = sign * it->second;
      pl[i][0] = static_cast<float>(std::max(v, 0.0));
      pl[i][1] = static_cast<float>(std::max(-v, 0.0));
    }
    for (const Example& e : data_.train) enc_train_.push_back(encoder_->Encode(e.text));
    for (const Example& e : data_.validation) enc_val_.push_back(encoder_->Encode(e.text));
    for (const Example& e : data_.test) enc_test_.push_back(encoder_->Encode(e.text));
    return absl::OkStatus();
  }

  const Job& job_;
  Dataset data_;
  std::unique_ptr<text::TextEncoder> encoder_;
  torch::Tensor lexicon_;
  std::vector<text::TextEncoder::Encoded> enc_train_, enc_val_, enc_test_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TaskData>> MakeTextTask(const Job& job, Dataset data) {
  try {
    return TextTask::Create(job, std::move(data));
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("text task: ", e.what_without_backtrace()));
  }
}

}  // namespace stratus::training
