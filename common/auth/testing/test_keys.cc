
#include "common/auth/testing/test_keys.h"

#include <grpcpp/generic/generic_stub.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>

#include "common/auth/client.h"

namespace stratus::auth::testing {

std::shared_ptr<KeyStore> TestKeyStore() {
  auto store = KeyStore::Create({});
  if (!store.ok()) std::abort();  // cannot happen: no sources, valid interval
  std::shared_ptr<KeyStore> keys = std::move(*store);
  if (!keys->AddKey(kAdminKey, {{"*", Level::kAdmin}}, "test admin").ok() ||
      !keys->AddKey(kReadKey, {{"*", Level::kRead}}, "test read").ok()) {
    std::abort();
  }
  return keys;
}

std::shared_ptr<grpc::Channel> AdminChannel(const std::string& target,
                                            const grpc::ChannelArguments& args) {
  return CreateChannelWithKey(target, kAdminKey, args);
}

std::shared_ptr<grpc::Channel> ReadChannel(const std::string& target,
                                           const grpc::ChannelArguments& args) {
  return CreateChannelWithKey(target, kReadKey, args);
}

grpc::Status RawCall(const std::string& target, const std::string& method,
                     const std::string& authorization, const std::string& payload) {
  return RawCall(DefaultChannelCredentials(), target, method, authorization, payload);
}

grpc::Status RawCall(const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                     const std::string& target, const std::string& method,
                     const std::string& authorization, const std::string& payload) {
  grpc::GenericStub stub(grpc::CreateChannel(target, credentials));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
  grpc::Slice slice(payload);
  grpc::ByteBuffer request(&slice, 1), response;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    status = std::move(s);
    done = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  return status;
}

}  // namespace stratus::auth::testing
