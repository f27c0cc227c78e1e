#include "common/aws/aws_error.h"

#include <optional>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace stratus::aws {
namespace {

// The payload holds "<http status> <exception name>".
constexpr char kPayloadUrl[] = "type.stratus.dev/aws-error";

absl::StatusCode DeriveCode(int http_status, absl::string_view type) {
  if (absl::StrContains(type, "Throttling")) return absl::StatusCode::kResourceExhausted;
  if (http_status == 503) return absl::StatusCode::kUnavailable;
  if (http_status >= 500) return absl::StatusCode::kInternal;
  if (absl::StrContains(type, "NotFound")) return absl::StatusCode::kNotFound;
  if (absl::StrContains(type, "AlreadyExists") || absl::StrContains(type, "InUse")) {
    return absl::StatusCode::kAlreadyExists;
  }
  if (absl::StrContains(type, "Throttling") || absl::StrContains(type, "TooManyRequests") ||
      absl::StrContains(type, "ThroughputExceeded") || absl::StrContains(type, "QuotaExceeded") ||
      (absl::StrContains(type, "LimitExceeded") && !absl::StrContains(type, "SizeLimit"))) {
    return absl::StatusCode::kResourceExhausted;
  }
  if (absl::StrContains(type, "AccessDenied")) return absl::StatusCode::kPermissionDenied;
  if (absl::StrContains(type, "Signature") || absl::StrContains(type, "UnrecognizedClient") ||
      absl::StrContains(type, "AuthenticationToken")) {
    return absl::StatusCode::kUnauthenticated;
  }
  return absl::StatusCode::kInvalidArgument;
}

struct Payload {
  int http_status;
  std::string type;
};

std::optional<Payload> GetPayload(const absl::Status& status) {
  absl::optional<absl::Cord> cord = status.GetPayload(kPayloadUrl);
  if (!cord) return std::nullopt;
  std::string text(*cord);
  size_t space = text.find(' ');
  if (space == std::string::npos) return std::nullopt;
  Payload p;
  if (!absl::SimpleAtoi(text.substr(0, space), &p.http_status)) return std::nullopt;
  p.type = text.substr(space + 1);
  return p;
}

}  // namespace

absl::Status AwsError(int http_status, absl::string_view type, absl::string_view message) {
  return AwsError(DeriveCode(http_status, type), http_status, type, message);
}

absl::Status AwsError(absl::StatusCode code, int http_status, absl::string_view type,
                      absl::string_view message) {
  if (code == absl::StatusCode::kOk) code = absl::StatusCode::kUnknown;
  absl::Status status(code, message);
  status.SetPayload(kPayloadUrl, absl::Cord(absl::StrCat(http_status, " ", type)));
  return status;
}

const std::vector<AwsErrorRow>& AwsErrorTable() {
  using C = absl::StatusCode;
  static const auto* table = new std::vector<AwsErrorRow>{
      {C::kInvalidArgument,
       {400, "InvalidParameterException"},
       {400, "InvalidRequestException"},
       false},
      {C::kFailedPrecondition,
       {400, "InvalidParameterException"},
       {400, "InvalidRequestException"},
       false},
      {C::kOutOfRange, {400, "InvalidParameterException"}, {400, "InvalidRequestException"}, false},
      {C::kUnimplemented,
       {400, "InvalidParameterException"},
       {400, "InvalidRequestException"},
       false},
      {C::kNotFound, {400, "ResourceNotFoundException"}, {400, "ResourceNotFoundException"}, false},
      {C::kAlreadyExists,
       {400, "ResourceAlreadyExistsException"},
       {400, "ResourceInUseException"},
       false},
      {C::kPermissionDenied, {400, "AccessDeniedException"}, {400, "AccessDeniedException"}, false},
      {C::kUnauthenticated, {400, "AccessDeniedException"}, {400, "AccessDeniedException"}, false},
      {C::kResourceExhausted,
       {500, "ThrottlingException"},
       {400, "TooManyRequestsException"},
       true},
      {C::kUnavailable,
       {503, "ServiceUnavailableException"},
       {503, "ServiceUnavailableException"},
       true},
      {C::kDeadlineExceeded,
       {503, "ServiceUnavailableException"},
       {503, "ServiceUnavailableException"},
       true},
      {C::kAborted,
       {503, "ServiceUnavailableException"},
       {503, "ServiceUnavailableException"},
       true},
  };
  return *table;
}

AwsErrorDefaults RekognitionErrorDefaults() {
  AwsErrorDefaults d;
  for (const AwsErrorRow& row : AwsErrorTable()) d.by_code[row.code] = row.rekognition;
  d.fallback = {500, "InternalServerError"};
  return d;
}

AwsErrorDefaults ComprehendErrorDefaults() {
  AwsErrorDefaults d;
  for (const AwsErrorRow& row : AwsErrorTable()) d.by_code[row.code] = row.comprehend;
  d.fallback = {500, "InternalServerException"};
  return d;
}

AwsErrorInfo ToAwsError(const absl::Status& status, const AwsErrorDefaults& defaults) {
  AwsErrorInfo info;
  info.message = std::string(status.message());
  if (std::optional<Payload> p = GetPayload(status)) {
    info.http_status = p->http_status;
    info.type = std::move(p->type);
    return info;
  }
  auto it = defaults.by_code.find(status.code());
  const AwsErrorDefaults::Entry& e = it == defaults.by_code.end() ? defaults.fallback : it->second;
  info.http_status = e.http_status;
  info.type = e.type;
  return info;
}

bool IsAwsError(const absl::Status& status, absl::string_view type) {
  std::optional<Payload> p = GetPayload(status);
  return p && p->type == type;
}

}  // namespace stratus::aws
