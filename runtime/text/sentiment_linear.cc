#include "runtime/text/sentiment_linear.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "runtime/text/encoder.h"
#include "yaml-cpp/yaml.h"

namespace stratus::text {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'S', 'T', 'R', 'S', 'E', 'N', 'T', '1'};
constexpr const char* kLexiconFiles[][2] = {
    {"vader", "vader_lexicon.txt"}, {"vader", "emoji_utf8_lexicon.txt"}, {"vader", "LICENSE.txt"},
    {"afinn", "AFINN-en-165.txt"},  {"afinn", "AFINN-emoticon-8.txt"},   {"afinn", "LICENSE"}};

// FNV-1a over a namespace byte and the parts (separated by \x01), then a 64-bit finaliser so
// that the low bits used as the row are well mixed.
class Hasher {
 public:
  explicit Hasher(char ns) { Byte(static_cast<unsigned char>(ns)); }
  Hasher& Add(std::string_view s) {
    for (char c : s) Byte(static_cast<unsigned char>(c));
    return *this;
  }
  Hasher& Sep() {
    Byte(1);
    return *this;
  }
  uint32_t Row(uint32_t mask) const {
    uint64_t x = h_;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return static_cast<uint32_t>(x) & mask;
  }

 private:
  void Byte(unsigned char b) {
    h_ ^= b;
    h_ *= 1099511628211ULL;
  }
  uint64_t h_ = 1469598103934665603ULL;
};

float Squash(double x, double alpha) { return static_cast<float>(x / std::sqrt(x * x + alpha)); }

bool IsWord(std::string_view t) { return !t.empty() && t[0] >= 'a' && t[0] <= 'z'; }
// Emoji (non-ASCII first byte) and emoticons (ASCII symbols): not words, markers or numbers.
bool IsSymbolic(std::string_view t) {
  if (t.empty() || t[0] == '<' || t == "!" || t == "?") return false;
  const auto c = static_cast<unsigned char>(t[0]);
  return c >= 0x80 || !(std::isalnum(c) != 0);
}

// Temporal expressions by their kind: a weekday is "<day>", a clock time ("3pm", "10:30am")
// "<time>", so that what is learnt of one day or time holds for the others rather than for
// the few texts that name that one.
std::string_view Canonical(std::string_view t) {
  static constexpr std::string_view kDays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                               "friday", "saturday", "sunday"};
  std::string_view w = t.substr(0, 4) == "NOT_" ? t.substr(4) : t;
  for (std::string_view d : kDays) {
    if (w == d) return t.size() == w.size() ? "<day>" : "NOT_<day>";
  }
  if (w.size() >= 3 && w.size() <= 7 &&
      (w.substr(w.size() - 2) == "am" || w.substr(w.size() - 2) == "pm")) {
    size_t digits = 0, colon = 0;
    for (char c : w.substr(0, w.size() - 2)) {
      digits += c >= '0' && c <= '9';
      colon += c == ':';
    }
    if (digits >= 1 && digits + colon == w.size() - 2 && colon <= 1 && w[0] != ':') {
      return t.size() == w.size() ? "<time>" : "NOT_<time>";
    }
  }
  return t;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SentimentFeaturizer>> SentimentFeaturizer::Create(
    const SentimentFeaturizerOptions& options, const std::string& lexicon_dir) {
  if (options.buckets_log2 < 10 || options.buckets_log2 > 26 || options.max_clauses < 1 ||
      options.char_ngram_min < 0 || options.char_ngram_max < options.char_ngram_min) {
    return absl::InvalidArgumentError("sentiment featuriser: bad options");
  }
  auto f = std::unique_ptr<SentimentFeaturizer>(new SentimentFeaturizer);
  f->options_ = options;
  f->lexicon_dir_ = lexicon_dir;
  auto v = Vader::Load(lexicon_dir + "/vader");
  if (!v.ok()) return v.status();
  auto a = Afinn::Load(lexicon_dir + "/afinn");
  if (!a.ok()) return a.status();
  f->vader_ = std::move(*v);
  f->afinn_ = std::move(*a);
  for (const auto& [w, s] : f->vader_->lexicon()) {
    if (w.find(' ') == std::string::npos) f->dictionary_.insert(w);
  }
  for (const auto& [w, s] : f->afinn_->words()) {
    if (w.find(' ') == std::string::npos) f->dictionary_.insert(w);
  }
  // An emoji's valence: its description's compound score on VADER's -4..4 scale.
  for (const auto& [emoji, description] : f->vader_->emoji()) {
    const double c = f->vader_->PolarityScores(description).compound;
    if (c != 0.0) f->emoji_valence_[emoji] = 3.0 * c;
  }
  return f;
}

