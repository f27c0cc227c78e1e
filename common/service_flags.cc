#include "common/service_flags.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/auth/client.h"
#include "common/logging.h"

namespace stratus {

void RegisterCommonServiceFlags(const ServiceDefaults& defaults, bool uses_database,
                                FlagSet& flags, CommonServiceFlags* out) {
  out->host.service_name = defaults.name;
  out->host.grpc_port = defaults.grpc_port;
  out->host.http_port = defaults.http_port;
  // Closed by default: only this machine reaches a service unless told otherwise (the images
  // and the Helm chart set 0.0.0.0).
  out->host.grpc_address = "127.0.0.1";
  flags.Int("grpc-port", "STRATUS_GRPC_PORT", &out->host.grpc_port, "gRPC port (0: any free)");
  flags.Int("http-port", "STRATUS_HTTP_PORT", &out->host.http_port,
            "HTTP port for /metrics, /healthz, /readyz (0: any free, -1: none)");
  flags.String("listen", "STRATUS_LISTEN", &out->host.grpc_address,
               "address to listen on, gRPC and HTTP (0.0.0.0: every interface)");
  flags.String("database-url", "STRATUS_DATABASE_URL", &out->database_url,
               uses_database ? "PostgreSQL URL, e.g. postgresql://user@host:5432/stratus (also "
                               "where the API keys are)"
                             : "PostgreSQL URL of the API keys table (or --api-keys-file)");
  flags.String("api-keys-file", "STRATUS_API_KEYS_FILE", &out->api_keys_file,
               "file of accepted API keys, hashed (`stratus keys hash` prints its lines)");
  flags.Int("auth-refresh-ms", "STRATUS_AUTH_REFRESH_MS", &out->auth_refresh_ms,
            "how often the API keys are re-read (revocation takes effect within this)");
  flags.String("api-key", "STRATUS_API_KEY", &out->api_key,
               "API key this service sends to the services it calls");
  flags.String("tls-cert", "STRATUS_TLS_CERT", &out->host.tls.cert,
               "PEM certificate (chain) to serve gRPC and HTTP over TLS (with --tls-key)");
  flags.String("tls-key", "STRATUS_TLS_KEY", &out->host.tls.key, "PEM private key of --tls-cert");
  flags.String("tls-client-ca", "STRATUS_TLS_CLIENT_CA", &out->host.tls.client_ca,
               "PEM CA: gRPC callers must present a certificate it signed (mTLS)");
  flags.String("tls-ca", "STRATUS_TLS_CA", &out->host.tls.ca,
               "PEM CA to trust when calling other services (their channels use TLS)");
  flags.Duration("grpc-max-connection-age", "STRATUS_GRPC_MAX_CONNECTION_AGE",
                 &out->host.max_connection_age,
                 "clients are asked to reconnect after this long, so that they find new replicas "
                 "(0: never; calls in progress are not cut)");
  flags.Int("drain-ms", "STRATUS_DRAIN_MS", &out->drain_ms,
            "on SIGTERM, how long in-flight RPCs may take to finish");
  flags.String("log-level", "STRATUS_LOG_LEVEL", &out->log_level, "debug|info|warning|error");
  flags.String("log-format", "STRATUS_LOG_FORMAT", &out->log_format, "text|json");
  flags.Bool("access-log", "STRATUS_ACCESS_LOG", &out->access_log,
             "log one line per RPC and per AWS request (logger=access)");
}

absl::Status ApplyCommonServiceFlags(CommonServiceFlags* flags) {
  if (flags->log_level == "debug") {
    SetLogLevel(LogLevel::kDebug);
  } else if (flags->log_level == "info") {
    SetLogLevel(LogLevel::kInfo);
  } else if (flags->log_level == "warning") {
    SetLogLevel(LogLevel::kWarning);
  } else if (flags->log_level == "error") {
    SetLogLevel(LogLevel::kError);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("log-level: unknown level '", flags->log_level,
                                                   "' (debug|info|warning|error)"));
  }
  if (flags->log_format != "text" && flags->log_format != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("log-format: unknown format '", flags->log_format, "' (text|json)"));
  }
  SetLogJson(flags->log_format == "json");
  SetAccessLog(flags->access_log);
  flags->host.http_address = flags->host.grpc_address;
  flags->host.drain_deadline = std::chrono::milliseconds(flags->drain_ms);
  if (absl::Status s = CheckServerFiles(flags->host.tls); !s.ok()) return s;
  if (!flags->host.tls.ca.empty()) {
    absl::Status s = auth::SetDefaultClientTls(
        {.cert = flags->host.tls.cert, .key = flags->host.tls.key, .ca = flags->host.tls.ca});
    if (!s.ok()) return s;
  }
  if (flags->database_url.empty() && flags->api_keys_file.empty()) {
    return absl::InvalidArgumentError(
        "no source of API keys: set --database-url or --api-keys-file");
  }
  absl::StatusOr<std::unique_ptr<auth::KeyStore>> keys = auth::KeyStore::Create(
      {.database_url = flags->database_url,
       .keys_file = flags->api_keys_file,
       .refresh_interval = std::chrono::milliseconds(flags->auth_refresh_ms)});
  if (!keys.ok()) return keys.status();
  flags->host.api_keys = std::move(*keys);
  if (absl::Status s = auth::CheckApiKey(flags->api_key, "--api-key"); !s.ok()) return s;
  auth::SetDefaultApiKey(flags->api_key);
  return absl::OkStatus();
}

bool ParseFlagsOrExit(FlagSet& flags, int argc, char** argv, int* exit_code) {
  absl::Status s = flags.Parse(argc, argv);
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    *exit_code = 0;
    return false;
  }
  if (!s.ok()) {
    std::cerr << "error: " << s.message() << "\n\n" << flags.Usage();
    *exit_code = 2;
    return false;
  }
  return true;
}

}  // namespace stratus
