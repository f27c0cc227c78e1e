// One unary call of a typed client: a ClientContext with the deadline (`timeout`, capped at the
// incoming call's, common/grpc_channel.h SetDeadline), the stub's method, and the status through
// FromGrpcStatus (code, message and reason kept). What every client in clients/cpp calls.
#ifndef STRATUS_CLIENTS_CPP_UNARY_CALL_H_
#define STRATUS_CLIENTS_CPP_UNARY_CALL_H_

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/status/statusor.h"
#include "common/grpc_channel.h"
#include "common/status.h"

namespace stratus::clients {

template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> UnaryCall(Stub& stub,
                                   grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                                const Request&, Response*),
                                   const Request& request, std::chrono::milliseconds timeout,
                                   const grpc::ServerContext* incoming) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout, incoming);
  Response response;
  const grpc::Status s = (stub.*method)(&ctx, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

}  // namespace stratus::clients

#endif  // STRATUS_CLIENTS_CPP_UNARY_CALL_H_