void SentimentFeaturizer::Dense(std::string_view text, const VaderScores& v,
                                const std::vector<std::string>& tokens, size_t begin, size_t end,
                                const VaderScores& l, float* out) const {
  const double afinn = afinn_->Score(text);
  out[0] = static_cast<float>(v.compound);
  out[1] = static_cast<float>(v.pos);
  out[2] = static_cast<float>(v.neg);
  out[3] = static_cast<float>(v.neu);
  out[4] = v.compound >= 0.05f;
  out[5] = v.compound <= -0.05f;
  out[6] = std::fabs(v.compound) < 0.05f;
  out[7] = static_cast<float>(l.compound);
  out[8] = l.compound >= 0.05;
  out[9] = l.compound <= -0.05;
  out[10] = Squash(afinn, 16.0);
  out[11] = afinn > 0;
  out[12] = afinn < 0;
  out[13] = afinn == 0;
  double pos = 0, neg = 0;
  int pos_sym = 0, neg_sym = 0, elong = 0, caps = 0, bang = 0, question = 0, negated = 0;
  int words = 0, pos_tokens = 0, neg_tokens = 0;
  for (size_t i = begin; i < end; ++i) {
    std::string_view t = tokens[i];
    if (t == "<elong>") {
      ++elong;
      continue;
    }
    if (t == "<allcaps>") {
      ++caps;
      continue;
    }
    if (t == "!") ++bang;
    if (t == "?") ++question;
    double sign = 1.0;
    if (t.substr(0, 4) == "NOT_") {
      t.remove_prefix(4);
      sign = -0.74;
      ++negated;
    }
    double val = vader_->Valence(t);
    if (val == 0.0) {
      auto it = afinn_->words().find(std::string(t));
      if (it != afinn_->words().end()) val = 0.8 * it->second;
    }
    if (val == 0.0 && IsSymbolic(t)) {
      auto it = emoji_valence_.find(std::string(t));
      if (it != emoji_valence_.end()) val = it->second;
    }
    val *= sign;
    if (val > 0) pos += val;
    if (val < 0) neg -= val;
    pos_tokens += val > 0;
    neg_tokens += val < 0;
    if (IsSymbolic(t) && val > 0) ++pos_sym;
    if (IsSymbolic(t) && val < 0) ++neg_sym;
    words += IsWord(t);
  }
  out[14] = Squash(pos, 15.0);
  out[15] = Squash(neg, 15.0);
  out[16] = std::min(pos_sym, 3) / 3.0f;
  out[17] = std::min(neg_sym, 3) / 3.0f;
  out[18] = std::min(elong, 3) / 3.0f;
  out[19] = std::min(caps, 3) / 3.0f;
  out[20] = std::min(bang, 3) / 3.0f;
  out[21] = std::min(question, 3) / 3.0f;
  out[22] = negated > 0;
  out[23] = static_cast<float>(std::log1p(words) / 4.0);
  out[24] = std::min(pos_tokens, 3) / 3.0f;
  out[25] = std::min(neg_tokens, 3) / 3.0f;
  out[26] = words > 0 ? std::min(1.0f, static_cast<float>(pos_tokens + neg_tokens) / words) : 0.0f;
  // Nothing polar at all: neither lexicon, nor an emoji or emoticon, nor VADER's rules.
  out[27] = pos_tokens + neg_tokens == 0 && afinn == 0 && v.compound == 0;
}

