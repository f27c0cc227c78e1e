
#include "common/auth/testing/test_keys.h"

#include <cstdlib>

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

}  // namespace stratus::auth::testing
