#include "common/auth/bootstrap.h"

#include "common/auth/client.h"
#include "common/aws/credentials.h"
#include "common/status_macros.h"

namespace stratus::auth {

absl::StatusOr<std::string> EnsureCredentialsKey(KeyStore& keys, const std::string& file,
                                                 const std::string& profile,
                                                 const std::string& name,
                                                 const std::vector<Scope>& scopes) {
  if (!keys.has_database()) return absl::FailedPreconditionError("no API keys table");
  absl::StatusOr<std::string> kept = aws::ReadCredentialsValue(file, profile, kCredentialsKey);
  if (kept.ok()) {
    absl::StatusOr<KeyRecord> r = keys.Verify(*kept);
    if (r.ok() && r->scopes == scopes) return kept;
  }
  absl::StatusOr<KeyStore::Created> created = keys.CreateKey(name, scopes);
  if (!created.ok()) return created.status();
  STRATUS_RETURN_IF_ERROR(aws::WriteCredentialsValue(file, profile, kCredentialsKey, created->key));
  return created->key;
}

}  // namespace stratus::auth