TextFeatures SentimentFeaturizer::Featurize(std::string_view text, bool with_clauses) const {
  const Features f = text::Featurize(text, &dictionary_, options_.max_clauses);
  const uint32_t mask = buckets() - 1;
  TextFeatures out;
  const int clauses = f.clause.empty() ? 1 : f.clause.back() + 1;
  const bool split = with_clauses && clauses > 1;
  if (split) out.clauses.resize(clauses);
  std::vector<uint32_t>& ids = out.whole.ids;
  ids.reserve(f.tokens.size() * 12);
  const std::string_view* prev = nullptr;
  int prev_clause = -1;
  std::string padded;
  std::vector<std::string_view> canonical(f.tokens.begin(), f.tokens.end());
  for (std::string_view& t : canonical) t = Canonical(t);
  for (size_t i = 0; i < f.tokens.size(); ++i) {
    const std::string_view& t = canonical[i];
    const size_t first = ids.size();
    ids.push_back(Hasher('w').Add(t).Row(mask));
    if (!f.is_signal[i]) {
      if (options_.bigrams && prev != nullptr && prev_clause == f.clause[i]) {
        ids.push_back(Hasher('b').Add(*prev).Sep().Add(t).Row(mask));
      }
      prev = &t;
      prev_clause = f.clause[i];
      std::string_view w = t;
      const bool negated = w.substr(0, 4) == "NOT_";
      if (negated) w.remove_prefix(4);
      if (options_.char_ngram_min > 0 && IsWord(w) && w.size() >= 2) {
        padded.assign("^").append(w).append("$");
        for (int n = options_.char_ngram_min; n <= options_.char_ngram_max; ++n) {
          if (static_cast<size_t>(n) > padded.size()) break;
          for (size_t s = 0; s + n <= padded.size(); ++s) {
            ids.push_back(
                Hasher(negated ? 'n' : 'c').Add(std::string_view(padded).substr(s, n)).Row(mask));
          }
        }
      }
    }
    if (split) {
      auto& c = out.clauses[f.clause[i]].ids;
      c.insert(c.end(), ids.begin() + first, ids.end());
    }
  }
  // Clause texts for the lexicon scores: the feature tokens without signals and NOT_.
  auto clause_text = [&](size_t b, size_t e) {
    std::string s;
    for (size_t i = b; i < e; ++i) {
      if (f.is_signal[i]) continue;
      std::string_view t = f.tokens[i];
      if (t.substr(0, 4) == "NOT_") t.remove_prefix(4);
      if (!s.empty()) s += ' ';
      s.append(t);
    }
    return s;
  };
  std::vector<size_t> starts(clauses + 1, f.tokens.size());
  for (size_t i = f.tokens.size(); i-- > 0;) starts[f.clause[i]] = i;
  for (int c = clauses - 1; c >= 0; --c) starts[c] = std::min(starts[c], starts[c + 1]);
  VaderScores last{};
  if (split) {
    for (int c = 0; c < clauses; ++c) {
      const std::string ct = clause_text(starts[c], starts[c + 1]);
      const VaderScores own = vader_->PolarityScores(ct);
      if (c == clauses - 1) last = own;
      Dense(ct, own, f.tokens, starts[c], starts[c + 1], own, out.clauses[c].dense.data());
    }
  } else if (clauses > 1) {
    last = vader_->PolarityScores(clause_text(starts[clauses - 1], starts[clauses]));
  }
  const VaderScores whole = vader_->PolarityScores(text);
  Dense(text, whole, f.tokens, 0, f.tokens.size(), clauses > 1 ? last : whole,
        out.whole.dense.data());
  return out;
}

LinearSentimentModel::LinearSentimentModel(std::unique_ptr<SentimentFeaturizer> featurizer)
    : featurizer_(std::move(featurizer)),
      weights_((featurizer_->buckets() + kDenseFeatures + 1) * kSentimentClasses, 0.0f) {}

