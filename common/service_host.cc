#include "common/service_host.h"

#include <fcntl.h>
#include <grpcpp/ext/channelz_service_plugin.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/support/server_interceptor.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/server_auth.h"
#include "common/grpc_channel.h"
#include "common/logging.h"
#include "common/status.h"
#include "common/trace.h"

namespace stratus {
namespace {

constexpr char kLivenessService[] = "liveness";

// Counts and times every RPC: stratus_rpc_requests_total{service,method,code} and
// stratus_rpc_duration_seconds{service,method}.
class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(std::string method, metrics::Family<metrics::Counter>* requests,
                     metrics::Family<metrics::Histogram>* durations, const std::string& service)
      : method_(std::move(method)),
        requests_(requests),
        durations_(durations),
        service_(service),
        start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      requests_
          ->Add({{"service", service_},
                 {"method", method_},
                 {"code", StatusCodeLabel(static_cast<absl::StatusCode>(status.error_code()))}})
          .Increment();
      durations_->Add({{"service", service_}, {"method", method_}},
                      metrics::LatencyBuckets())
          .Observe(secs);
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  metrics::Family<metrics::Counter>* requests_;
  metrics::Family<metrics::Histogram>* durations_;
  const std::string& service_;
  std::chrono::steady_clock::time_point start_;
};

class MetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  MetricsInterceptorFactory(metrics::Registry& registry, std::string service)
      : service_(std::move(service)) {
    requests_ = &metrics::BuildCounter()
                     .Name("stratus_rpc_requests_total")
                     .Help("RPCs handled, by service, method and status code.")
                     .Register(registry);
    durations_ = &metrics::BuildHistogram()
                      .Name("stratus_rpc_duration_seconds")
                      .Help("RPC latency from arrival to status, in seconds.")
                      .Register(registry);
  }

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    std::string full = info->method() ? info->method() : "";
    // "/package.Service/Method" -> "Method"
    auto slash = full.rfind('/');
    std::string method = slash == std::string::npos ? full : full.substr(slash + 1);
    return new MetricsInterceptor(std::move(method), requests_, durations_, service_);
  }

 private:
  std::string service_;
  metrics::Family<metrics::Counter>* requests_;
  metrics::Family<metrics::Histogram>* durations_;
};

// The call's trace context (common/trace.h), current on the handler's thread, and the call's
// access log line.
class ServerTraceInterceptor : public grpc::experimental::Interceptor {
 public:
  ServerTraceInterceptor(grpc::experimental::ServerRpcInfo* info, const std::string& service,
                   bool access_log)
      : info_(info),
        method_(info->method() != nullptr ? info->method() : ""),
        service_(service),
        access_log_(access_log),
        start_(std::chrono::steady_clock::now()) {}

  ~ServerTraceInterceptor() override {
    // A call that ends without a status of its own (the client cancelled or went away).
    if (access_log_ && !logged_) Log(grpc::Status(grpc::StatusCode::CANCELLED, ""));
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      const auto* md = methods->GetRecvInitialMetadata();
      auto it = md->find(trace::kTraceparentHeader);
      context_ = trace::ServerContextFor(
          it == md->end() ? std::string_view()
                          : std::string_view(it->second.data(), it->second.size()));
      if (access_log_) ReadCaller();
      // With the synchronous API the handler runs inside this Proceed(), on this thread, once
      // the last interceptor has proceeded (gRPC 1.51: InterceptorBatchMethodsImpl calls the
      // server's continuation from the last Proceed()): the scope spans the handler, unary and
      // streaming (common/trace_propagation_test.cc checks both). A callback (reactor) service
      // would not run its handler here and would need its own scope.
      trace::TraceScope scope(context_);
      methods->Proceed();
      return;
    }
    if (access_log_ && !logged_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Log(methods->GetSendStatus());
    }
    methods->Proceed();
  }

 private:
  // Read while the call is live (Log() may run from the destructor, as the context goes away).
  void ReadCaller() {
    grpc::ServerContextBase* ctx = info_->server_context();
    if (ctx == nullptr) return;
    // The key ids the connection has authenticated with (common/auth/server_auth.h): one,
    // unless a client sends several keys over one connection.
    std::vector<std::string> ids;
    if (auto auth = ctx->auth_context()) {
      for (const grpc::string_ref& id : auth->FindPropertyValues(auth::kKeyIdProperty)) {
        ids.emplace_back(id.data(), id.size());
      }
    }
    key_id_ = absl::StrJoin(ids, ",");
    peer_ = ctx->peer();
  }

  void Log(const grpc::Status& status) {
    logged_ = true;
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_)
            .count();
    std::vector<Kv> fields;
    fields.reserve(10);
    fields.emplace_back("logger", "access");
    fields.emplace_back("service", service_);
    fields.emplace_back("method", method_);
    fields.emplace_back(
        "code", absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())));
    fields.emplace_back("duration_ms", ms);
    if (!key_id_.empty()) fields.emplace_back("key_id", key_id_);
    if (!peer_.empty()) fields.emplace_back("peer", peer_);
    AddTraceFields(context_, &fields);
    EmitLogLine(LogLevel::kInfo, nullptr, 0, "rpc", std::move(fields));
  }

  grpc::experimental::ServerRpcInfo* info_;
  const std::string method_;  // "/package.Service/Method"
  const std::string& service_;
  const bool access_log_;
  const std::chrono::steady_clock::time_point start_;
  trace::TraceContext context_;
  std::string key_id_, peer_;
  bool logged_ = false;
};

class ServerTraceInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ServerTraceInterceptorFactory(std::string service) : service_(std::move(service)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    // Health checks (probes, every client's channel) would drown the access log.
    const bool health =
        info->method() != nullptr && absl::StartsWith(info->method(), "/grpc.health.v1.Health/");
    return new ServerTraceInterceptor(info, service_, AccessLogEnabled() && !health);
  }

 private:
  std::string service_;
};

bool IsLoopback(const std::string& address) {
  return address == "localhost" || address == "::1" || address == "[::1]" ||
         address.rfind("127.", 0) == 0;
}

std::atomic<ServiceHost*> g_signal_host{nullptr};
int g_signal_pipe[2] = {-1, -1};

void OnSignal(int) {
  char c = 1;
  ssize_t ignored = ::write(g_signal_pipe[1], &c, 1);
  (void)ignored;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceHost>> ServiceHost::Create(const Options& options) {
  if (options.service_name.empty()) return absl::InvalidArgumentError("service_name is empty");
  if (options.grpc_port < 0 || options.grpc_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("grpc port out of range: ", options.grpc_port));
  }
  if (options.api_keys == nullptr) {
    return absl::InvalidArgumentError("no API key store: every gRPC call must be authenticated");
  }
  if (absl::Status s = CheckServerFiles(options.tls); !s.ok()) return s;
  RouteGrpcLogsToStructuredLog();
  auto host = std::unique_ptr<ServiceHost>(new ServiceHost(options));
  if (options.tls.serves_tls()) {
    absl::StatusOr<std::string> cert = ReadTlsFile("tls cert", options.tls.cert);
    absl::StatusOr<std::string> key = ReadTlsFile("tls key", options.tls.key);
    if (!cert.ok()) return cert.status();
    if (!key.ok()) return key.status();
    host->tls_cert_pem_ = *cert;
    host->tls_key_pem_ = *key;
    if (!options.tls.client_ca.empty()) {
      absl::StatusOr<std::string> ca = ReadTlsFile("tls client CA", options.tls.client_ca);
      if (!ca.ok()) return ca.status();
      host->tls_client_ca_pem_ = *ca;
    }
  }
  metrics::RegisterProcessMetrics(host->registry_);
  metrics::RegisterBuildInfo(host->registry_);
  if (options.http_port >= 0) {
    HttpServer::Options http;
    http.address = options.http_address;
    http.port = options.http_port;
    http.max_connections = options.http_max_connections;
    http.max_body_bytes = options.http_max_body_bytes;
    http.tls = {.cert = options.tls.cert, .key = options.tls.key};
    auto server = HttpServer::Create(http);
    if (!server.ok()) return server.status();
    host->http_ = std::move(server).value();
    ServiceHost* self = host.get();
    host->http_->Handle("/metrics", [self](const HttpRequest&) {
      HttpResponse r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = self->registry_.Serialize();
      return r;
    });
    host->http_->Handle("/healthz", [self](const HttpRequest&) {
      std::lock_guard<std::mutex> lock(self->mu_);
      return self->shutting_down_ ? HttpResponse::Text(503, "draining\n")
                                  : HttpResponse::Text(200, "ok\n");
    });
    host->http_->Handle("/readyz", [self](const HttpRequest&) {
      absl::Status s = self->readiness();
      return s.ok() ? HttpResponse::Text(200, "ready\n")
                    : HttpResponse::Text(503, absl::StrCat("not ready: ", s.message(), "\n"));
    });
  }
  return host;
}

ServiceHost::~ServiceHost() {
  Shutdown();
  if (g_signal_host.load() == this) g_signal_host.store(nullptr);
  if (signal_thread_.joinable()) signal_thread_.detach();
}

void ServiceHost::AddService(grpc::Service* service, const std::string& full_name) {
  services_.emplace_back(service, full_name);
}

void ServiceHost::AddReadinessCheck(const std::string& name,
                                    std::function<absl::Status()> check) {
  checks_.emplace_back(name, std::move(check));
}

