// The variables of paths in job files (${VAR}, ${VAR:-default}, a leading ~): one rule for every
// job format the trainers read.
#ifndef STRATUS_TRAINING_PATH_VARIABLES_H_
#define STRATUS_TRAINING_PATH_VARIABLES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace stratus::training {

// Replaces each ${VAR} with $VAR, and each ${VAR:-default} with $VAR or, when VAR is unset or
// empty, `default`; then a leading "~" (alone or before "/") with $HOME. INVALID_ARGUMENT for an
// unclosed "${" or a VAR unset without a default.
absl::StatusOr<std::string> ExpandPathVariables(absl::string_view text);

}  // namespace stratus::training

#endif  // STRATUS_TRAINING_PATH_VARIABLES_H_
