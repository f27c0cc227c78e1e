// The subcommands of the `stratus` tool in cli/up.cc, health.cc and keys.cc; the services'
// commands are declared in cli/detector.h, recognition.h, mask.h, sentiment.h and ingest.h.
#ifndef STRATUS_CLI_COMMANDS_H_
#define STRATUS_CLI_COMMANDS_H_

namespace stratus::cli {

// stratus up: PostgreSQL (embedded unless STRATUS_DATABASE_URL) and all five services.
int RunUpCommand(int argc, char** argv);
// stratus health ENDPOINT...: grpc.health.v1 check of each endpoint.
int RunHealthCommand(int argc, char** argv);
// stratus keys create|list|revoke|hash: API keys.
int RunKeysCommand(int argc, char** argv);

}  // namespace stratus::cli

#endif  // STRATUS_CLI_COMMANDS_H_
