#include "common/flags.h"

#include <cstdlib>
#include <iostream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/version.h"

namespace stratus {

FlagSet::FlagSet(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void FlagSet::Add(Flag flag) { flags_.push_back(std::move(flag)); }

void FlagSet::String(const std::string& name, const std::string& env, std::string* target,
                     const std::string& help) {
  Add({name, env, help, *target, false, [target](const std::string& v) {
         *target = v;
         return absl::OkStatus();
       }});
}

void FlagSet::Int(const std::string& name, const std::string& env, int* target,
                  const std::string& help) {
  Add({name, env, help, std::to_string(*target), false, [target, name](const std::string& v) {
         if (!absl::SimpleAtoi(v, target)) {
           return absl::InvalidArgumentError(absl::StrCat(name, ": not an integer: '", v, "'"));
         }
         return absl::OkStatus();
       }});
}

void FlagSet::Int64(const std::string& name, const std::string& env, int64_t* target,
                    const std::string& help) {
  Add({name, env, help, std::to_string(*target), false, [target, name](const std::string& v) {
         if (!absl::SimpleAtoi(v, target)) {
           return absl::InvalidArgumentError(absl::StrCat(name, ": not an integer: '", v, "'"));
         }
         return absl::OkStatus();
       }});
}

void FlagSet::Double(const std::string& name, const std::string& env, double* target,
                     const std::string& help) {
  Add({name, env, help, absl::StrCat(*target), false, [target, name](const std::string& v) {
         if (!absl::SimpleAtod(v, target)) {
           return absl::InvalidArgumentError(absl::StrCat(name, ": not a number: '", v, "'"));
         }
         return absl::OkStatus();
       }});
}

void FlagSet::Bool(const std::string& name, const std::string& env, bool* target,
                   const std::string& help) {
  Add({name, env, help, *target ? "true" : "false", true, [target, name](const std::string& v) {
         // SimpleAtob: true/false, yes/no, t/f, y/n, 1/0 (any case); also on/off.
         if (absl::EqualsIgnoreCase(v, "on") || absl::EqualsIgnoreCase(v, "off")) {
           *target = absl::EqualsIgnoreCase(v, "on");
           return absl::OkStatus();
         }
         if (!absl::SimpleAtob(v, target)) {
           return absl::InvalidArgumentError(absl::StrCat(name, ": not a boolean: '", v, "'"));
         }
         return absl::OkStatus();
       }});
}

absl::Status ParseDurationFlag(const std::string& text, std::chrono::seconds* out) {
  int64_t bare = 0;
  if (absl::SimpleAtoi(text, &bare)) {
    if (bare < 0) return absl::InvalidArgumentError(absl::StrCat("negative duration '", text, "'"));
    *out = std::chrono::seconds(bare);
    return absl::OkStatus();
  }
  auto bad = [&text] {
    return absl::InvalidArgumentError(
        absl::StrCat("not a duration: '", text, "' (e.g. 30d, 12h, 1h30m, 90s)"));
  };
  if (text.empty()) return bad();
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start || i == text.size() || i - start > 12) return bad();
    int64_t n = 0;
    if (!absl::SimpleAtoi(text.substr(start, i - start), &n)) return bad();
    int64_t unit = 0;
    switch (text[i]) {
      case 'd':
        unit = 86400;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'm':
        unit = 60;
        break;
      case 's':
        unit = 1;
        break;
      default:
        return bad();
    }
    total += n * unit;
    ++i;
  }
  *out = std::chrono::seconds(total);
  return absl::OkStatus();
}

absl::Status ParseBytesFlag(const std::string& text, int64_t* out) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  int64_t n = 0;
  if (digits == 0 || digits > 15 || !absl::SimpleAtoi(text.substr(0, digits), &n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a size: '", text, "' (e.g. 512MiB, 2G, 1048576)"));
  }
  std::string suffix = text.substr(digits);
  int shift = -1;
  if (suffix.empty() || suffix == "B") shift = 0;
  if (suffix == "K" || suffix == "KiB") shift = 10;
  if (suffix == "M" || suffix == "MiB") shift = 20;
  if (suffix == "G" || suffix == "GiB") shift = 30;
  if (suffix == "T" || suffix == "TiB") shift = 40;
  if (shift < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a size: '", text, "' (suffixes: K, M, G, T or KiB, MiB, GiB, TiB)"));
  }
  if (n > (INT64_MAX >> shift)) {
    return absl::InvalidArgumentError(absl::StrCat("size too large: '", text, "'"));
  }
  *out = n << shift;
  return absl::OkStatus();
}

