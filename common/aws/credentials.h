// AWS access keys: the store the SigV4 verifier looks secrets up in, key generation, and the
// AWS shared-credentials file (~/.aws/credentials format) that AWS SDKs and the AWS CLI read.
//
//   // main.cc: flags/env first, else the data dir's file (generated on first start).
//   CredentialSources src;
//   src.access_key_id = flags.access_key_id;          // or getenv("AWS_ACCESS_KEY_ID")
//   src.secret_access_key = flags.secret_access_key;
//   src.shared_credentials_file = data_dir + "/credentials";
//   src.create_if_missing = true;                     // `stratus up` on first start
//   STRATUS_ASSIGN_OR_RETURN(AwsCredentials creds, LoadCredentials(src));
//   CredentialsStore store;
//   store.Add(creds);
//
// Then `AWS_SHARED_CREDENTIALS_FILE=<data-dir>/credentials AWS_PROFILE=stratus` is all an SDK
// user needs besides the endpoint URL.
#ifndef STRATUS_COMMON_AWS_CREDENTIALS_H_
#define STRATUS_COMMON_AWS_CREDENTIALS_H_

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace stratus::aws {

struct AwsCredentials {
  std::string access_key_id;      // e.g. "AKIAIOSFODNN7EXAMPLE"
  std::string secret_access_key;  // 40 characters when generated here
  std::string session_token;      // optional; when set, requests must carry it
};

// The profile name Stratus writes and reads by default.
inline constexpr char kDefaultProfile[] = "stratus";

// Access key id -> credentials. Thread-safe: Add() and lookups may run concurrently.
class CredentialsStore {
 public:
  CredentialsStore() = default;
  explicit CredentialsStore(const std::vector<AwsCredentials>& creds);

  // INVALID_ARGUMENT when the id or secret is empty or the id has characters outside
  // [A-Za-z0-9]. Replaces an existing entry with the same id.
  absl::Status Add(const AwsCredentials& creds);
  // nullopt when the id is unknown.
  std::optional<AwsCredentials> Find(const std::string& access_key_id) const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, AwsCredentials> by_id_ ABSL_GUARDED_BY(mu_);
};

// A fresh AWS-looking key pair from the kernel's random source (getrandom(2), the same pool as
// /dev/urandom): "AKIA" + 16 characters of upper-case base32 (A-Z, 2-7), and a 40-character
// secret over the base64 alphabet. INTERNAL if no randomness is available.
absl::StatusOr<AwsCredentials> GenerateCredentials();

// Reads `profile` from an AWS shared-credentials file (INI: `[profile]` sections,
// `aws_access_key_id`, `aws_secret_access_key`, optional `aws_session_token`; `#`/`;`
// comments; key names case-insensitive). NOT_FOUND when the file or the profile is missing,
// INVALID_ARGUMENT when the profile lacks a key or secret.
absl::StatusOr<AwsCredentials> ReadSharedCredentialsFile(
    const std::string& path, const std::string& profile = kDefaultProfile);

// Writes `creds` under `[profile]`, keeping the file's other profiles as they were, and the
// profile's keys other than aws_access_key_id, aws_secret_access_key and aws_session_token. Atomic
// (a temporary file in the same folder, fsync, rename) and created with mode 0600 (the final
// file is 0600 whatever it was before). Creates the parent folder if missing (mode 0700).
// Serialised with other writers and with LoadCredentials' generation through an flock on
// "<path>.lock" (left in place, mode 0600).
absl::Status WriteSharedCredentialsFile(const std::string& path, const std::string& profile,
                                        const AwsCredentials& creds);

// One more key of `profile` (e.g. "stratus_api_key", which `stratus up` keeps beside the AWS
// pair). NOT_FOUND when the file, the profile or the key is missing or empty.
absl::StatusOr<std::string> ReadCredentialsValue(const std::string& path,
                                                 const std::string& profile,
                                                 const std::string& key);
// Sets `key = value` in `profile` (created when missing), keeping everything else; atomic,
// 0600 and locked like WriteSharedCredentialsFile, which in turn keeps such keys.
absl::Status WriteCredentialsValue(const std::string& path, const std::string& profile,
                                   const std::string& key, const std::string& value);

// Where the credentials come from; main.cc fills this from flags and environment.
struct CredentialSources {
  // Explicit keys (flags such as --access-key-id, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY):
  // used when both are non-empty. One without the other is INVALID_ARGUMENT.
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  // Otherwise this shared-credentials file and profile ("" : no file).
  std::string shared_credentials_file;
  std::string profile = kDefaultProfile;
  // When the file or profile is missing: generate a key pair and write it there.
  bool create_if_missing = false;
  // With explicit keys and a file path: also write the keys to the file (so SDK users can
  // point AWS_SHARED_CREDENTIALS_FILE at it).
  bool write_explicit_keys = false;
};

// Resolves `sources` as documented there. Processes that start together with the same file and
// create_if_missing (e.g. recognition and sentiment under `stratus up`) all get the same
// generated pair: generation happens under the file's lock, after reading it again. NOT_FOUND when
// nothing is configured and create_if_missing is false; file errors as
// ReadSharedCredentialsFile/WriteSharedCredentialsFile.
absl::StatusOr<AwsCredentials> LoadCredentials(const CredentialSources& sources);

}  // namespace stratus::aws

#endif  // STRATUS_COMMON_AWS_CREDENTIALS_H_
