// Command-line flags with environment fallbacks, read in main.cc only.
//
//   FlagSet flags("stratus-detector", "Serves object and face detection.");
//   flags.Int("grpc-port", "STRATUS_GRPC_PORT", &options.grpc_port, "gRPC port");
//   if (auto s = flags.Parse(argc, argv); !s.ok()) { ...print s and flags.Usage()... }
//
// Precedence: default (the target's value before Parse), then the environment variable, then
// the flag. Flags are `--name=value` or `--name value`; booleans also `--name` / `--no-name`,
// and take true/false, yes/no, on/off, 1/0 (any case).
// Anything not starting with `--` is positional; `--` ends flag parsing. Unknown flags and
// malformed values are errors naming the flag (or variable) and the bad value.
//
// Durations are a sequence of <integer><unit>, units d, h, m, s (e.g. "30d", "1h30m", "90s");
// a bare integer is seconds. Sizes are an integer with an optional binary suffix K, M, G, T
// (or KiB, MiB, GiB, TiB; powers of 1024); a bare integer is bytes.
#ifndef STRATUS_COMMON_FLAGS_H_
#define STRATUS_COMMON_FLAGS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace stratus {

class FlagSet {
 public:
  FlagSet(std::string program, std::string summary);

  void String(const std::string& name, const std::string& env, std::string* target,
              const std::string& help);
  void Int(const std::string& name, const std::string& env, int* target, const std::string& help);
  void Int64(const std::string& name, const std::string& env, int64_t* target,
             const std::string& help);
  void Double(const std::string& name, const std::string& env, double* target,
              const std::string& help);
  void Bool(const std::string& name, const std::string& env, bool* target, const std::string& help);
  // A duration such as "30d" or "1h30m" (see above), whole seconds, not negative.
  void Duration(const std::string& name, const std::string& env, std::chrono::seconds* target,
                const std::string& help);
  // A size in bytes such as "512MiB" or "2G" (see above), not negative.
  void Bytes(const std::string& name, const std::string& env, int64_t* target,
             const std::string& help);
  // A repeatable flag; each occurrence appends. The environment variable is comma-separated.
  void StringList(const std::string& name, const std::string& env, std::vector<std::string>* target,
                  const std::string& help);
  // A repeatable NAME=VALUE flag (split at the first '='; NAME non-empty); a later NAME
  // replaces an earlier one. The environment variable is comma-separated.
  void StringMap(const std::string& name, const std::string& env,
                 std::map<std::string, std::string>* target, const std::string& help);

  // Parses argv[first..argc). `help` is set when --help or -h was given. --version prints
  // "<program> <version> (<revision>)" to stdout and exits 0, as absl's flags do.
  absl::Status Parse(int argc, char** argv, int first = 1);

  const std::vector<std::string>& positional() const { return positional_; }
  bool help_requested() const { return help_; }
  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    std::string env;
    std::string help;
    std::string default_text;
    bool is_bool = false;
    std::function<absl::Status(const std::string&)> set;
    bool seen_on_command_line = false;
    bool is_list = false;
    std::function<void()> reset;  // lists: forget values from the environment
  };
  void Add(Flag flag);

  std::string program_;
  std::string summary_;
  std::vector<Flag> flags_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

// The parsers behind Duration() and Bytes(), and the forms Usage() prints defaults in
// ("7d", "2GiB"). INVALID_ARGUMENT on anything else.
absl::Status ParseDurationFlag(const std::string& text, std::chrono::seconds* out);
absl::Status ParseBytesFlag(const std::string& text, int64_t* out);
std::string FormatDurationFlag(std::chrono::seconds d);
std::string FormatBytesFlag(int64_t bytes);

}  // namespace stratus

#endif  // STRATUS_COMMON_FLAGS_H_
