// The console's JSON-to-gRPC bridge: POST /api/rpc/<full service name>/<Method> with a request
// in protobuf's JSON mapping becomes that unary call on the service, with the caller's API key,
// and its response comes back in the same mapping.
//
// Messages are found by name in the generated descriptor pool (every stratus.v1 proto is
// linked in), so a new RPC needs no code here. Only the services configured in Options and
// their unary methods are reachable (NOT_FOUND otherwise). JSON out: each field's json_name
// (AWS names in recognition and sentiment, lowerCamelCase elsewhere), fields with default values
// included, int64 as strings, bytes as base64. JSON in: unknown fields are INVALID_ARGUMENT.
//
// Thread-safe.
#ifndef STRATUS_SERVICES_CONSOLE_RPC_BRIDGE_H_
#define STRATUS_SERVICES_CONSOLE_RPC_BRIDGE_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace google::protobuf {
class Message;
}

namespace stratus::console {

// `message` in the console's JSON mapping (json_name, default values printed), as every answer
// of the console's API is written.
std::string ToConsoleJson(const google::protobuf::Message& message);

class RpcBridge {
 public:
  struct Options {
    // Full service name ("stratus.v1.IngestService") -> channel to a server of it.
    std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
    std::chrono::milliseconds deadline{30000};
  };
  explicit RpcBridge(Options options);

  // Calls `method` of `service` with the JSON `request_json`, sending `api_key` as the bearer
  // key. The response's JSON, or the call's error (FromGrpcStatus: reason and metadata kept);
  // NOT_FOUND for a service or method that is not reachable here, INVALID_ARGUMENT for JSON
  // that does not fit the request message.
  absl::StatusOr<std::string> Call(const std::string& service, const std::string& method,
                                   const std::string& request_json, const std::string& api_key);

 private:
  const Options options_;
};

}  // namespace stratus::console

#endif  // STRATUS_SERVICES_CONSOLE_RPC_BRIDGE_H_
