// The one main() of every service binary: flags, logging, keys, TLS, the database, the host
// (gRPC + HTTP), the AWS JSON endpoint, start, signals, drain and shutdown, in that order, with
// one error path. A service's main.cc only registers its own flags and wires its objects:
//
//   int main(int argc, char** argv) {
//     stratus::ServiceMain main({.binary = "stratus-mask", .summary = "...",
//                                .defaults = stratus::kMaskDefaults});
//     std::string detector = "localhost:50052";
//     main.flags().String("detector", "STRATUS_DETECTOR_ADDR", &detector, "...");
//     return main.Run(argc, argv, [&](stratus::ServiceContext& ctx) -> absl::Status {
//       auto* finder = ctx.Make<DetectorFaceFinder>(...);
//       ctx.host().AddService(ctx.Make<MaskServiceImpl>(finder), "stratus.v1.MaskService");
//       ctx.OnStarted([finder] { ... });
//       return absl::OkStatus();
//     });
//   }
//
// Run(): parses the flags (--help: usage, exit 0; bad input: the error, exit 2), applies the
// common ones (common/service_flags.h), creates the ServiceHost, registers the process metrics,
// opens the AWS endpoint when the spec names one and keys are configured, calls `wire`, installs
// the endpoint, starts the host (exit 1 when it cannot listen), runs the OnStarted callbacks,
// installs the SIGTERM/SIGINT handlers, waits for the drain, runs the OnStopped callbacks, then
// destroys what `wire` kept (newest first), the host and the database, in that order. A wiring
// error (a status from `wire`, the database, the keys) prints "error: <message>" and exits 2.
#ifndef STRATUS_COMMON_SERVICE_MAIN_H_
#define STRATUS_COMMON_SERVICE_MAIN_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/aws/credentials.h"
#include "common/aws/json_protocol.h"
#include "common/db.h"
#include "common/flags.h"
#include "common/service_flags.h"
#include "common/service_host.h"

namespace stratus {

struct ServiceSpec {
  std::string binary;   // "stratus-mask": the usage line
  std::string summary;  // one sentence under it
  ServiceDefaults defaults;
  // Registers --database-url, which is then required; ServiceContext::database() opens it.
  bool uses_database = false;
  // "rekognition" or "comprehend": the SigV4 scope of the AWS JSON 1.1 endpoint on the HTTP
  // port, with its key flags (--access-key-id, --secret-access-key, --credentials-file) and the
  // error table of that API. "": no AWS endpoint.
  std::string aws_service;
};

// What `wire` works with. Valid during Run().
class ServiceContext {
 public:
  ServiceHost& host() { return *host_; }
  metrics::Registry& metrics() { return host_->metrics(); }
  const CommonServiceFlags& common() const { return *common_; }

  // The service's PostgreSQL pool, opened on the first call (so that work started before it,
  // such as a model load, overlaps the connection). Only for specs with uses_database.
  absl::StatusOr<Database*> database();

  // The AWS JSON endpoint to register operations on; nullptr when the spec has none or no keys
  // are configured (then the service is gRPC only, with a warning in the log).
  aws::AwsJsonEndpoint* aws_endpoint() { return endpoint_.get(); }

  // Keeps an object alive until the host has stopped; destroyed newest first, before the host.
  template <typename T>
  T* Keep(std::unique_ptr<T> object) {
    T* raw = object.get();
    kept_.push_back(std::shared_ptr<void>(std::move(object)));
    return raw;
  }
  template <typename T, typename... Args>
  T* Make(Args&&... args) {
    return Keep(std::make_unique<T>(std::forward<Args>(args)...));
  }

  // Run once the host listens (start loading models, start workers), in the order given.
  void OnStarted(std::function<void()> fn) { on_started_.push_back(std::move(fn)); }
  // Run after the drain, before anything kept is destroyed (stop workers), in the order given.
  void OnStopped(std::function<void()> fn) { on_stopped_.push_back(std::move(fn)); }

 private:
  friend class ServiceMain;
  ServiceContext() = default;
  ~ServiceContext();

  const CommonServiceFlags* common_ = nullptr;
  std::unique_ptr<Database> db_;  // declared first: destroyed last
  std::unique_ptr<ServiceHost> host_;
  aws::CredentialsStore aws_keys_;
  std::unique_ptr<aws::AwsJsonEndpoint> endpoint_;
  std::vector<std::shared_ptr<void>> kept_;
  std::vector<std::function<void()>> on_started_, on_stopped_;
};

class ServiceMain {
 public:
  explicit ServiceMain(ServiceSpec spec);

  // The service's own flags go here, before Run().
  FlagSet& flags() { return flags_; }

  using Wire = std::function<absl::Status(ServiceContext&)>;
  // Returns the process's exit code: 0 after a clean drain, 1 when the host cannot start, 2 for
  // bad flags or a wiring error.
  int Run(int argc, char** argv, const Wire& wire);

 private:
  absl::Status OpenAwsEndpoint(ServiceContext& ctx);

  ServiceSpec spec_;
  FlagSet flags_;
  CommonServiceFlags common_;
  aws::CredentialSources aws_credentials_;
};

}  // namespace stratus

#endif  // STRATUS_COMMON_SERVICE_MAIN_H_
