
#include "common/auth/client.h"

#include <grpcpp/support/client_interceptor.h>

#include <cstdlib>
#include <mutex>

#include "common/aws/credentials.h"

namespace stratus::auth {
namespace {

std::mutex g_mu;
std::string* g_key = new std::string;

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

}  // namespace

void SetDefaultApiKey(const std::string& key) {
  std::lock_guard<std::mutex> lock(g_mu);
  *g_key = key;
}

std::string DefaultApiKey() {
  std::lock_guard<std::mutex> lock(g_mu);
  return *g_key;
}

std::shared_ptr<grpc::Channel> CreateChannel(const std::string& target,
                                             const grpc::ChannelArguments& args) {
  return CreateChannelWithKey(target, DefaultApiKey(), args);
}

std::shared_ptr<grpc::Channel> CreateChannelWithKey(const std::string& target,
                                                    const std::string& api_key,
                                                    const grpc::ChannelArguments& args) {
  if (api_key.empty()) {
    return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  }
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> f;
  f.push_back(std::make_unique<KeyInterceptorFactory>(api_key));
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      target, grpc::InsecureChannelCredentials(), args, std::move(f));
}

std::string ApiKeyFromEnvironment() {
  if (const char* k = std::getenv("STRATUS_API_KEY"); k != nullptr && *k != '\0') return k;
  std::string file;
  if (const char* f = std::getenv("STRATUS_CREDENTIALS_FILE"); f != nullptr && *f != '\0') {
    file = f;
  } else {
    const char* d = std::getenv("STRATUS_DATA_DIR");
    file = std::string(d != nullptr && *d != '\0' ? d : "var") + "/credentials";
  }
  absl::StatusOr<std::string> key =
      aws::ReadCredentialsValue(file, kCredentialsProfile, kCredentialsKey);
  return key.ok() ? *key : "";
}

}  // namespace stratus::auth
