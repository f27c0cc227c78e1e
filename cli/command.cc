#include "cli/command.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace stratus::cli {

int ExitCodeFor(const grpc::Status& status) {
  if (status.ok()) return kExitOk;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return kExitUnavailable;
    default:
      return kExitFailed;
  }
}

std::string CodeName(grpc::StatusCode code) {
  return absl::AsciiStrToUpper(StatusCodeLabel(static_cast<absl::StatusCode>(code)));
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