std::string FormatDurationFlag(std::chrono::seconds d) {
  int64_t s = d.count();
  if (s == 0) return "0";
  std::string out;
  for (auto [unit, name] :
       {std::pair<int64_t, const char*>{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}) {
    if (s >= unit) {
      absl::StrAppend(&out, s / unit, name);
      s %= unit;
    }
  }
  return out;
}

std::string FormatBytesFlag(int64_t bytes) {
  if (bytes == 0) return "0";
  for (auto [shift, name] :
       {std::pair<int, const char*>{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}}) {
    if (bytes % (int64_t{1} << shift) == 0) return absl::StrCat(bytes >> shift, name);
  }
  return std::to_string(bytes);
}

void FlagSet::Duration(const std::string& name, const std::string& env,
                       std::chrono::seconds* target, const std::string& help) {
  Add({name, env, help, FormatDurationFlag(*target), false, [target, name](const std::string& v) {
         if (auto s = ParseDurationFlag(v, target); !s.ok()) {
           return absl::InvalidArgumentError(absl::StrCat(name, ": ", s.message()));
         }
         return absl::OkStatus();
       }});
}

void FlagSet::Bytes(const std::string& name, const std::string& env, int64_t* target,
                    const std::string& help) {
  Add({name, env, help, FormatBytesFlag(*target), false, [target, name](const std::string& v) {
         if (auto s = ParseBytesFlag(v, target); !s.ok()) {
           return absl::InvalidArgumentError(absl::StrCat(name, ": ", s.message()));
         }
         return absl::OkStatus();
       }});
}

void FlagSet::StringList(const std::string& name, const std::string& env,
                         std::vector<std::string>* target, const std::string& help) {
  Flag f{name, env, help, "", false, [target](const std::string& v) {
           target->push_back(v);
           return absl::OkStatus();
         }};
  f.is_list = true;
  f.reset = [target] { target->clear(); };
  Add(std::move(f));
}

void FlagSet::StringMap(const std::string& name, const std::string& env,
                        std::map<std::string, std::string>* target, const std::string& help) {
  Flag f{name, env, help, "", false, [name, target](const std::string& v) {
           const size_t eq = v.find('=');
           if (eq == std::string::npos || eq == 0) {
             return absl::InvalidArgumentError(
                 absl::StrCat("--", name, " takes NAME=VALUE, not '", v, "'"));
           }
           (*target)[v.substr(0, eq)] = v.substr(eq + 1);
           return absl::OkStatus();
         }};
  f.is_list = true;
  f.reset = [target] { target->clear(); };
  Add(std::move(f));
}

absl::Status FlagSet::Parse(int argc, char** argv, int first) {
  // Environment first, so that flags override it.
  for (auto& f : flags_) {
    if (f.env.empty()) continue;
    const char* v = std::getenv(f.env.c_str());
    if (v == nullptr || *v == '\0') continue;
    if (f.is_list) {
      for (auto part : absl::StrSplit(v, ',', absl::SkipEmpty())) {
        auto s = f.set(std::string(part));
        if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("$", f.env, ": ", s.message()));
      }
    } else if (auto s = f.set(v); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("$", f.env, ": ", s.message()));
    }
  }
  bool flags_done = false;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (flags_done || arg.size() < 2 || arg[0] != '-' || arg == "-") {
      positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      help_ = true;
      continue;
    }
    if (arg == "--version") {
      std::cout << program_ << " " << Version() << " (" << Revision() << ")\n";
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag '", arg, "'"));
    }
    std::string body = arg.substr(2);
    std::string name = body, value;
    bool has_value = false;
    if (auto eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    Flag* flag = nullptr;
    bool negated = false;
    for (auto& f : flags_) {
      if (f.name == name) flag = &f;
      if (f.is_bool && "no-" + f.name == name) {
        flag = &f;
        negated = true;
      }
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag '--", name, "'"));
    }
    if (flag->is_bool && !has_value) {
      value = negated ? "false" : "true";
    } else if (!has_value) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat("flag '--", name, "' needs a value"));
      }
      value = argv[++i];
    }
    if (flag->is_list && !flag->seen_on_command_line) {
      // The command line replaces, rather than extends, a list given in the environment.
      flag->seen_on_command_line = true;
      flag->reset();
    }

    if (auto s = flag->set(value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string FlagSet::Usage() const {
  std::string out = absl::StrCat("usage: ", program_, " [flags]\n", summary_,
                                 "\n\nflags (and --help, --version):\n");
  for (const auto& f : flags_) {
    absl::StrAppend(&out, "  --", f.name, f.is_bool ? "" : "=VALUE");
    if (!f.env.empty()) absl::StrAppend(&out, "  ($", f.env, ")");
    absl::StrAppend(&out, "\n      ", f.help);
    if (!f.default_text.empty()) absl::StrAppend(&out, " (default: ", f.default_text, ")");
    out += "\n";
  }
  return out;
}

}  // namespace stratus