std::unique_ptr<LinearSentimentModel> LinearSentimentModel::Create(
    std::unique_ptr<SentimentFeaturizer> featurizer) {
  return std::unique_ptr<LinearSentimentModel>(new LinearSentimentModel(std::move(featurizer)));
}

void LinearSentimentModel::Logits(const SparseFeatures& f, float* out) const {
  const float* b = &weights_[bias_row() * kSentimentClasses];
  for (int k = 0; k < kSentimentClasses; ++k) out[k] = b[k];
  float sparse[kSentimentClasses] = {0, 0, 0};
  for (uint32_t id : f.ids) {
    const float* w = &weights_[static_cast<size_t>(id) * kSentimentClasses];
    for (int k = 0; k < kSentimentClasses; ++k) sparse[k] += w[k];
  }
  const float scale = SparseScale(f);
  for (int k = 0; k < kSentimentClasses; ++k) out[k] += scale * sparse[k];
  const float* d = &weights_[dense_row() * kSentimentClasses];
  for (int j = 0; j < kDenseFeatures; ++j) {
    if (f.dense[j] == 0.0f) continue;
    for (int k = 0; k < kSentimentClasses; ++k) out[k] += f.dense[j] * d[j * kSentimentClasses + k];
  }
}

namespace {
std::array<float, 3> Softmax(const float* z) {
  const float m = std::max({z[0], z[1], z[2]});
  std::array<float, 3> p;
  float sum = 0;
  for (int k = 0; k < 3; ++k) sum += p[k] = std::exp(z[k] - m);
  for (float& v : p) v /= sum;
  return p;
}
}  // namespace

SentimentProbs LinearSentimentModel::Predict(std::string_view text) const {
  const TextFeatures f = featurizer_->Featurize(text, true);
  float z[kSentimentClasses];
  Logits(f.whole, z);
  const std::array<float, 3> p = Softmax(z);
  float mixed = 0;
  if (f.clauses.size() > 1) {
    std::vector<std::array<float, 3>> pc;
    for (const SparseFeatures& c : f.clauses) {
      Logits(c, z);
      pc.push_back(Softmax(z));
    }
    auto top = [](const std::array<float, 3>& q) {
      return static_cast<int>(std::max_element(q.begin(), q.end()) - q.begin());
    };
    for (size_t a = 0; a < pc.size(); ++a) {
      if (top(pc[a]) != kPositive) continue;
      for (size_t b = 0; b < pc.size(); ++b) {
        if (a != b && top(pc[b]) == kNegative) {
          mixed = std::max(mixed, pc[a][kPositive] * pc[b][kNegative]);
        }
      }
    }
  }
  return {p[0] * (1 - mixed), p[1] * (1 - mixed), p[2] * (1 - mixed), mixed};
}

