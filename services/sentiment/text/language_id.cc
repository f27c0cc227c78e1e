#include "services/sentiment/text/language_id.h"

#include <unicode/uchar.h>
#include <unicode/uscript.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/sentiment/text/utf8.h"

namespace stratus::text {
namespace {

// The out-of-place penalty of a trigram the profile lacks (profiles hold 300 trigrams).
constexpr int kMaxDifference = 300;

uint64_t Pack(char32_t a, char32_t b, char32_t c) {
  return (static_cast<uint64_t>(a) << 42) | (static_cast<uint64_t>(b) << 21) | c;
}

int ScriptByName(absl::string_view name) {
  return u_getPropertyValueEnum(UCHAR_SCRIPT, std::string(name).c_str());
}

bool IsMark(char32_t cp) {
  const int8_t t = u_charType(static_cast<UChar32>(cp));
  return t == U_NON_SPACING_MARK || t == U_COMBINING_SPACING_MARK || t == U_ENCLOSING_MARK;
}

int ScriptOf(char32_t cp) {
  UErrorCode err = U_ZERO_ERROR;
  const UScriptCode s = uscript_getScript(static_cast<UChar32>(cp), &err);
  return U_FAILURE(err) ? USCRIPT_INVALID_CODE : s;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LanguageIdentifier>> LanguageIdentifier::Create(
    const Options& options) {
  std::ifstream in(options.profiles_path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("no language profiles at '", options.profiles_path, "' (make models)"));
  }
  std::stringstream contents;
  contents << in.rdbuf();
  auto identifier = FromString(contents.str(), options);
  if (!identifier.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.profiles_path, ": ", identifier.status().message()));
  }
  return identifier;
}

absl::StatusOr<std::unique_ptr<LanguageIdentifier>> LanguageIdentifier::FromString(
    std::string_view tsv, const Options& options) {
  if (options.max_trigrams <= 0 || options.max_results <= 0) {
    return absl::InvalidArgumentError("max_trigrams and max_results must be positive");
  }
  auto id = std::unique_ptr<LanguageIdentifier>(new LanguageIdentifier(options));
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(tsv.data(), tsv.size()), '\n')) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> f = absl::StrSplit(line, '\t');
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": ", why));
    };
    if (f[0] == "source") {
      if (f.size() != 2) return bad("source takes one field");
      id->source_ = std::string(f[1]);
      continue;
    }
    if (f[0] != "trigrams" && f[0] != "script")
      return bad(absl::StrCat("unknown kind '", f[0], "'"));
    if (f.size() < 4) return bad("too few fields");
    const int script = ScriptByName(f[1]);
    if (script < 0) return bad(absl::StrCat("unknown script '", f[1], "'"));
    if (f[2].empty() || f[2].size() > 8) return bad("bad language code");
    if (f[0] == "script") {
      id->script_language_[script] = std::string(f[2]);
      continue;
    }
    if (f.size() != 5) return bad("trigrams takes four fields");
    Profile profile{std::string(f[2]), {}};
    int rank = 0;
    for (absl::string_view t : absl::StrSplit(f[4], '|')) {
      std::vector<CodePoint> cps = DecodeUtf8(std::string_view(t.data(), t.size()));
      if (cps.size() != 3) return bad(absl::StrCat("'", t, "' is not a trigram"));
      profile.rank.emplace(Pack(cps[0].value, cps[1].value, cps[2].value), rank++);
    }
    id->trigram_profiles_[script].push_back(std::move(profile));
  }
  if (id->trigram_profiles_.empty() && id->script_language_.empty()) {
    return absl::InvalidArgumentError("no language profile");
  }
  return id;
}

std::vector<std::string> LanguageIdentifier::Languages() const {
  std::vector<std::string> codes;
  for (const auto& [script, profiles] : trigram_profiles_) {
    for (const Profile& p : profiles) codes.push_back(p.code);
  }
  for (const auto& [script, code] : script_language_) codes.push_back(code);
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  return codes;
}

