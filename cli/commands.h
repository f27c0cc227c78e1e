// The subcommands of the `stratus` tool implemented in cli/ itself. Others live beside the
// component they drive (e.g. services/detector/detector_cli.h) and are wired in main.cc.
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
