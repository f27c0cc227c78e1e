// Where Stratus finds what it did not build: the model repository and the shared folder.
//
// The shared folder (design notes, training and development data, golden reference outputs):
// $STRATUS_SHARED_DIR, else $STRATUS_SOURCE_DIR/../shared, else ../shared relative to the
// working directory. CMake sets STRATUS_SHARED_DIR for every test from its cache variable of
// the same name (default: `shared` beside the source tree), so a clone in any folder finds it;
// programs run by hand from the repository root find it by default.
#ifndef STRATUS_COMMON_PATHS_H_
#define STRATUS_COMMON_PATHS_H_

#include <cstdlib>
#include <filesystem>
#include <string>

namespace stratus {

// The model repository: $STRATUS_MODEL_DIR, else $STRATUS_CACHE/models, else
// ~/.cache/stratus/models (what `make models` fills).
inline std::string DefaultModelDir() {
  if (const char* d = std::getenv("STRATUS_MODEL_DIR"); d != nullptr && *d != '\0') return d;
  if (const char* c = std::getenv("STRATUS_CACHE"); c != nullptr && *c != '\0') {
    return std::string(c) + "/models";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.cache/stratus/models";
}

inline std::filesystem::path SharedDir() {
  if (const char* d = std::getenv("STRATUS_SHARED_DIR"); d != nullptr && *d != '\0') return d;
  if (const char* s = std::getenv("STRATUS_SOURCE_DIR"); s != nullptr && *s != '\0') {
    return std::filesystem::path(s) / ".." / "shared";
  }
  return "../shared";
}

// SharedDir()/data, or $STRATUS_DATA when set (training and eval programs take it).
inline std::filesystem::path SharedDataDir() {
  if (const char* d = std::getenv("STRATUS_DATA"); d != nullptr && *d != '\0') return d;
  return SharedDir() / "data";
}

}  // namespace stratus

#endif  // STRATUS_COMMON_PATHS_H_
