// stratus-detector: Object and face detection with LibTorch models.
#include <iostream>

#include "common/logging.h"
#include "common/service_flags.h"
#include "common/service_host.h"
#include "services/detector/detector_service.h"

int main(int argc, char** argv) {
  stratus::FlagSet flags("stratus-detector", "Object and face detection with LibTorch models.");
  stratus::CommonServiceFlags common;
  stratus::RegisterCommonServiceFlags(stratus::kDetectorDefaults, false, flags, &common);
  int exit_code = 0;
  if (!stratus::ParseFlagsOrExit(flags, argc, argv, &exit_code)) return exit_code;
  if (auto s = stratus::ApplyCommonServiceFlags(&common); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 2;
  }
  auto host = stratus::ServiceHost::Create(common.host);
  if (!host.ok()) {
    std::cerr << "error: " << host.status().message() << "\n";
    return 2;
  }
  stratus::detector::DetectorServiceImpl service;
  (*host)->AddService(&service, "stratus.v1.DetectorService");
  if (auto s = (*host)->Start(); !s.ok()) {
    SLOG(ERROR) << "cannot start" << stratus::Kv("error", s.message());
    return 1;
  }
  stratus::ServiceHost::InstallSignalHandlers(host->get());
  (*host)->Wait();
  return 0;
}
