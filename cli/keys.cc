// stratus keys create|list|revoke|generate|hash: API key management (stratus.v1.KeyService),
// and keys for a static keys file (--api-keys-file), made offline.
#include <google/protobuf/util/time_util.h>

#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "common/auth/api_key.h"
#include "common/auth/key_store.h"
#include "common/flags.h"
#include "common/service_flags.h"
#include "stratus/v1/keys.grpc.pb.h"

namespace stratus::cli {
namespace {

constexpr char kUsage[] =
    "usage: stratus keys create [--name N] [--scope S]...   a key in the keys table\n"
    "       stratus keys list [--output table|lines|json] | revoke ID\n"
    "       stratus keys generate [--name N] [--scope S]... a new key (line 1) and its keys-file\n"
    "                                                      line (line 2), offline\n"
    "       stratus keys hash KEY [--name N] [--scope S]... the keys-file line of KEY\n"
    "Scopes: <service>:<level>, service one of ingest detector recognition mask sentiment or *,\n"
    "level read or admin (admin includes read); \"read\" and \"admin\" alone mean *:read and\n"
    "*:admin. Keys are managed through any service with the keys table (default: ingest).\n";

using Stub = v1::KeyService::Stub;

std::string Time(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::ToString(t);
}


}  // namespace

int RunKeysCommand(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string sub = argv[1];
  std::string name;
  std::vector<std::string> scopes;
  FlagSet flags("stratus keys " + sub, kUsage);
  ClientFlags client_flags(flags, kIngestDefaults);  // any service with the keys table
  if (sub == "create" || sub == "hash" || sub == "generate") {
    flags.String("name", "", &name, "what the key is for (shown in listings)");
    flags.StringList("scope", "", &scopes, "a scope (repeatable; default: admin)");
  }
  std::optional<OutputFlag> output;
  if (sub == "list") output.emplace(flags, /*table=*/true, Output::kTable);
  int code = 0;
  if (!ParseFlags(flags, argc - 1, argv + 1, &code)) return code;
  if (output && !output->Resolve(flags, &code)) return code;
  if (scopes.empty()) scopes.push_back("admin");
  const auto& args = flags.positional();

  if (sub == "hash" || sub == "generate") {
    if (args.size() != (sub == "hash" ? 1u : 0u)) {
      std::cerr << "error: stratus keys " << (sub == "hash" ? "hash KEY" : "generate") << "\n";
      return 2;
    }
    auto parsed = auth::ParseScopes(scopes);
    if (!parsed.ok()) {
      std::cerr << "error: " << parsed.status().message() << "\n";
      return 2;
    }
    std::string key = sub == "hash" ? args[0] : "";
    if (key.empty()) {
      auto fresh = auth::GenerateKey();
      if (!fresh.ok()) {
        std::cerr << "error: " << fresh.status().message() << "\n";
        return 1;
      }
      key = fresh->key;
      std::cout << key << "\n";
    }
    auto line = auth::KeysFileLine(key, *parsed, name);
    if (!line.ok()) {
      std::cerr << "error: " << line.status().message() << "\n";
      return 2;
    }
    std::cout << *line << "\n";
    return 0;
  }
  if (sub == "create") {
    v1::CreateKeyRequest req;
    req.set_name(name);
    for (const auto& s : scopes) req.add_scopes(s);
    auto resp = client_flags.Client<v1::KeyService>().Call(&Stub::CreateKey, req,
                                                           CallKind::kControl);
    if (!resp.ok()) return ReportError(resp.status());
    std::cerr << "key " << resp->key().id() << " scopes "
              << absl::StrJoin(resp->key().scopes(), ",") << " (the key below is shown only now)\n";
    std::cout << resp->secret_key() << "\n";
    return 0;
  }
  if (sub == "list") {
    auto listed = client_flags.Client<v1::KeyService>().Call(
        &Stub::ListKeys, v1::ListKeysRequest(), CallKind::kControl);
    if (!listed.ok()) return ReportError(listed.status());
    const v1::ListKeysResponse& resp = *listed;
    if (output->format() == Output::kJson) {
      std::cout << ProtoJson(resp) << "\n";
      return 0;
    }
    if (output->format() == Output::kLines) {
      for (const auto& k : resp.keys()) std::cout << ProtoJson(k) << "\n";
      return 0;
    }
    Table table({"ID", "CREATED", "REVOKED", "SCOPES", "NAME"});
    for (const auto& k : resp.keys()) {
      table.Add({k.id(), Time(k.create_time()),
                 k.has_revoke_time() ? Time(k.revoke_time()) : "-",
                 absl::StrJoin(k.scopes(), ","), k.name()});
    }
    table.Print(std::cout);
    return 0;
  }
  if (sub == "revoke") {
    if (args.size() != 1) {
      std::cerr << "error: stratus keys revoke ID\n";
      return 2;
    }
    v1::RevokeKeyRequest req;
    req.set_id(args[0]);
    auto revoked = client_flags.Client<v1::KeyService>().Call(&Stub::RevokeKey, req,
                                                              CallKind::kControl);
    if (!revoked.ok()) return ReportError(revoked.status(), args[0]);
    std::cout << "revoked " << args[0] << "\n";
    return 0;
  }
  std::cerr << "error: unknown subcommand '" << sub << "'\n" << kUsage;
  return 2;
}

}  // namespace stratus::cli
