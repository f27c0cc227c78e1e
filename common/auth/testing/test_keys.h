// API keys for tests that talk gRPC to an in-process ServiceHost.
//
//   ServiceHost::Options o;
//   o.api_keys = auth::testing::TestKeyStore();  // accepts kAdminKey and kReadKey
//   ...
//   auto stub = v1::DetectorService::NewStub(auth::testing::AdminChannel(address));
#ifndef STRATUS_COMMON_AUTH_TESTING_TEST_KEYS_H_
#define STRATUS_COMMON_AUTH_TESTING_TEST_KEYS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "common/auth/client.h"
#include "common/auth/key_store.h"

namespace stratus::auth::testing {

inline constexpr char kAdminKey[] = "stk_testadminkey_Adm1nKeyForTestsOnly000000000000";
inline constexpr char kReadKey[] = "stk_testreadonly_Read0nlyKeyForTests0000000000000";

// A store (no table, no file) accepting kAdminKey ("*:admin") and kReadKey ("*:read").
std::shared_ptr<KeyStore> TestKeyStore();

// Channels sending kAdminKey / kReadKey.
std::shared_ptr<grpc::Channel> AdminChannel(const std::string& target,
                                            const grpc::ChannelArguments& args = {});
std::shared_ptr<grpc::Channel> ReadChannel(const std::string& target,
                                           const grpc::ChannelArguments& args = {});

// One serialised request message `payload` to `method` ("/pkg.Service/Method", whatever its
// streaming kind) with `authorization` as the header ("" sends none); waits at most 10 s.
grpc::Status RawCall(const std::string& target, const std::string& method,
                     const std::string& authorization, const std::string& payload = "");
// The same over a channel with `credentials` (e.g. grpc::SslCredentials for a TLS port).
grpc::Status RawCall(const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                     const std::string& target, const std::string& method,
                     const std::string& authorization, const std::string& payload = "");

}  // namespace stratus::auth::testing

#endif  // STRATUS_COMMON_AUTH_TESTING_TEST_KEYS_H_