void LanguageIdentifier::ScoreGroup(int script, const std::u32string& letters, float share,
                                    std::unordered_map<std::string, float>* scores) const {
  // Letters of the group, words separated by one space, padded: " word word ".
  std::u32string s = U" " + letters;
  if (s.back() != U' ') s.push_back(U' ');
  std::unordered_map<uint64_t, int> counts;
  for (size_t i = 0; i + 2 < s.size(); ++i) ++counts[Pack(s[i], s[i + 1], s[i + 2])];
  std::vector<std::pair<uint64_t, int>> ranked(counts.begin(), counts.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (ranked.size() > static_cast<size_t>(options_.max_trigrams)) {
    ranked.resize(options_.max_trigrams);
  }
  if (options_.scoring == Options::Scoring::kZipfLikelihood) {
    // log P(rank r) = log(0.9 / H_300) - log(r + 1); log P(absent) = log(0.1 / 5000).
    static const double kHarmonic = [] {
      double h = 0;
      for (int r = 1; r <= kMaxDifference; ++r) h += 1.0 / r;
      return h;
    }();
    const double log_seen = std::log(0.9 / kHarmonic), log_absent = std::log(0.1 / 5000);
    std::unordered_map<std::string, double> best;  // code -> log-likelihood
    for (const Profile& p : trigram_profiles_.at(script)) {
      double ll = 0;
      for (const auto& [trigram, count] : ranked) {
        auto it = p.rank.find(trigram);
        ll += count * (it == p.rank.end() ? log_absent : log_seen - std::log(it->second + 1.0));
      }
      auto [it, inserted] = best.emplace(p.code, ll);
      if (!inserted) it->second = std::max(it->second, ll);
    }
    double max_ll = -1e300;
    for (const auto& [code, ll] : best) max_ll = std::max(max_ll, ll);
    double total = 0;
    for (auto& [code, ll] : best) total += (ll = std::exp(ll - max_ll));
    for (const auto& [code, w] : best) (*scores)[code] += static_cast<float>(share * w / total);
    return;
  }
  const double max_distance = static_cast<double>(kMaxDifference) * ranked.size();
  std::unordered_map<std::string, double> best;  // code -> normalised distance
  for (const Profile& p : trigram_profiles_.at(script)) {
    int64_t d = 0;
    for (size_t r = 0; r < ranked.size(); ++r) {
      auto it = p.rank.find(ranked[r].first);
      d += it == p.rank.end()
               ? kMaxDifference
               : std::min<int64_t>(kMaxDifference, std::abs(static_cast<int64_t>(r) - it->second));
    }
    const double nd = d / max_distance;
    auto [it, inserted] = best.emplace(p.code, nd);
    if (!inserted) it->second = std::min(it->second, nd);
  }
  double min_nd = 1.0;
  for (const auto& [code, nd] : best) min_nd = std::min(min_nd, nd);
  double total = 0;
  for (auto& [code, nd] : best) total += (nd = std::exp(-options_.sharpness * (nd - min_nd)));
  for (const auto& [code, w] : best) (*scores)[code] += static_cast<float>(share * w / total);
}

std::vector<LanguageScore> LanguageIdentifier::Identify(std::string_view utf8) const {
  // Letters by script group; Hiragana and Katakana join Han.
  std::unordered_map<int, std::u32string> letters;
  std::unordered_map<int, int> counts;
  int kana = 0, total = 0;
  int previous_group = -1;  // group of the previous code point when it was a letter
  for (const CodePoint& cp : DecodeUtf8(utf8)) {
    const UChar32 c = static_cast<UChar32>(cp.value);
    int script = ScriptOf(cp.value);
    const bool mark = IsMark(cp.value);
    if (mark && (script == USCRIPT_INHERITED || script == USCRIPT_COMMON)) {
      if (previous_group < 0) continue;
      script = previous_group;
    } else if (!(u_isalpha(c) || mark) || script == USCRIPT_COMMON || script == USCRIPT_INHERITED ||
               script == USCRIPT_UNKNOWN || script < 0) {
      previous_group = -1;
      continue;
    }
    const bool is_kana = script == USCRIPT_HIRAGANA || script == USCRIPT_KATAKANA;
    const int group = is_kana ? USCRIPT_HAN : script;
    std::u32string& buf = letters[group];
    if (previous_group != group && !buf.empty()) buf.push_back(U' ');
    buf.push_back(static_cast<char32_t>(u_tolower(c)));
    previous_group = group;
    if (!mark) {
      ++counts[group];
      ++total;
      kana += is_kana;
    }
  }
  std::unordered_map<std::string, float> scores;
  for (const auto& [group, count] : counts) {
    const float share = static_cast<float>(count) / total;
    int script = group;
    if (group == USCRIPT_HAN && kana * 10 >= count) script = USCRIPT_HIRAGANA;
    if (trigram_profiles_.count(script)) {
      ScoreGroup(script, letters[group], share, &scores);
    } else if (auto it = script_language_.find(script); it != script_language_.end()) {
      scores[it->second] += share;
    }
  }
  std::vector<LanguageScore> out;
  for (const auto& [code, score] : scores) out.push_back({code, std::min(score, 1.0f)});
  std::sort(out.begin(), out.end(), [](const LanguageScore& a, const LanguageScore& b) {
    return a.score != b.score ? a.score > b.score : a.code < b.code;
  });
  size_t keep = 0;
  while (keep < out.size() && keep < static_cast<size_t>(options_.max_results) &&
         (keep == 0 || out[keep].score >= options_.min_score)) {
    ++keep;
  }
  out.resize(keep);
  return out;
}

}  // namespace stratus::text