absl::Status LinearSentimentModel::Save(const std::string& dir, const std::string& name,
                                        const std::string& version) const {
  std::error_code ec;
  fs::create_directories(dir + "/lexicons/vader", ec);
  fs::create_directories(dir + "/lexicons/afinn", ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  for (const auto& [sub, file] : kLexiconFiles) {
    const std::string from = absl::StrCat(featurizer_->lexicon_dir(), "/", sub, "/", file);
    const std::string to = absl::StrCat(dir, "/lexicons/", sub, "/", file);
    if (!fs::exists(from)) continue;  // licence files are optional
    if (fs::exists(to) && fs::equivalent(from, to)) continue;
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot copy ", from, ": ", ec.message()));
  }
  {
    std::ofstream out(dir + "/weights.bin", std::ios::binary);
    const uint32_t header[2] = {static_cast<uint32_t>(weights_.size() / kSentimentClasses),
                                kSentimentClasses};
    out.write(kMagic, sizeof(kMagic));
    out.write(reinterpret_cast<const char*>(header), sizeof(header));
    out.write(reinterpret_cast<const char*>(weights_.data()),
              static_cast<std::streamsize>(weights_.size() * sizeof(float)));
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", dir, "/weights.bin"));
  }
  const SentimentFeaturizerOptions& o = featurizer_->options();
  std::ofstream cfg(dir + "/config.yaml");
  cfg << "# The Stratus sentiment model (training/SENTIMENT.md, runtime/text/sentiment_linear.h)\n"
      << "task: text_classification\n"
      << "name: " << name << "\n"
      << "version: " << version << "\n"
      << "input:\n"
      << "  type: stratus_linear_v1\n"
      << "  tokenizer: stratus_social_v1\n"
      << "  buckets_log2: " << o.buckets_log2 << "\n"
      << "  bigrams: " << (o.bigrams ? "true" : "false") << "\n"
      << "  char_ngrams: [" << o.char_ngram_min << ", " << o.char_ngram_max << "]\n"
      << "  max_clauses: " << o.max_clauses << "\n"
      << "  dense_features: " << kDenseFeatures << "\n"
      << "  lexicons: lexicons    # vader/ and afinn/\n"
      << "weights: weights.bin\n"
      << "decoder: {type: classifier, softmax_applied: true}\n"
      << "labels: [POSITIVE, NEGATIVE, NEUTRAL, MIXED]\n";
  cfg.close();
  if (!cfg) return absl::InternalError(absl::StrCat("cannot write ", dir, "/config.yaml"));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<LinearSentimentModel>> LinearSentimentModel::Load(
    const std::string& dir) {
  const std::string path = dir + "/config.yaml";
  if (!fs::exists(path)) return absl::NotFoundError(absl::StrCat("no config.yaml in '", dir, "'"));
  SentimentFeaturizerOptions o;
  std::string weights_file, lexicons;
  try {
    YAML::Node config = YAML::LoadFile(path);
    YAML::Node input = config["input"];
    if (config["task"].as<std::string>("") != "text_classification" || !input ||
        input["type"].as<std::string>("") != "stratus_linear_v1") {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not a stratus_linear_v1 text classifier"));
    }
    if (input["dense_features"].as<int>(-1) != kDenseFeatures) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": dense_features is not ", kDenseFeatures));
    }
    o.buckets_log2 = input["buckets_log2"].as<int>(o.buckets_log2);
    o.bigrams = input["bigrams"].as<bool>(o.bigrams);
    if (YAML::Node c = input["char_ngrams"]) {
      o.char_ngram_min = c[0].as<int>();
      o.char_ngram_max = c[1].as<int>();
    }
    o.max_clauses = input["max_clauses"].as<int>(o.max_clauses);
    lexicons = input["lexicons"].as<std::string>("lexicons");
    weights_file = config["weights"].as<std::string>("weights.bin");
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
  const std::string wpath = dir + "/" + weights_file;
  if (!fs::exists(wpath)) return absl::NotFoundError(absl::StrCat("no ", wpath));
  auto featurizer = SentimentFeaturizer::Create(o, dir + "/" + lexicons);
  if (!featurizer.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(dir, ": ", featurizer.status().message()));
  }
  auto model = Create(std::move(*featurizer));
  std::ifstream in(wpath, std::ios::binary);
  char magic[8];
  uint32_t header[2] = {0, 0};
  in.read(magic, sizeof(magic));
  in.read(reinterpret_cast<char*>(header), sizeof(header));
  const size_t rows = model->weights_.size() / kSentimentClasses;
  if (!in || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0 || header[0] != rows ||
      header[1] != kSentimentClasses) {
    return absl::FailedPreconditionError(
        absl::StrCat(wpath, ": not a weights file for ", rows, " rows x ", kSentimentClasses));
  }
  in.read(reinterpret_cast<char*>(model->weights_.data()),
          static_cast<std::streamsize>(model->weights_.size() * sizeof(float)));
  if (!in || in.peek() != std::char_traits<char>::eof()) {
    return absl::FailedPreconditionError(absl::StrCat(wpath, ": truncated or too long"));
  }
  for (float w : model->weights_) {
    if (!std::isfinite(w)) {
      return absl::FailedPreconditionError(absl::StrCat(wpath, ": weights are not finite"));
    }
  }
  return model;
}

}  // namespace stratus::text