absl::Status ServiceHost::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // grpc.channelz.v1.Channelz: the server's and its clients' channels, sockets and call counts
  // (grpcdebug, grpc-zpages), behind the same API keys as every other service.
  grpc::channelz::experimental::InitChannelzService();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(
      absl::StrCat(options_.grpc_address, ":", options_.grpc_port),
      auth::AuthenticatingServerCredentials({.service_name = options_.service_name,
                                             .keys = options_.api_keys,
                                             .registry = &registry_,
                                             .tls_cert_pem = tls_cert_pem_,
                                             .tls_key_pem = tls_key_pem_,
                                             .tls_client_ca_pem = tls_client_ca_pem_}),
      &grpc_port_);
  auth::KeyStore* keys = options_.api_keys.get();
  checks_.emplace_back("api keys", [keys] { return keys->Loaded(); });
  if (keys->has_database()) {
    key_service_ = std::make_unique<auth::KeyServiceImpl>(keys);
    builder.RegisterService(key_service_.get());
  }
  // Clients made by MakeChannel ping every 30 s, also with no call open; allow it.
  ApplyServerKeepalive(&builder);
  if (options_.max_connection_age.count() > 0) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        options_.max_connection_age);
    // gRPC spreads the age by +-10% so that replicas' clients do not reconnect at once.
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               static_cast<int>(std::min<int64_t>(ms.count(), INT32_MAX)));
  }
  builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
  builder.SetMaxSendMessageSize(options_.max_message_bytes);
  for (auto& [service, name] : services_) builder.RegisterService(service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<MetricsInterceptorFactory>(registry_, options_.service_name));
  factories.push_back(std::make_unique<ServerTraceInterceptorFactory>(options_.service_name));
  builder.experimental().SetInterceptorCreators(std::move(factories));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || grpc_port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", options_.grpc_address,
                                               ":", options_.grpc_port));
  }
  if (http_) STRATUS_RETURN_IF_ERROR(http_->Start());
  auto* health = server_->GetHealthCheckService();
  health->SetServingStatus(kLivenessService, true);
  EvaluateReadiness();
  health_thread_ = std::thread([this] { HealthLoop(); });
  SLOG(INFO) << "service started" << Kv("service", options_.service_name)
             << Kv("grpc_port", grpc_port_) << Kv("http_port", http_port())
             << Kv("tls", !options_.tls.serves_tls()       ? "off"
                          : options_.tls.client_ca.empty() ? "on"
                                                           : "mtls");
  if (!options_.tls.serves_tls() && !IsLoopback(options_.grpc_address)) {
    SLOG(WARNING) << "serving plain text on a non-loopback address: anyone on the network can "
                     "read API keys and data; set --tls-cert and --tls-key"
                  << Kv("service", options_.service_name) << Kv("address", options_.grpc_address);
  }
  return absl::OkStatus();
}

void ServiceHost::EvaluateReadiness() {
  absl::Status result = absl::OkStatus();
  for (auto& [name, check] : checks_) {
    absl::Status s;
    try {
      s = check();
    } catch (const std::exception& e) {
      s = absl::InternalError(e.what());
    }
    if (!s.ok()) {
      result = absl::Status(s.code(), absl::StrCat(name, ": ", s.message()));
      break;
    }
  }
  bool changed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return;
    changed = result.ok() != readiness_.ok() || result.message() != readiness_.message();
    readiness_ = result;
  }
  if (changed) {
    if (result.ok()) {
      SLOG(INFO) << "ready" << Kv("service", options_.service_name);
    } else {
      SLOG(WARNING) << "not ready" << Kv("service", options_.service_name)
                    << Kv("reason", result.message());
    }
  }
  auto* health = server_->GetHealthCheckService();
  health->SetServingStatus(result.ok());  // "" and every registered name...
  health->SetServingStatus(kLivenessService, true);  // ...but liveness stays up
}

void ServiceHost::HealthLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!shutting_down_) {
    cv_.wait_for(lock, options_.readiness_interval,
                 [this] { return shutting_down_ || recheck_; });
    if (shutting_down_) break;
    recheck_ = false;
    lock.unlock();
    EvaluateReadiness();
    lock.lock();
  }
}

void ServiceHost::RecheckReadiness() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    recheck_ = true;
  }
  cv_.notify_all();
}

absl::Status ServiceHost::readiness() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutting_down_ ? absl::UnavailableError("draining") : readiness_;
}

void ServiceHost::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) {
      return;
    }
    shutting_down_ = true;
  }
  cv_.notify_all();
  if (health_thread_.joinable()) health_thread_.join();
  if (server_) {
    SLOG(INFO) << "draining" << Kv("service", options_.service_name)
               << Kv("deadline_ms", options_.drain_deadline.count());
    server_->GetHealthCheckService()->SetServingStatus(false);
    server_->Shutdown(std::chrono::system_clock::now() + options_.drain_deadline);
    server_->Wait();
  }
  if (http_) http_->Stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    shut_down_ = true;
  }
  cv_.notify_all();
  SLOG(INFO) << "stopped" << Kv("service", options_.service_name);
}

void ServiceHost::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return shut_down_; });
}

void ServiceHost::InstallSignalHandlers(ServiceHost* host) {
  g_signal_host.store(host);
  if (g_signal_pipe[0] >= 0) return;
  if (pipe2(g_signal_pipe, O_CLOEXEC) != 0) return;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  host->signal_thread_ = std::thread([] {
    char c;
    while (::read(g_signal_pipe[0], &c, 1) > 0) {
      if (ServiceHost* h = g_signal_host.load()) {
        SLOG(INFO) << "signal received, shutting down";
        h->Shutdown();
      }
    }
  });
}

}  // namespace stratus
