#include "common/flags.h"

#include <cstdlib>
#include <iostream>

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
         if (!absl::SimpleAtob(v, target)) {
           return absl::InvalidArgumentError(absl::StrCat(name, ": not a boolean: '", v, "'"));
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
