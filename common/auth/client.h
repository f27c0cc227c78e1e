// Client side of API keys: channels that send `authorization: Bearer <key>` on every call.
//
// A process has one default key, set by its main.cc (services: --api-key; the stratus tool:
// ApiKeyFromEnvironment()) and sent by every channel from CreateChannel(). An empty key sends
// nothing, and the server answers UNAUTHENTICATED saying the key is missing.
#ifndef STRATUS_COMMON_AUTH_CLIENT_H_
#define STRATUS_COMMON_AUTH_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace stratus::auth {

// The credentials-file profile and key under which `stratus up` keeps the admin key.
inline constexpr char kCredentialsProfile[] = "stratus";
inline constexpr char kCredentialsKey[] = "stratus_api_key";

// Thread-safe; channels created before a change keep the key they were created with.
void SetDefaultApiKey(const std::string& key);
std::string DefaultApiKey();

// A plain-text channel to `target` sending `api_key` (the default key when omitted).
std::shared_ptr<grpc::Channel> CreateChannel(const std::string& target,
                                             const grpc::ChannelArguments& args = {});
std::shared_ptr<grpc::Channel> CreateChannelWithKey(const std::string& target,
                                                    const std::string& api_key,
                                                    const grpc::ChannelArguments& args = {});

// The key of the stratus tool: $STRATUS_API_KEY, else stratus_api_key of profile [stratus] in
// $STRATUS_CREDENTIALS_FILE, else in $STRATUS_DATA_DIR/credentials (default var/credentials,
// where `stratus up` writes it); "" when none. For main.cc.
std::string ApiKeyFromEnvironment();

}  // namespace stratus::auth

#endif  // STRATUS_COMMON_AUTH_CLIENT_H_
