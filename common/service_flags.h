// The flags every service binary shares, registered by its main.cc:
//   --grpc-port ($STRATUS_GRPC_PORT), --http-port ($STRATUS_HTTP_PORT), --listen ($STRATUS_LISTEN,
//   default 127.0.0.1: loopback only),
//   --database-url ($STRATUS_DATABASE_URL), --drain-ms, --log-level, --log-format,
//   --access-log ($STRATUS_ACCESS_LOG, default on; --no-access-log or =off: no access log lines,
//   see docs/observability.md), and for API
//   keys --api-keys-file, --auth-refresh-ms and --api-key (see common/auth/key_store.h);
//   for TLS --tls-cert ($STRATUS_TLS_CERT), --tls-key ($STRATUS_TLS_KEY): serve gRPC and HTTP
//   over TLS with these PEM files; --tls-client-ca ($STRATUS_TLS_CLIENT_CA): also require gRPC
//   callers' certificates signed by this CA (mTLS); --tls-ca ($STRATUS_TLS_CA): the CA to trust
//   when calling other services (their channels are then TLS, presenting --tls-cert/--tls-key
//   as client certificate). Without them everything is plain text, as before.
// Default ports (also used by `stratus up` and every client command):
//   gRPC ingest 50051, detector 50052, recognition 50053, mask 50054, sentiment 50055,
//   console 50056; HTTP 8081..8086 in the same order.
#ifndef STRATUS_COMMON_SERVICE_FLAGS_H_
#define STRATUS_COMMON_SERVICE_FLAGS_H_

#include <string>

#include "common/flags.h"
#include "common/service_host.h"

namespace stratus {

struct ServiceDefaults {
  const char* name;
  int grpc_port;
  int http_port;
};

inline constexpr ServiceDefaults kIngestDefaults{"ingest", 50051, 8081};
inline constexpr ServiceDefaults kDetectorDefaults{"detector", 50052, 8082};
inline constexpr ServiceDefaults kRecognitionDefaults{"recognition", 50053, 8083};
inline constexpr ServiceDefaults kMaskDefaults{"mask", 50054, 8084};
inline constexpr ServiceDefaults kSentimentDefaults{"sentiment", 50055, 8085};
inline constexpr ServiceDefaults kConsoleDefaults{"console", 50056, 8086};

struct CommonServiceFlags {
  ServiceHost::Options host;
  std::string database_url;    // the service's database and the API keys table; may be ""
  std::string api_keys_file;   // static API keys (hashed); "" for none
  int auth_refresh_ms = 2000;  // how often the keys are re-read
  std::string api_key;         // sent on calls to other services
  int drain_ms = 10000;
  std::string log_level = "info";  // debug | info | warning | error
  std::string log_format = "text"; // text | json
  bool access_log = true;          // one line per RPC / AWS request (common/logging.h)
};

// Sets defaults from `defaults` and registers the flags on `flags`.
void RegisterCommonServiceFlags(const ServiceDefaults& defaults, bool uses_database,
                                FlagSet& flags, CommonServiceFlags* out);

// After FlagSet::Parse: applies log settings (level, format, access log), copies drain_ms into host options, opens the API
// key store (host.api_keys; INVALID_ARGUMENT when neither a database nor a keys file is set),
// checks the TLS files (INVALID_ARGUMENT naming the file and what is wrong with it), makes
// --api-key the process's default client key and --tls-ca its client TLS (common/auth/client.h).
absl::Status ApplyCommonServiceFlags(CommonServiceFlags* flags);

// Parses the flags, printing usage on --help (exit 0) or a clear error on bad input (exit 2).
// Returns false when main should return `*exit_code`.
bool ParseFlagsOrExit(FlagSet& flags, int argc, char** argv, int* exit_code);

}  // namespace stratus

#endif  // STRATUS_COMMON_SERVICE_FLAGS_H_
