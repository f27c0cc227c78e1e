// Client side of grpc.health.v1: asks a service whether it is SERVING.
#ifndef STRATUS_COMMON_HEALTH_CLIENT_H_
#define STRATUS_COMMON_HEALTH_CLIENT_H_

#include <chrono>
#include <string>

#include "absl/status/statusor.h"

namespace stratus {

enum class ServingStatus { kUnknown, kServing, kNotServing, kServiceUnknown };

const char* ServingStatusName(ServingStatus s);

// `endpoint` is host:port; `service` "" is readiness, "liveness" is liveness. UNAVAILABLE or
// DEADLINE_EXCEEDED when the service cannot be reached in `timeout`.
absl::StatusOr<ServingStatus> CheckHealth(const std::string& endpoint, const std::string& service,
                                          std::chrono::milliseconds timeout);

}  // namespace stratus

#endif  // STRATUS_COMMON_HEALTH_CLIENT_H_
