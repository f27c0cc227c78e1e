// The one macro family for errors as values, on absl::Status alone (no gRPC), so that the
// runtime, tools and training use it as well as the services:
//
//   STRATUS_RETURN_IF_ERROR(Validate(options));
//   STRATUS_ASSIGN_OR_RETURN(auto model, Model::Load(path));
//   STRATUS_ASSIGN_OR_RETURN(existing_variable, Parse(text));
#ifndef STRATUS_COMMON_STATUS_MACROS_H_
#define STRATUS_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates an absl::Status expression and returns it from the enclosing function on error.
#define STRATUS_RETURN_IF_ERROR(expr)          \
  do {                                         \
    ::absl::Status _stratus_status = (expr);   \
    if (!_stratus_status.ok()) return _stratus_status; \
  } while (0)

#define STRATUS_CONCAT_INNER(a, b) a##b
#define STRATUS_CONCAT(a, b) STRATUS_CONCAT_INNER(a, b)

// `STRATUS_ASSIGN_OR_RETURN(auto x, MakeX());` assigns the value or returns the error.
#define STRATUS_ASSIGN_OR_RETURN(lhs, rexpr) \
  STRATUS_ASSIGN_OR_RETURN_IMPL(STRATUS_CONCAT(_stratus_or_, __LINE__), lhs, rexpr)
#define STRATUS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                  \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()

#endif  // STRATUS_COMMON_STATUS_MACROS_H_
