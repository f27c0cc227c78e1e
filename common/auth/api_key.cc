#include "common/auth/api_key.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace stratus::auth {
namespace {

constexpr absl::string_view kPrefix = "stk_";
constexpr size_t kIdLength = 12;
constexpr size_t kSecretLength = 32;
constexpr absl::string_view kIdAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
constexpr absl::string_view kSecretAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// `n` characters drawn uniformly from `alphabet` (rejection sampling: no modulo bias).
absl::StatusOr<std::string> RandomString(absl::string_view alphabet, size_t n) {
  std::string out;
  const unsigned limit = 256 - 256 % alphabet.size();
  while (out.size() < n) {
    unsigned char buf[64];
    if (RAND_bytes(buf, sizeof(buf)) != 1) return absl::InternalError("no random bytes");
    for (unsigned char c : buf) {
      if (c >= limit) continue;
      out.push_back(alphabet[c % alphabet.size()]);
      if (out.size() == n) break;
    }
  }
  return out;
}

bool AllIn(absl::string_view s, absl::string_view alphabet) {
  for (char c : s) {
    if (alphabet.find(c) == absl::string_view::npos) return false;
  }
  return true;
}

// The table of methods that change nothing, by service. Every other method of these services
// (and every method of any other service but health) needs admin.
const std::map<std::string, std::vector<std::string>, std::less<>>& ReadMethods() {
  static const auto* kTable = new std::map<std::string, std::vector<std::string>, std::less<>>{
      {"stratus.v1.DetectorService", {"Detect", "DetectStream", "AnalyzeFaces", "ListModels"}},
      {"stratus.v1.MaskService", {"Classify"}},
      {"stratus.v1.RecognitionService",
       {"DetectFaces", "CompareFaces", "ListCollections", "DescribeCollection", "ListFaces",
        "SearchFaces", "SearchFacesByImage", "DetectLabels", "DetectProtectiveEquipment",
        "ListUsers", "SearchUsers", "SearchUsersByImage"}},
      // Feed stores the posts it scores, so it is not here.
      {"stratus.v1.SentimentService", {"DetectSentiment", "BatchDetectSentiment", "GetTrends"}},
      {"stratus.v1.IngestService",
       {"ListStreams", "ListEvents", "WatchEvents", "GetStreamFrame", "GetSnapshot"}},
      {"grpc.reflection.v1alpha.ServerReflection", {"ServerReflectionInfo"}},
      {"grpc.reflection.v1.ServerReflection", {"ServerReflectionInfo"}},
  };
  return *kTable;
}

}  // namespace

absl::StatusOr<std::string> RandomToken(size_t chars) {
  return RandomString(kSecretAlphabet, chars);
}

absl::StatusOr<NewKey> GenerateKey() {
  absl::StatusOr<std::string> id = RandomString(kIdAlphabet, kIdLength);
  if (!id.ok()) return id.status();
  absl::StatusOr<std::string> secret = RandomString(kSecretAlphabet, kSecretLength);
  if (!secret.ok()) return secret.status();
  return NewKey{*id, absl::StrCat(kPrefix, *id, "_", *secret)};
}

absl::StatusOr<std::string> KeyId(absl::string_view key) {
  if (key.size() != kPrefix.size() + kIdLength + 1 + kSecretLength ||
      !absl::StartsWith(key, kPrefix) || key[kPrefix.size() + kIdLength] != '_') {
    return absl::UnauthenticatedError("malformed API key: expected stk_<id>_<secret>");
  }
  absl::string_view id = key.substr(kPrefix.size(), kIdLength);
  absl::string_view secret = key.substr(kPrefix.size() + kIdLength + 1);
  if (!AllIn(id, kIdAlphabet) || !AllIn(secret, kSecretAlphabet)) {
    return absl::UnauthenticatedError("malformed API key: expected stk_<id>_<secret>");
  }
  return std::string(id);
}

KeyHash HashKey(absl::string_view key) {
  KeyHash h;
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), h.data());
  return h;
}

std::string HashToHex(const KeyHash& hash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : hash) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

absl::StatusOr<KeyHash> HashFromHex(absl::string_view hex) {
  if (hex.size() != 64) return absl::InvalidArgumentError("key hash: expected 64 hex digits");
  KeyHash h;
  for (size_t i = 0; i < h.size(); ++i) {
    int v = 0;
    for (char c : hex.substr(2 * i, 2)) {
      c = absl::ascii_tolower(static_cast<unsigned char>(c));
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return absl::InvalidArgumentError("key hash: expected 64 hex digits");
      v = v * 16 + d;
    }
    h[i] = static_cast<unsigned char>(v);
  }
  return h;
}

bool HashEquals(const KeyHash& a, const KeyHash& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::StatusOr<Scope> ParseScope(absl::string_view text) {
  absl::string_view service = "*", level = text;
  if (size_t colon = text.find(':'); colon != absl::string_view::npos) {
    service = text.substr(0, colon);
    level = text.substr(colon + 1);
  }
  Scope s;
  s.service = std::string(service);
  if (level == "read") {
    s.level = Level::kRead;
  } else if (level == "admin") {
    s.level = Level::kAdmin;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("scope '", text, "': level must be read or admin"));
  }
  if (service != "*" &&
      (service.empty() || !AllIn(service, "abcdefghijklmnopqrstuvwxyz0123456789-"))) {
    return absl::InvalidArgumentError(
        absl::StrCat("scope '", text, "': service must be a short name such as detector, or *"));
  }
  return s;
}

absl::StatusOr<std::vector<Scope>> ParseScopes(const std::vector<std::string>& texts) {
  if (texts.empty()) return absl::InvalidArgumentError("a key needs at least one scope");
  std::vector<Scope> out;
  for (const std::string& t : texts) {
    absl::StatusOr<Scope> s = ParseScope(t);
    if (!s.ok()) return s.status();
    out.push_back(*std::move(s));
  }
  return out;
}

std::string ScopeToString(const Scope& scope) {
  return absl::StrCat(scope.service, ":", scope.level == Level::kAdmin ? "admin" : "read");
}

Access RequiredAccess(absl::string_view method) {
  if (absl::StartsWith(method, "/grpc.health.v1.Health/")) return Access::kOpen;
  if (absl::StartsWith(method, "/stratus.v1.KeyService/")) return Access::kGlobalAdmin;
  absl::string_view path = absl::StripPrefix(method, "/");
  size_t slash = path.find('/');
  if (slash == absl::string_view::npos) return Access::kAdmin;
  auto it = ReadMethods().find(path.substr(0, slash));
  if (it == ReadMethods().end()) return Access::kAdmin;
  for (const std::string& m : it->second) {
    if (m == path.substr(slash + 1)) return Access::kRead;
  }
  return Access::kAdmin;
}

const char* AccessName(Access access) {
  switch (access) {
    case Access::kOpen:
      return "open";
    case Access::kRead:
      return "read";
    case Access::kAdmin:
      return "admin";
    case Access::kGlobalAdmin:
      return "*:admin";
  }
  return "admin";
}

bool Allows(const std::vector<Scope>& scopes, const std::string& service, Access access) {
  if (access == Access::kOpen) return true;
  for (const Scope& s : scopes) {
    if (access == Access::kGlobalAdmin) {
      if (s.service == "*" && s.level == Level::kAdmin) return true;
      continue;
    }
    if (s.service != "*" && s.service != service) continue;
    if (s.level == Level::kAdmin || access == Access::kRead) return true;
  }
  return false;
}

}  // namespace stratus::auth
