#include <iostream>

#include "cli/command.h"
#include "cli/commands.h"
#include "common/flags.h"
#include "common/health_client.h"

namespace stratus::cli {

int RunHealthCommand(int argc, char** argv) {
  FlagSet flags("stratus health ENDPOINT...",
                "Asks each service (host:port of its gRPC endpoint) whether it is SERVING.\n"
                "Exit status 0 when all are SERVING, 1 otherwise.");
  std::string service;
  int timeout_ms = 3000;
  flags.String("service", "", &service,
               "health service name: \"\" is readiness, \"liveness\" is liveness");
  flags.Int("timeout-ms", "", &timeout_ms, "deadline per check");
  int exit_code = 0;
  if (!ParseFlags(flags, argc, argv, &exit_code)) return exit_code;
  if (flags.positional().empty()) return UsageError(flags, "no endpoint given");
  bool all = true;
  for (const auto& endpoint : flags.positional()) {
    auto r = CheckHealth(endpoint, service, std::chrono::milliseconds(timeout_ms));
    if (!r.ok()) {
      std::cout << endpoint << " UNREACHABLE " << r.status().message() << "\n";
      all = false;
      continue;
    }
    std::cout << endpoint << " " << ServingStatusName(*r) << "\n";
    all = all && *r == ServingStatus::kServing;
  }
  return all ? 0 : 1;
}

}  // namespace stratus::cli
