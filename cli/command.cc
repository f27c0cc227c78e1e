#include "cli/command.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace stratus::cli {

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    default:
      return kExitFailed;
  }
}

std::string CodeName(absl::StatusCode code) { return absl::AsciiStrToUpper(StatusCodeLabel(code)); }

int ReportError(const absl::Status& status, std::string_view what) {
  std::string reason = ErrorReason(status);
  if (reason.empty()) reason = CodeName(status.code());
  std::cerr << "error: " << what << (what.empty() ? "" : ": ") << reason << ": "
            << status.message() << "\n";
  return ExitCodeFor(status);
}

ClientFlags::ClientFlags(FlagSet& flags, const ServiceDefaults& service)
    : endpoint_(absl::StrCat("localhost:", service.grpc_port)) {
  const std::string env = absl::StrCat("STRATUS_", absl::AsciiStrToUpper(service.name), "_ADDR");
  flags.String("endpoint", env, &endpoint_, absl::StrCat(service.name, " gRPC endpoint HOST:PORT"));
  flags.Int("timeout-ms", "", &timeout_ms_,
            "deadline of each call in milliseconds (default: by kind of call, 10 s to 60 s)");
}

std::optional<std::chrono::milliseconds> ClientFlags::timeout() const {
  if (timeout_ms_ <= 0) return std::nullopt;
  return std::chrono::milliseconds(timeout_ms_);
}

bool ParseFlags(FlagSet& flags, int argc, char** argv, int* exit_code) {
  absl::Status s = flags.Parse(argc, argv);
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    *exit_code = kExitOk;
    return false;
  }
  if (!s.ok()) {
    *exit_code = UsageError(flags, std::string(s.message()));
    return false;
  }
  return true;
}

int UsageError(const FlagSet& flags, std::string_view message) {
  std::cerr << "error: " << message << "\n\n" << flags.Usage();
  return kExitUsage;
}

OutputFlag::OutputFlag(FlagSet& flags, bool table, Output default_format)
    : text_(default_format == Output::kJson    ? "json"
            : default_format == Output::kTable ? "table"
                                               : "lines"),
      table_(table),
      format_(default_format) {
  flags.String("output", "", &text_,
               table ? "lines (one JSON line per result), json (the protobuf JSON mapping of each "
                       "response) or table (aligned columns)"
                     : "lines (one JSON line per result) or json (the protobuf JSON mapping of "
                       "each response)");
}

bool OutputFlag::Resolve(const FlagSet& flags, int* exit_code) {
  const std::string t = absl::AsciiStrToLower(text_);
  if (t == "lines") {
    format_ = Output::kLines;
  } else if (t == "json") {
    format_ = Output::kJson;
  } else if (t == "table" && table_) {
    format_ = Output::kTable;
  } else {
    *exit_code = UsageError(flags, absl::StrCat("--output is lines, json", table_ ? " or table" : "",
                                                ", not '", text_, "'"));
    return false;
  }
  return true;
}

std::string ProtoJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, o);
  return out;
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> width(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  };
  measure(header_);
  for (const auto& r : rows_) measure(r);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      line += cell;
      if (i + 1 < width.size()) line += std::string(width[i] - cell.size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  };
  print(header_);
  for (const auto& r : rows_) print(r);
  out.flush();
}

}  // namespace stratus::cli
