// The bootstrap every Stratus service runs on: a gRPC server and an HTTP server side by side.
//
// gRPC: the service's own handlers, grpc.health.v1 and server reflection, a max message size,
// and an interceptor that counts and times every RPC by method and status code.
// Tracing and access log (docs/observability.md): each call's trace context (common/trace.h: a
// child of its `traceparent` metadata, else a new trace) is current on the handler's thread
// while the handler runs, so its log lines carry trace_id and the calls it makes through
// MakeChannel() carry the trace on; every call but grpc.health.v1 gets one access log line
// (logger=access: service, method, code, duration_ms, key_id, peer, trace_id, span_id,
// parent_span_id) unless AccessLogEnabled() is false. gRPC core's own log goes through
// common/logging.h too (RouteGrpcLogsToStructuredLog()).
// TLS: with `tls.cert` and `tls.key` the gRPC port serves TLS (and the HTTP port HTTPS, with the
// same files); with `tls.client_ca` too, gRPC callers must present a certificate that CA signed
// (mTLS; grpc.health.v1 stays open). Create() checks the files (common/tls.h: a clear error
// naming the file when one is unreadable, not PEM, mismatched or expired). Without them both
// ports speak plain text, as before; on an address other than loopback Start() logs a warning.
// Authentication: every call but grpc.health.v1 needs an API key of `api_keys`, checked before
// any handler runs (common/auth/server_auth.h: UNAUTHENTICATED / PERMISSION_DENIED, counted in
// stratus_auth_refusals_total); readiness waits until the keys are loaded; when the store has
// the keys table, stratus.v1.KeyService is served too.
// Health: the health service reports readiness under "" and the service's full names (SERVING
// once every readiness check passes; checks are re-run every `readiness_interval`, so a lost
// database turns the service NOT_SERVING and back, and at once on RecheckReadiness(), which a
// model loader calls when it is done so that a cold start is not a poll interval longer) and liveness under "liveness" (SERVING while
// the process runs and is not draining).
// HTTP: /metrics (Prometheus text format 0.0.4), /healthz (liveness), /readyz (readiness, 503
// with the failing checks), plus any handlers the service adds (e.g. the AWS JSON endpoint).
// Shutdown: on SIGTERM or SIGINT (after InstallSignalHandlers()) or Shutdown(), readiness turns
// NOT_SERVING, in-flight RPCs get up to `drain_deadline` to finish, then both servers stop.
//
// Thread safety: AddService/AddReadinessCheck/http() before Start(); Shutdown() from any thread.
#ifndef STRATUS_COMMON_SERVICE_HOST_H_
#define STRATUS_COMMON_SERVICE_HOST_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/auth/key_service.h"
#include "common/auth/key_store.h"
#include "common/http_server.h"
#include "common/metrics.h"
#include "common/tls.h"

namespace stratus {

class ServiceHost {
 public:
  struct Options {
    std::string service_name;             // short name, e.g. "detector"; a metric label
    std::string grpc_address = "0.0.0.0";
    int grpc_port = 0;                    // 0: any free port (see grpc_port())
    std::string http_address = "0.0.0.0";
    int http_port = 0;                    // 0: any free port; -1: no HTTP server
    int max_message_bytes = 16 << 20;     // both directions; images travel as bytes
    std::chrono::milliseconds drain_deadline{10000};
    std::chrono::milliseconds readiness_interval{1000};
    int http_max_connections = 4096;  // HTTP connections open at once (a thread each)
    size_t http_max_body_bytes = 8 << 20;
    // Required: the keys gRPC callers must present (Create fails without).
    std::shared_ptr<auth::KeyStore> api_keys;
    TlsFiles tls;  // cert, key and client_ca as above; `ca` is not used by the host
    // After this long a client connection is asked (GOAWAY) to reconnect, which makes clients
    // resolve the service's name again and spread over replicas added since (headless Services,
    // docs/deployment.md). Calls in progress, streams included, run on to their end. 0: never.
    std::chrono::seconds max_connection_age{300};
  };

  static absl::StatusOr<std::unique_ptr<ServiceHost>> Create(const Options& options);
  ~ServiceHost();

  metrics::Registry& metrics() { return registry_; }
  // For extra HTTP routes; valid when http_port >= 0.
  HttpServer* http() { return http_.get(); }

  // `service` is not owned and must outlive the host. `full_name` (e.g.
  // "stratus.v1.DetectorService") also gets a health status.
  void AddService(grpc::Service* service, const std::string& full_name);
  // A readiness condition, e.g. "database reachable" or "models loaded". Must be cheap and
  // thread-safe; it runs on the host's health thread.
  void AddReadinessCheck(const std::string& name, std::function<absl::Status()> check);

  absl::Status Start();
  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_ ? http_->port() : -1; }

  // Blocks until Shutdown() has completed.
  void Wait();
  void Shutdown();

  // Readiness as last evaluated: OK or the first failing check's error.
  absl::Status readiness() const;
  // Has the health thread re-run the readiness checks now rather than at its next interval
  // (e.g. when a model finished loading). Any thread; returns at once.
  void RecheckReadiness();

  // Routes SIGTERM and SIGINT of this process to Shutdown() of `host` (the last one installed).
  static void InstallSignalHandlers(ServiceHost* host);

 private:
  explicit ServiceHost(const Options& options) : options_(options) {}
  void HealthLoop();
  void EvaluateReadiness();

  Options options_;
  metrics::Registry registry_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::pair<grpc::Service*, std::string>> services_;
  std::unique_ptr<auth::KeyServiceImpl> key_service_;
  std::vector<std::pair<std::string, std::function<absl::Status()>>> checks_;
  int grpc_port_ = 0;
  std::string tls_cert_pem_, tls_key_pem_, tls_client_ca_pem_;  // read by Create()

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  bool recheck_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status readiness_ ABSL_GUARDED_BY(mu_) = absl::UnavailableError("starting");
  std::thread health_thread_;
  std::thread signal_thread_;
};

}  // namespace stratus

#endif  // STRATUS_COMMON_SERVICE_HOST_H_
