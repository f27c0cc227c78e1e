// stratus-recognition: The Rekognition-compatible face and label API.
#include <iostream>

#include "common/logging.h"
#include "common/db.h"
#include "services/recognition/schema.h"
#include "common/service_flags.h"
#include "common/service_host.h"
#include "services/recognition/recognition_service.h"

int main(int argc, char** argv) {
  stratus::FlagSet flags("stratus-recognition", "The Rekognition-compatible face and label API.");
  stratus::CommonServiceFlags common;
  stratus::RegisterCommonServiceFlags(stratus::kRecognitionDefaults, true, flags, &common);
  int exit_code = 0;
  if (!stratus::ParseFlagsOrExit(flags, argc, argv, &exit_code)) return exit_code;
  if (auto s = stratus::ApplyCommonServiceFlags(&common); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }
  if (common.database_url.empty()) {
    std::cerr << "error: --database-url (or STRATUS_DATABASE_URL) is required\n";
    return 2;
  }
  auto db = stratus::Database::Create({.url = common.database_url});
  if (!db.ok()) {
    std::cerr << "error: " << db.status().message() << "\n";
    return 2;
  }
  auto host = stratus::ServiceHost::Create(common.host);
  if (!host.ok()) {
    std::cerr << "error: " << host.status().message() << "\n";
    return 2;
  }
  stratus::recognition::RecognitionServiceImpl service;
  (*host)->AddService(&service, "stratus.v1.RecognitionService");
  (*host)->AddReadinessCheck("database", stratus::DatabaseReadinessCheck(db->get(), "recognition",
                                                                    stratus::recognition::Migrations()));
  if (auto s = (*host)->Start(); !s.ok()) {
    SLOG(ERROR) << "cannot start" << stratus::Kv("error", s.message());
    return 1;
  }
  stratus::ServiceHost::InstallSignalHandlers(host->get());
  (*host)->Wait();
  return 0;
}
