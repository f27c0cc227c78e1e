// stratus-import: turns the pretrained face-api weights (npm @vladmandic/face-api, already
// fetched, integrity-checked and extracted by scripts/models.d/10-import-faceapi.sh) into
// TorchScript models in the model repository.
//
//   stratus-import --package-dir DIR [--model-dir DIR] [--tarball FILE] [--models a,b] [--force]
//   stratus-import --print-stamp-key
//
// --model-dir defaults to $STRATUS_MODEL_DIR, then ~/.cache/stratus/models.
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"
#include "tools/import/faceapi_import.h"

namespace {

constexpr char kUsage[] =
    "usage: stratus-import --package-dir DIR [--model-dir DIR] [--tarball FILE]\n"
    "                      [--models NAME,...] [--force]\n"
    "       stratus-import --print-stamp-key\n"
    "Imports the face-api networks (faces, face_landmarks68, face_descriptor, face_age_gender,\n"
    "face_expression) from an extracted @vladmandic/face-api package into the model repository\n"
    "(--model-dir, default $STRATUS_MODEL_DIR or ~/.cache/stratus/models). --tarball: verify the\n"
    "npm tarball against the pinned integrity first. --force: rebuild cached models.\n";

}  // namespace

int main(int argc, char** argv) {
  stratus::import::FaceApiImportOptions options;
  if (const char* env = std::getenv("STRATUS_MODEL_DIR"); env != nullptr && *env != '\0') {
    options.model_dir = env;
  } else if (const char* home = std::getenv("HOME"); home != nullptr) {
    options.model_dir = std::string(home) + "/.cache/stratus/models";
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    const bool has_value = arg.find('=') != std::string::npos;
    if (has_value) {
      value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
    }
    auto next = [&]() -> bool {
      if (has_value) return true;
      if (i + 1 >= argc) return false;
      value = argv[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--print-stamp-key") {
      // What a current model folder's .stamp holds (lets scripts skip without the package).
      std::cout << stratus::import::StampKey(options.integrity,
                                             stratus::import::kImporterVersion)
                << "\n";
      return 0;
    } else if (arg == "--force") {
      options.force = true;
    } else if ((arg == "--package-dir" || arg == "--package_dir") && next()) {
      options.package_dir = value;
    } else if ((arg == "--model-dir" || arg == "--model_dir") && next()) {
      options.model_dir = value;
    } else if (arg == "--tarball" && next()) {
      options.tarball = value;
    } else if (arg == "--models" && next()) {
      options.models = absl::StrSplit(value, ',', absl::SkipEmpty());
    } else {
      std::cerr << "stratus-import: bad argument '" << argv[i] << "'\n" << kUsage;
      return 2;
    }
  }
  if (options.package_dir.empty()) {
    std::cerr << "stratus-import: --package-dir is required\n" << kUsage;
    return 2;
  }
  auto result = stratus::import::ImportFaceApi(options);
  if (!result.ok()) {
    SLOG(ERROR) << "import failed" << stratus::Kv("error", result.status().ToString());
    return 1;
  }
  SLOG(INFO) << "face-api import done" << stratus::Kv("imported", absl::StrJoin(result->imported, ","))
             << stratus::Kv("cached", absl::StrJoin(result->skipped, ","))
             << stratus::Kv("model_dir", options.model_dir.string());
  return 0;
}
