// What every `stratus` command shares: its flag parsing (one FlagSet per command, parsed by
// ParseFlags), the flags and client of the service it calls (ClientFlags), its one way of
// reporting an error (ReportError) and exit codes, and its output formats (--output).
// docs/cli.md documents them.
#ifndef STRATUS_CLI_COMMAND_H_
#define STRATUS_CLI_COMMAND_H_

#include <google/protobuf/message.h>

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "clients/cpp/service_client.h"
#include "common/flags.h"
#include "common/service_flags.h"

namespace stratus::cli {

// Exit codes of every command.
inline constexpr int kExitOk = 0;           // everything asked for was done
inline constexpr int kExitFailed = 1;       // the service refused or failed (some of) the work
inline constexpr int kExitUsage = 2;        // bad flags or arguments; nothing was sent
inline constexpr int kExitUnavailable = 3;  // the service could not be reached in time

// kExitUnavailable for UNAVAILABLE and DEADLINE_EXCEEDED (nothing answered), else kExitFailed.
int ExitCodeFor(const absl::Status& status);
// "INVALID_ARGUMENT", "NOT_FOUND", ...
std::string CodeName(absl::StatusCode code);
// Prints "error: [WHAT: ]REASON: MESSAGE" to stderr, REASON being the service's
// machine-readable reason (e.g. ResourceNotFoundException) or else the code's name; returns
// ExitCodeFor(status). The one way a command reports a failed call or input.
int ReportError(const absl::Status& status, std::string_view what = "");

// --endpoint and --timeout-ms, the flags of every command that calls a service. The endpoint
// defaults to $STRATUS_<SERVICE>_ADDR, else localhost:<the service's port>; the timeout to the
// deadline of each call's kind (DefaultTimeout()).
class ClientFlags {
 public:
  ClientFlags(FlagSet& flags, const ServiceDefaults& service);
  const std::string& endpoint() const { return endpoint_; }
  // Unset unless --timeout-ms was given.
  std::optional<std::chrono::milliseconds> timeout() const;
  // The typed client of the service (clients/cpp/service_client.h).
  template <typename Service>
  clients::ServiceClient<Service> Client(int max_message_bytes = kDefaultMaxMessageBytes) const {
    return clients::ServiceClient<Service>(typename clients::ServiceClient<Service>::Options{
        .address = endpoint_, .timeout = timeout(), .max_message_bytes = max_message_bytes});
  }

 private:
  std::string endpoint_;
  int timeout_ms_ = 0;
};

// Parses argv[1..argc) into `flags`. false when the command should stop with *exit_code:
// --help printed the usage to stdout (0), or a malformed flag printed the error and the usage to
// stderr (kExitUsage).
bool ParseFlags(FlagSet& flags, int argc, char** argv, int* exit_code);
// Prints "error: MESSAGE" and the usage to stderr; returns kExitUsage.
int UsageError(const FlagSet& flags, std::string_view message);

// --output: how a command prints its results. kLines is each command's own one-line JSON per
// result (the default, what scripts parse today); kJson is the protobuf JSON mapping of each
// response message, one per line; kTable is aligned columns under a header.
enum class Output { kLines, kJson, kTable };
class OutputFlag {
 public:
  // Registers --output on `flags`; `table` says whether the command can print a table;
  // `default_format` is what it prints without the flag.
  OutputFlag(FlagSet& flags, bool table = true, Output default_format = Output::kLines);
  // After ParseFlags: the format, or false (and a usage error printed, *exit_code set) when the
  // value is not one this command prints.
  bool Resolve(const FlagSet& flags, int* exit_code);
  Output format() const { return format_; }

 private:
  std::string text_ = "lines";
  bool table_;
  Output format_ = Output::kLines;
};

// The protobuf JSON mapping of `message` on one line (proto field names, enums by name).
std::string ProtoJson(const google::protobuf::Message& message);

// Aligned columns: Print pads each column to its widest cell, two spaces apart.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace stratus::cli

#endif  // STRATUS_CLI_COMMAND_H_
