// Language identification accuracy on held-out sentences: the translated messages of the gettext
// catalogues (.mo) installed under --locale-dir (Debian's /usr/share/locale: coreutils, apt,
// glibc, git, ... as translated by each language's team), a source apart from the profiles'
// (translations of the Universal Declaration of Human Rights). English is scored on the
// catalogues' original strings (msgid). Per language, up to --per-language messages with at
// least --min-chars letters are taken (evenly spaced over the sorted, de-duplicated messages),
// after removing printf directives, markup and line breaks. A language counts only when the
// profiles know it and --min-messages of its messages remain. Prints per-language top-1 accuracy,
// then overall accuracy (micro and macro) and by length. --split picks the catalogues by file
// name (dev: a-k, test: the rest), so that a choice made on one half can be measured on the other.
//   stratus-bench-language [--profiles FILE] [--locale-dir DIR] [--per-language N]
//                          [--split all|dev|test] [--scoring out-of-place|zipf] [--text TEXT]
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/flags.h"
#include "common/paths.h"
#include "services/sentiment/text/language_id.h"
#include "services/sentiment/text/utf8.h"

namespace {

namespace fs = std::filesystem;

struct Message {
  std::string id;
  std::string str;
};

uint32_t Read32(const std::string& b, size_t at, bool swap) {
  if (at + 4 > b.size()) return 0;
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return swap ? __builtin_bswap32(v) : v;
}

// The (msgid, first msgstr) pairs of a GNU .mo file; empty when it does not parse.
std::vector<Message> ReadMo(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string b = ss.str();
  std::vector<Message> out;
  if (b.size() < 28) return out;
  const uint32_t magic = Read32(b, 0, false);
  const bool swap = magic == 0xde120495u;
  if (!swap && magic != 0x950412deu) return out;
  const uint32_t n = Read32(b, 8, swap), orig = Read32(b, 12, swap), trans = Read32(b, 16, swap);
  auto entry = [&](uint32_t table, uint32_t i) -> std::string {
    const uint32_t len = Read32(b, table + 8 * i, swap), off = Read32(b, table + 8 * i + 4, swap);
    if (static_cast<size_t>(off) + len > b.size()) return "";
    std::string s = b.substr(off, len);
    return s.substr(0, s.find('\0'));  // first of the plural forms
  };
  for (uint32_t i = 0; i < n && i < 1000000; ++i) out.push_back({entry(orig, i), entry(trans, i)});
  return out;
}

// Without printf directives, <markup>, `quoted' or "quoted" command names and line breaks.
std::string Clean(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      size_t j = i + 1;
      while (j < s.size() && std::strchr("0123456789$-+ #.*'hlLqjzt", s[j])) ++j;
      i = j;  // the conversion letter
      out.push_back(' ');
      continue;
    }
    if (c == '<') {
      const size_t close = s.find('>', i);
      if (close != std::string::npos) {
        i = close;
        out.push_back(' ');
        continue;
      }
    }
    if (c == '\n' || c == '\t' || c == '\r' || c == '_' || c == '&') {
      out.push_back(' ');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

int Letters(const std::string& s) {
  int n = 0;
  for (const auto& cp : stratus::text::DecodeUtf8(s)) {
    n += cp.value > 0x7F || (cp.value | 0x20) - 'a' < 26u;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::string profiles = stratus::DefaultModelDir() + "/language/profiles.tsv";
  std::string locale_dir = "/usr/share/locale";
  int per_language = 200, min_chars = 20, min_messages = 50;
  std::string split = "all", scoring = "zipf", one_text;
  stratus::FlagSet flags("stratus-bench-language",
                         "Language identification accuracy on gettext catalogues.");
  flags.String("profiles", "", &profiles, "profile file (make models)");
  flags.String("locale-dir", "", &locale_dir, "folder of <lang>/LC_MESSAGES/*.mo");
  flags.Int("per-language", "", &per_language, "messages per language at most");
  flags.Int("min-chars", "", &min_chars, "letters a message needs at least");
  flags.Int("min-messages", "", &min_messages, "messages a language needs to be scored");
  flags.String("split", "", &split,
               "catalogues used: dev (file names a-k), test (l-z, and others) or all");
  flags.String("scoring", "", &scoring, "out-of-place or zipf (LanguageIdentifier::Options)");
  flags.String("text", "", &one_text, "print the candidates for this one text instead");
  if (auto s = flags.Parse(argc, argv); !s.ok()) {
    std::cerr << s << "\n" << flags.Usage();
    return 2;
  }
  stratus::text::LanguageIdentifier::Options options{.profiles_path = profiles};
  using Scoring = stratus::text::LanguageIdentifier::Options::Scoring;
  options.scoring = scoring == "zipf" ? Scoring::kZipfLikelihood : Scoring::kOutOfPlace;
  if (split != "all" && split != "dev" && split != "test") {
    std::cerr << "--split: dev, test or all\n";
    return 2;
  }
  auto id = stratus::text::LanguageIdentifier::Create(options);
  if (!id.ok()) {
    std::cerr << id.status() << "\n";
    return 1;
  }
  if (!one_text.empty()) {
    for (const auto& l : (*id)->Identify(one_text)) std::cout << l.code << " " << l.score << "\n";
    return 0;
  }
  const std::vector<std::string> known_list = (*id)->Languages();
  const std::set<std::string> known(known_list.begin(), known_list.end());

  // Messages by language: the folder's name up to '_' or '@' (pt_BR -> pt, sr@latin -> sr).
  std::map<std::string, std::set<std::string>> messages;
  std::error_code ec;
  for (const auto& dir : fs::directory_iterator(locale_dir, ec)) {
    const std::string name = dir.path().filename();
    const std::string lang = name.substr(0, name.find_first_of("_@"));
    if (lang == "en" || !known.count(lang)) continue;
    for (const auto& mo : fs::directory_iterator(dir.path() / "LC_MESSAGES", ec)) {
      if (mo.path().extension() != ".mo") continue;
      // iso-codes' catalogues are lists of names, not sentences.
      const std::string file = mo.path().filename().string();
      if (file.rfind("iso_", 0) == 0) continue;
      const bool dev = file[0] >= 'a' && file[0] <= 'k';
      if ((split == "dev" && !dev) || (split == "test" && dev)) continue;
      for (const Message& m : ReadMo(mo.path())) {
        if (m.id.empty() || m.str.empty() || m.str == m.id) continue;
        std::string t = Clean(m.str);
        if (Letters(t) >= min_chars) messages[lang].insert(t);
        if (name == "de") {  // English: the originals of one language's catalogues
          std::string e = Clean(m.id);
          if (Letters(e) >= min_chars) messages["en"].insert(e);
        }
      }
    }
  }
  if (ec) std::cerr << "warning: " << ec.message() << "\n";

  struct Tally {
    int n = 0, right = 0;
  };
  std::map<std::string, Tally> by_language;
  std::map<std::string, std::map<std::string, int>> confusions;
  Tally by_length[3];  // < 50, 50-99, >= 100 letters
  for (const auto& [lang, set] : messages) {
    if (static_cast<int>(set.size()) < min_messages) continue;
    std::vector<std::string> all(set.begin(), set.end());
    const size_t take = std::min<size_t>(all.size(), per_language);
    for (size_t k = 0; k < take; ++k) {
      const std::string& t = all[k * all.size() / take];
      auto r = (*id)->Identify(t);
      const bool right = !r.empty() && r[0].code == lang;
      Tally& tl = by_language[lang];
      ++tl.n, tl.right += right;
      const int letters = Letters(t);
      Tally& lb = by_length[letters < 50 ? 0 : letters < 100 ? 1 : 2];
      ++lb.n, lb.right += right;
      if (!right) ++confusions[lang][r.empty() ? "(none)" : r[0].code];
    }
  }
  std::cout << absl::StrFormat(
      "profiles: %s (%s)\nscoring: %s; catalogues: %s\nlanguages in profiles: %d; scored: %d\n",
      profiles, (*id)->source(), scoring, split, known.size(), by_language.size());
  std::cout << absl::StrFormat("%-6s %6s %9s  %s\n", "lang", "n", "accuracy", "most confused with");
  int n = 0, right = 0;
  double macro = 0;
  for (const auto& [lang, t] : by_language) {
    std::string worst;
    int worst_n = 0;
    for (const auto& [other, c] : confusions[lang]) {
      if (c > worst_n) worst = other, worst_n = c;
    }
    std::cout << absl::StrFormat("%-6s %6d %8.1f%%  %s\n", lang, t.n, 100.0 * t.right / t.n,
                                 worst_n ? absl::StrFormat("%s (%d)", worst, worst_n) : "");
    n += t.n, right += t.right;
    macro += static_cast<double>(t.right) / t.n;
  }
  if (n == 0) {
    std::cout << "no messages found under " << locale_dir << "\n";
    return 1;
  }
  std::cout << absl::StrFormat(
      "overall: %d messages, micro accuracy %.2f%%, macro %.2f%% over %d languages\n", n,
      100.0 * right / n, 100.0 * macro / by_language.size(), by_language.size());
  const char* names[] = {"<50 letters", "50-99", ">=100"};
  for (int i = 0; i < 3; ++i) {
    if (by_length[i].n) {
      std::cout << absl::StrFormat("  %-12s %6d messages %6.2f%%\n", names[i], by_length[i].n,
                                   100.0 * by_length[i].right / by_length[i].n);
    }
  }
  return 0;
}
