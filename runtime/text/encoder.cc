#include "runtime/text/encoder.h"

#include <algorithm>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "yaml-cpp/yaml.h"

namespace stratus::text {
namespace {

bool IsClauseEnd(const std::string& t) {
  return t == "." || t == "!" || t == "?" || t == ";" || t == "...";
}
bool IsContrastive(const std::string& t) {
  return t == "but" || t == "however" || t == "although" || t == "though" || t == "yet" ||
         t == "whereas";
}

}  // namespace

uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

Features Featurize(std::string_view text, const std::unordered_set<std::string>* dictionary,
                   int max_clauses) {
  TokenizerOptions topts;
  topts.dictionary = dictionary;
  const std::vector<Token> tokens = Tokenize(text, topts);
  Features f;
  int clause = 0;
  bool clause_has_tokens = false;
  int negation_left = 0;
  auto emit = [&](const std::string& s, bool signal) {
    f.tokens.push_back(s);
    f.clause.push_back(std::min(clause, max_clauses - 1));
    f.is_signal.push_back(signal);
    clause_has_tokens = true;
  };
  for (const Token& t : tokens) {
    if (t.kind == TokenKind::kPunct) {
      negation_left = 0;
      if (t.text == "!" || t.text == "?") {
        emit(t.text, false);
        if (t.elongated) emit("<!!>", true);
      }
      if (IsClauseEnd(t.text) && clause_has_tokens) {
        ++clause;
        clause_has_tokens = false;
      }
      continue;
    }
    if (t.kind == TokenKind::kWord && IsContrastive(t.text)) {
      if (clause_has_tokens) {
        ++clause;
        clause_has_tokens = false;
      }
      negation_left = 0;
    }
    std::string feature = t.text;
    if (t.kind == TokenKind::kWord && negation_left > 0 && !IsNegator(t.text)) {
      feature = "NOT_" + feature;
      --negation_left;
    }
    if (t.kind == TokenKind::kWord && IsNegator(t.text)) negation_left = 3;
    emit(feature, false);
    if (t.all_caps) emit("<allcaps>", true);
    if (t.elongated) emit("<elong>", true);
  }
  return f;
}

TextEncoder::TextEncoder(EncoderOptions options) : options_(std::move(options)) {
  for (size_t i = 0; i < options_.vocab.size(); ++i) {
    index_.emplace(options_.vocab[i], static_cast<int64_t>(i));
    const std::string& w = options_.vocab[i];
    if (!w.empty() && w[0] != '<' && w.rfind("NOT_", 0) != 0) dictionary_.insert(w);
  }
}

absl::StatusOr<std::unique_ptr<TextEncoder>> TextEncoder::Create(EncoderOptions options) {
  if (options.vocab.size() < 2 || options.vocab[0] != "<pad>" || options.vocab[1] != "<unk>") {
    return absl::InvalidArgumentError("vocabulary must start with <pad> and <unk>");
  }
  if (options.bigram_buckets < 0 || options.max_tokens < 1 || options.max_clauses < 1) {
    return absl::InvalidArgumentError("bad encoder options");
  }
  return std::unique_ptr<TextEncoder>(new TextEncoder(std::move(options)));
}

absl::StatusOr<std::unique_ptr<TextEncoder>> TextEncoder::Load(const std::string& model_dir) {
  EncoderOptions o;
  std::string vocab_file;
  try {
    YAML::Node config = YAML::LoadFile(model_dir + "/config.yaml");
    YAML::Node input = config["input"];
    if (!input || input["type"].as<std::string>("") != "token_ids") {
      return absl::InvalidArgumentError(
          absl::StrCat(model_dir, "/config.yaml: input.type is not token_ids"));
    }
    if (input["tokenizer"].as<std::string>("") != "stratus_social_v1") {
      return absl::InvalidArgumentError(
          absl::StrCat(model_dir, "/config.yaml: unknown input.tokenizer"));
    }
    vocab_file = input["vocab"].as<std::string>("vocab.txt");
    o.bigram_buckets = input["bigram_buckets"].as<int64_t>(o.bigram_buckets);
    o.max_tokens = input["max_tokens"].as<int>(o.max_tokens);
    o.max_clauses = input["max_clauses"].as<int>(o.max_clauses);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(model_dir, "/config.yaml: ", e.what()));
  }
  std::ifstream in(model_dir + "/" + vocab_file);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", model_dir, "/", vocab_file));
  std::string line;
  while (std::getline(in, line)) o.vocab.push_back(line);
  return Create(std::move(o));
}

TextEncoder::Encoded TextEncoder::Encode(std::string_view text) const {
  const Features f = Featurize(text, &dictionary_, options_.max_clauses);
  Encoded e;
  const auto vocab_size = static_cast<int64_t>(options_.vocab.size());
  const std::string* prev = nullptr;
  int prev_clause = -1;
  for (size_t i = 0; i < f.tokens.size(); ++i) {
    if (static_cast<int>(e.ids.size()) >= options_.max_tokens) break;
    auto it = index_.find(f.tokens[i]);
    e.ids.push_back(it == index_.end() ? 1 : it->second);
    e.clauses.push_back(f.clause[i]);
    if (f.is_signal[i]) continue;
    if (prev != nullptr && prev_clause == f.clause[i] && options_.bigram_buckets > 0 &&
        static_cast<int>(e.ids.size()) < options_.max_tokens) {
      const uint64_t h = Fnv1a64(*prev + "\x01" + f.tokens[i]);
      e.ids.push_back(vocab_size + static_cast<int64_t>(h % options_.bigram_buckets));
      e.clauses.push_back(f.clause[i]);
    }
    prev = &f.tokens[i];
    prev_clause = f.clause[i];
  }
  if (e.ids.empty()) {
    e.ids.push_back(1);
    e.clauses.push_back(0);
  }
  return e;
}

void TextEncoder::EncodeBatch(const std::vector<std::string_view>& texts, std::vector<int64_t>* ids,
                              std::vector<int64_t>* clauses, int64_t* t) const {
  std::vector<Encoded> rows;
  rows.reserve(texts.size());
  int64_t longest = 1;
  for (std::string_view text : texts) {
    rows.push_back(Encode(text));
    longest = std::max<int64_t>(longest, rows.back().ids.size());
  }
  ids->assign(texts.size() * longest, 0);
  clauses->assign(texts.size() * longest, 0);
  for (size_t r = 0; r < rows.size(); ++r) {
    std::copy(rows[r].ids.begin(), rows[r].ids.end(), ids->begin() + r * longest);
    std::copy(rows[r].clauses.begin(), rows[r].clauses.end(), clauses->begin() + r * longest);
  }
  *t = longest;
}

absl::Status TextEncoder::WriteVocab(const std::string& path) const {
  std::ofstream out(path);
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  for (const auto& w : options_.vocab) out << w << '\n';
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("write failed: ", path));
  return absl::OkStatus();
}

}  // namespace stratus::text
