// The console's HTTP surface (docs/console/api.md is the contract): sessions, the JSON-to-gRPC
// bridge, the live channels (server-sent events of a stream's events and analysed frames),
// event snapshots, the cost report and the built front end, all on the service's HTTP port.
//
// Access: every /api/ route but POST /api/session needs a session cookie (or, for scripts, an
// `Authorization: Bearer <key>` header, which needs no CSRF token since browsers never send it
// by themselves); state-changing methods need X-CSRF-Token with the session's token. Calls go
// out with the session's key, so the platform's scopes apply unchanged.
// Errors are JSON {"error":{"code","message","reason","metadata"}} with the HTTP status of the
// gRPC code (HttpStatusOf).
#ifndef STRATUS_SERVICES_CONSOLE_CONSOLE_API_H_
#define STRATUS_SERVICES_CONSOLE_CONSOLE_API_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/http_server.h"
#include "services/console/cost_scraper.h"
#include "services/console/rpc_bridge.h"
#include "services/console/sessions.h"

namespace stratus::console {

struct ServiceTarget {
  std::string name;     // "ingest"
  std::string address;  // its gRPC host:port
};

struct ConsoleApiOptions {
  SessionStore* sessions = nullptr;                // required
  const auth::KeyStore* keys = nullptr;            // required: API keys in Authorization headers
  RpcBridge* bridge = nullptr;                     // required
  std::shared_ptr<grpc::Channel> ingest;           // required: live events, frames, snapshots
  std::vector<ServiceTarget> services;             // for /api/services
  CostScraper* cost = nullptr;                     // null: /api/cost answers 503
  std::string web_dir;                             // the built front end ("" serves none)
  bool secure_cookies = false;                     // Secure on the cookie (behind TLS)
  std::chrono::milliseconds ping_interval{15000};  // SSE comment lines that keep proxies open
};

// The HTTP status of a gRPC/absl code, as the contract lists them.
int HttpStatusOf(absl::StatusCode code);
// The JSON error body of `status`.
std::string ErrorJson(const absl::Status& status);

// Adds the routes to `http` (before it starts). The options' pointers must outlive it.
void RegisterConsoleApi(HttpServer* http, const ConsoleApiOptions& options);

}  // namespace stratus::console

#endif  // STRATUS_SERVICES_CONSOLE_CONSOLE_API_H_
