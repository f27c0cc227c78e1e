// The keys `stratus up` keeps in its credentials file, beside the AWS pair.
//
// EnsureCredentialsKey() returns the key stored as `stratus_api_key` in `profile` of `file`
// while `keys` (which must have the keys table) accepts it with exactly `scopes`; otherwise it
// creates a key named `name` with `scopes` in the table and writes it there (atomically, mode
// 0600, keeping the file's other entries). So the first start makes the key, later starts reuse
// it, and a revoked or rescoped key is replaced.
//
// Errors: FAILED_PRECONDITION without a keys table, the table's or the file's error otherwise.
#ifndef STRATUS_COMMON_AUTH_BOOTSTRAP_H_
#define STRATUS_COMMON_AUTH_BOOTSTRAP_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/api_key.h"
#include "common/auth/key_store.h"

namespace stratus::auth {

absl::StatusOr<std::string> EnsureCredentialsKey(KeyStore& keys, const std::string& file,
                                                 const std::string& profile,
                                                 const std::string& name,
                                                 const std::vector<Scope>& scopes);

}  // namespace stratus::auth

#endif  // STRATUS_COMMON_AUTH_BOOTSTRAP_H_
