
#include "common/auth/client.h"

#include <grpcpp/support/client_interceptor.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/aws/credentials.h"
#include "common/trace.h"

namespace stratus::auth {
namespace {

std::mutex g_mu;
std::string* g_key = new std::string;
// The default client TLS: the CA file and the credentials made from it (null: plain text).
std::string* g_tls_ca = new std::string;
std::shared_ptr<grpc::ChannelCredentials>* g_tls_creds =
    new std::shared_ptr<grpc::ChannelCredentials>;

class KeyInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit KeyInterceptor(const std::string* header) : header_(header) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      auto* md = methods->GetSendInitialMetadata();
      if (md->find("authorization") == md->end()) md->emplace("authorization", *header_);
    }
    methods->Proceed();
  }

 private:
  const std::string* header_;
};

class KeyInterceptorFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit KeyInterceptorFactory(const std::string& key) : header_("Bearer " + key) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new KeyInterceptor(&header_);
  }

 private:
  const std::string header_;  // lives as long as the channel, which owns this factory
};

// Adds the traceparent of the trace context that was current when the call was created.
class TraceInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit TraceInterceptor(std::string traceparent) : traceparent_(std::move(traceparent)) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      auto* md = methods->GetSendInitialMetadata();
      if (md->find(trace::kTraceparentHeader) == md->end()) {
        md->emplace(trace::kTraceparentHeader, traceparent_);
      }
    }
    methods->Proceed();
  }

 private:
  const std::string traceparent_;
};

class TraceInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  // Runs on the thread that creates the call: a synchronous stub method's caller, or whoever
  // calls a stub's Async*/PrepareAsync* or a reactor's StartCall.
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    const trace::TraceContext* current = trace::Current();
    if (current == nullptr) return nullptr;  // outside a trace: nothing to add to this call
    return new TraceInterceptor(trace::FormatTraceparent(*current));
  }
};

}  // namespace

void SetDefaultApiKey(const std::string& key) {
  std::lock_guard<std::mutex> lock(g_mu);
  *g_key = key;
}

absl::Status CheckApiKey(const std::string& key, const std::string& source) {
  for (size_t i = 0; i < key.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (c <= 0x20 || c >= 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": the API key has a character that cannot be sent (byte 0x",
          absl::Hex(c, absl::kZeroPad2), " at position ", i, "); keys are printable ASCII"));
    }
  }
  return absl::OkStatus();
}

std::string DefaultApiKey() {
  std::lock_guard<std::mutex> lock(g_mu);
  return *g_key;
}

absl::Status SetDefaultClientTls(const TlsFiles& files) {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (!files.ca.empty()) {
    if (absl::Status s = CheckCaFile(files.ca); !s.ok()) return s;
    absl::StatusOr<std::string> roots = ReadTlsFile("tls CA", files.ca);
    if (!roots.ok()) return roots.status();
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = *roots;
    if (!files.cert.empty() || !files.key.empty()) {
      if (absl::Status s = CheckServerFiles({.cert = files.cert, .key = files.key}); !s.ok()) {
        return s;
      }
      absl::StatusOr<std::string> cert = ReadTlsFile("tls cert", files.cert);
      absl::StatusOr<std::string> key = ReadTlsFile("tls key", files.key);
      if (!cert.ok()) return cert.status();
      if (!key.ok()) return key.status();
      options.pem_cert_chain = *cert;
      options.pem_private_key = *key;
    }
    creds = grpc::SslCredentials(options);
  }
  std::lock_guard<std::mutex> lock(g_mu);
  *g_tls_ca = files.ca;
  *g_tls_creds = std::move(creds);
  return absl::OkStatus();
}

std::shared_ptr<grpc::ChannelCredentials> DefaultChannelCredentials() {
  std::lock_guard<std::mutex> lock(g_mu);
  return *g_tls_creds ? *g_tls_creds : grpc::InsecureChannelCredentials();
}

std::string DefaultClientTlsCa() {
  std::lock_guard<std::mutex> lock(g_mu);
  return *g_tls_ca;
}

TlsFiles ClientTlsFromEnvironment() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v != nullptr ? v : "";
  };
  TlsFiles files;
  files.ca = env("STRATUS_TLS_CA");
  if (files.ca.empty()) {
    std::string dir = env("STRATUS_DATA_DIR");
    if (dir.empty()) dir = "var";
    std::error_code ec;
    if (std::filesystem::exists(dir + "/tls/enabled", ec) &&
        std::filesystem::exists(dir + "/tls/ca.pem", ec)) {
      files.ca = dir + "/tls/ca.pem";
    }
  }
  files.cert = env("STRATUS_TLS_CLIENT_CERT");
  files.key = env("STRATUS_TLS_CLIENT_KEY");
  return files;
}

std::shared_ptr<grpc::Channel> CreateChannelWithKey(const std::string& target,
                                                    const std::string& api_key,
                                                    const grpc::ChannelArguments& args,
                                                    std::shared_ptr<grpc::ChannelCredentials>
                                                        credentials) {
  std::shared_ptr<grpc::ChannelCredentials> creds =
      credentials ? std::move(credentials) : DefaultChannelCredentials();
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> f;
  f.push_back(std::make_unique<TraceInterceptorFactory>());
  if (!api_key.empty()) f.push_back(std::make_unique<KeyInterceptorFactory>(api_key));
  return grpc::experimental::CreateCustomChannelWithInterceptors(target, creds, args, std::move(f));
}

std::string ApiKeyFromEnvironment() {
  if (const char* k = std::getenv("STRATUS_API_KEY"); k != nullptr && *k != '\0') {
    return std::string(absl::StripAsciiWhitespace(k));
  }
  std::string file;
  if (const char* f = std::getenv("STRATUS_CREDENTIALS_FILE"); f != nullptr && *f != '\0') {
    file = f;
  } else {
    const char* d = std::getenv("STRATUS_DATA_DIR");
    file = std::string(d != nullptr && *d != '\0' ? d : "var") + "/credentials";
  }
  absl::StatusOr<std::string> key =
      aws::ReadCredentialsValue(file, kCredentialsProfile, kCredentialsKey);
  return key.ok() ? std::string(absl::StripAsciiWhitespace(*key)) : "";
}

}  // namespace stratus::auth
