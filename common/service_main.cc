#include "common/service_main.h"

#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/metrics.h"

namespace stratus {
namespace {

int WiringError(const absl::Status& status) {
  std::cerr << "error: " << status.message() << "\n";
  return 2;
}

}  // namespace

ServiceContext::~ServiceContext() {
  // Newest first: what was made later may point at what was made earlier.
  while (!kept_.empty()) kept_.pop_back();
}

absl::StatusOr<Database*> ServiceContext::database() {
  if (db_ != nullptr) return db_.get();
  if (common_->database_url.empty()) {
    return absl::FailedPreconditionError("this service has no database (--database-url)");
  }
  absl::StatusOr<std::unique_ptr<Database>> db =
      Database::Create({.url = common_->database_url, .pool_size = 8});
  if (!db.ok()) return db.status();
  db_ = std::move(*db);
  return db_.get();
}

ServiceMain::ServiceMain(ServiceSpec spec)
    : spec_(std::move(spec)), flags_(spec_.binary, spec_.summary) {
  RegisterCommonServiceFlags(spec_.defaults, spec_.uses_database, flags_, &common_);
  if (!spec_.aws_service.empty()) {
    flags_.String("access-key-id", "STRATUS_AWS_ACCESS_KEY_ID", &aws_credentials_.access_key_id,
                  "access key id accepted on the AWS endpoint (with --secret-access-key)");
    flags_.String("secret-access-key", "STRATUS_AWS_SECRET_ACCESS_KEY",
                  &aws_credentials_.secret_access_key, "its secret");
    flags_.String("credentials-file", "STRATUS_AWS_CREDENTIALS_FILE",
                  &aws_credentials_.shared_credentials_file,
                  "AWS shared-credentials file (profile 'stratus'); generated when missing");
  }
}

absl::Status ServiceMain::OpenAwsEndpoint(ServiceContext& ctx) {
  if (spec_.aws_service.empty()) return absl::OkStatus();
  const bool have_keys = !aws_credentials_.access_key_id.empty() ||
                         !aws_credentials_.secret_access_key.empty() ||
                         !aws_credentials_.shared_credentials_file.empty();
  if (!have_keys || ctx.host_->http() == nullptr) {
    SLOG(WARNING) << "no AWS access keys configured (--access-key-id/--secret-access-key or "
                     "--credentials-file): the AWS JSON endpoint is off, gRPC only";
    return absl::OkStatus();
  }
  aws_credentials_.create_if_missing = !aws_credentials_.shared_credentials_file.empty();
  absl::StatusOr<aws::AwsCredentials> creds = aws::LoadCredentials(aws_credentials_);
  if (!creds.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("AWS credentials: ", creds.status().message()));
  }
  if (absl::Status s = ctx.aws_keys_.Add(*creds); !s.ok()) return s;
  aws::AwsJsonEndpoint::Options options;
  options.credentials = &ctx.aws_keys_;
  options.sigv4.service = spec_.aws_service;
  options.errors = spec_.aws_service == "comprehend" ? aws::ComprehendErrorDefaults()
                                                     : aws::RekognitionErrorDefaults();
  options.metrics = &ctx.metrics();
  absl::StatusOr<std::unique_ptr<aws::AwsJsonEndpoint>> endpoint =
      aws::AwsJsonEndpoint::Create(options);
  if (!endpoint.ok()) return endpoint.status();
  ctx.endpoint_ = std::move(*endpoint);
  return absl::OkStatus();
}

int ServiceMain::Run(int argc, char** argv, const Wire& wire) {
  int exit_code = 0;
  if (!ParseFlagsOrExit(flags_, argc, argv, &exit_code)) return exit_code;
  if (absl::Status s = ApplyCommonServiceFlags(&common_); !s.ok()) return WiringError(s);
  if (spec_.uses_database && common_.database_url.empty()) {
    return WiringError(
        absl::InvalidArgumentError("--database-url (or STRATUS_DATABASE_URL) is required"));
  }
  ServiceContext ctx;
  ctx.common_ = &common_;
  absl::StatusOr<std::unique_ptr<ServiceHost>> host = ServiceHost::Create(common_.host);
  if (!host.ok()) return WiringError(host.status());
  ctx.host_ = std::move(*host);
  metrics::RegisterProcessMetrics(ctx.metrics());
  if (absl::Status s = OpenAwsEndpoint(ctx); !s.ok()) return WiringError(s);
  if (absl::Status s = wire(ctx); !s.ok()) return WiringError(s);
  if (ctx.endpoint_ != nullptr) ctx.endpoint_->Install(ctx.host_->http());
  if (absl::Status s = ctx.host_->Start(); !s.ok()) {
    SLOG(ERROR) << "cannot start" << Kv("error", s.message());
    return 1;
  }
  SLOG(INFO) << spec_.defaults.name << " serving" << Kv("grpc_port", ctx.host_->grpc_port())
             << Kv("http_port", ctx.host_->http_port())
             << Kv("aws", ctx.endpoint_ != nullptr);
  for (const auto& fn : ctx.on_started_) fn();
  ServiceHost::InstallSignalHandlers(ctx.host_.get());
  ctx.host_->Wait();
  for (const auto& fn : ctx.on_stopped_) fn();
  return 0;
}

}  // namespace stratus
