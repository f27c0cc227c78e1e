#include "common/aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/aws/aws_error.h"
#include "common/percent_decode.h"

namespace stratus::aws {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

bool IsUnreserved(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

absl::Status Incomplete(absl::string_view message) {
  return AwsError(400, "IncompleteSignatureException", message);
}

// The parts of an Authorization header.
struct AuthorizationParts {
  std::string access_key_id;
  std::string date;  // YYYYMMDD
  std::string region;
  std::string service;
  std::string scope;  // date/region/service/aws4_request
  std::vector<std::string> signed_headers;
  std::string signed_headers_raw;
  std::string signature;
};

absl::StatusOr<AuthorizationParts> ParseAuthorization(absl::string_view header) {
  absl::string_view value = absl::StripAsciiWhitespace(header);
  if (!absl::ConsumePrefix(&value, kSigV4Algorithm) ||
      (!value.empty() && !absl::ascii_isspace(static_cast<unsigned char>(value[0])))) {
    return Incomplete(
        absl::StrCat("Unsupported AWS 'algorithm': '", header.substr(0, header.find(' ')), "'"));
  }
  std::map<std::string, std::string> params;
  for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    part = absl::StripAsciiWhitespace(part);
    size_t eq = part.find('=');
    if (eq == absl::string_view::npos) {
      return Incomplete(
          absl::StrCat("Authorization header requires each component to be of the "
                       "form key=value, got '",
                       part, "'. Authorization=", header));
    }
    params[std::string(part.substr(0, eq))] = std::string(part.substr(eq + 1));
  }
  std::string missing;
  for (const char* key : {"Credential", "SignedHeaders", "Signature"}) {
    if (params.count(key) == 0 || params[key].empty()) {
      absl::StrAppend(&missing, "Authorization header requires '", key, "' parameter. ");
    }
  }
  if (!missing.empty()) return Incomplete(absl::StrCat(missing, "Authorization=", header));

  AuthorizationParts p;
  p.signature = params["Signature"];
  p.signed_headers_raw = params["SignedHeaders"];
  std::vector<std::string> cred = absl::StrSplit(params["Credential"], '/');
  if (cred.size() != 5) {
    return Incomplete(absl::StrCat(
        "Credential should be of the form AKID/YYYYMMDD/region/service/aws4_request, got '",
        params["Credential"], "'"));
  }
  if (cred[4] != "aws4_request") {
    return AwsError(403, "InvalidSignatureException",
                    absl::StrCat("Credential should be scoped with a valid terminator: "
                                 "'aws4_request', not '",
                                 cred[4], "'."));
  }
  p.access_key_id = cred[0];
  p.date = cred[1];
  p.region = cred[2];
  p.service = cred[3];
  if (p.access_key_id.empty() || p.date.size() != 8 || p.region.empty() || p.service.empty()) {
    return Incomplete(absl::StrCat("Incorrect credential scope in '", params["Credential"], "'"));
  }
  p.scope = absl::StrCat(p.date, "/", p.region, "/", p.service, "/aws4_request");
  for (absl::string_view h : absl::StrSplit(p.signed_headers_raw, ';')) {
    if (h.empty()) return Incomplete("SignedHeaders has an empty header name");
    p.signed_headers.push_back(absl::AsciiStrToLower(h));
  }
  return p;
}

}  // namespace

std::string Sha256Hex(absl::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return HexEncode(absl::string_view(reinterpret_cast<const char*>(md), sizeof(md)));
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string HexEncode(absl::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string UriEncode(absl::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 15]);
    }
  }
  return out;
}

std::string CanonicalUri(absl::string_view raw_path) {
  // As the AWS SDKs do for every service but S3: resolve "." and "..", drop empty segments,
  // keep a leading and trailing slash, then URI-encode the (already encoded) path again.
  std::vector<absl::string_view> segments;
  for (absl::string_view seg : absl::StrSplit(raw_path, '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(seg);
  }
  std::string normalized = absl::StrCat("/", absl::StrJoin(segments, "/"));
  if (!segments.empty() && absl::EndsWith(raw_path, "/")) normalized += "/";
  return UriEncode(normalized, /*keep_slash=*/true);
}

std::string CanonicalQueryString(absl::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> params;
  for (absl::string_view part : absl::StrSplit(raw_query, '&', absl::SkipEmpty())) {
    size_t eq = part.find('=');
    absl::string_view k = part.substr(0, eq);
    absl::string_view v = eq == absl::string_view::npos ? absl::string_view() : part.substr(eq + 1);
    params.emplace_back(UriEncode(PercentDecode(k), false), UriEncode(PercentDecode(v), false));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    absl::StrAppend(&out, k, "=", v);
  }
  return out;
}

std::string CanonicalHeaderValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool space = false;
  for (char c : absl::StripAsciiWhitespace(value)) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string FormatAmzDate(absl::Time t) {
  return absl::FormatTime("%Y%m%dT%H%M%SZ", t, absl::UTCTimeZone());
}

bool ParseAmzDate(absl::string_view s, absl::Time* t) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return false;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && !absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  int year = num(0, 4), month = num(4, 2), day = num(6, 2);
  int hour = num(9, 2), minute = num(11, 2), second = num(13, 2);
  absl::CivilSecond cs(year, month, day, hour, minute, second);
  // CivilSecond normalises out-of-range fields (month 13 -> next year): refuse those.
  if (cs.year() != year || cs.month() != month || cs.day() != day || cs.hour() != hour ||
      cs.minute() != minute || cs.second() != second) {
    return false;
  }
  *t = absl::FromCivil(cs, absl::UTCTimeZone());
  return true;
}

std::string CanonicalRequest(const CanonicalRequestInput& in) {
  std::string out = absl::StrCat(in.method, "\n", CanonicalUri(in.raw_path), "\n",
                                 CanonicalQueryString(in.raw_query), "\n");
  for (const std::string& name : in.signed_headers) {
    auto it = in.headers.find(name);
    absl::StrAppend(&out, name, ":", CanonicalHeaderValue(it == in.headers.end() ? "" : it->second),
                    "\n");
  }
  absl::StrAppend(&out, "\n", absl::StrJoin(in.signed_headers, ";"), "\n", in.payload_hash);
  return out;
}

std::string StringToSign(absl::string_view amz_date, absl::string_view scope,
                         absl::string_view canonical_request) {
  return absl::StrCat(kSigV4Algorithm, "\n", amz_date, "\n", scope, "\n",
                      Sha256Hex(canonical_request));
}

std::string DeriveSigningKey(absl::string_view secret, absl::string_view date,
                             absl::string_view region, absl::string_view service) {
  std::string k = HmacSha256(absl::StrCat("AWS4", secret), date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  return HmacSha256(k, "aws4_request");
}

absl::Status SignRequest(const SigningParams& params, absl::string_view method,
                         absl::string_view raw_path, absl::string_view raw_query,
                         absl::string_view body, std::map<std::string, std::string>* headers) {
  if (params.service.empty() || params.region.empty()) {
    return absl::InvalidArgumentError("signing needs a service and a region");
  }
  if (params.credentials.access_key_id.empty() || params.credentials.secret_access_key.empty()) {
    return absl::InvalidArgumentError("signing needs an access key id and a secret");
  }
  // Work on lower-cased names; drop any previous signature.
  std::map<std::string, std::string> lower;
  for (const auto& [k, v] : *headers) {
    std::string name = absl::AsciiStrToLower(k);
    if (name == "authorization") continue;
    lower[name] = v;
  }
  if (lower.count("host") == 0) return absl::InvalidArgumentError("signing needs a host header");
  absl::Time now = params.time == absl::InfinitePast() ? absl::Now() : params.time;
  std::string amz_date = FormatAmzDate(now);
  lower["x-amz-date"] = amz_date;
  if (!params.credentials.session_token.empty()) {
    lower["x-amz-security-token"] = params.credentials.session_token;
  }
  std::string payload_hash = Sha256Hex(body);
  if (params.add_content_sha256) lower["x-amz-content-sha256"] = payload_hash;

  CanonicalRequestInput in;
  in.method = std::string(method);
  in.raw_path = raw_path.empty() ? "/" : std::string(raw_path);
  in.raw_query = std::string(raw_query);
  in.headers = lower;
  for (const auto& [k, v] : lower) in.signed_headers.push_back(k);  // std::map: sorted
  in.payload_hash = payload_hash;
  std::string date = amz_date.substr(0, 8);
  std::string scope = absl::StrCat(date, "/", params.region, "/", params.service, "/aws4_request");
  std::string sts = StringToSign(amz_date, scope, CanonicalRequest(in));
  std::string key =
      DeriveSigningKey(params.credentials.secret_access_key, date, params.region, params.service);
  std::string signature = HexEncode(HmacSha256(key, sts));

  // Write back, replacing case-insensitive duplicates of what we set.
  for (auto it = headers->begin(); it != headers->end();) {
    std::string name = absl::AsciiStrToLower(it->first);
    if (name == "authorization" || name == "x-amz-date" || name == "x-amz-security-token" ||
        (params.add_content_sha256 && name == "x-amz-content-sha256")) {
      it = headers->erase(it);
    } else {
      ++it;
    }
  }
  (*headers)["X-Amz-Date"] = amz_date;
  if (!params.credentials.session_token.empty()) {
    (*headers)["X-Amz-Security-Token"] = params.credentials.session_token;
  }
  if (params.add_content_sha256) (*headers)["x-amz-content-sha256"] = payload_hash;
  (*headers)["Authorization"] = absl::StrCat(
      kSigV4Algorithm, " Credential=", params.credentials.access_key_id, "/", scope,
      ", SignedHeaders=", absl::StrJoin(in.signed_headers, ";"), ", Signature=", signature);
  return absl::OkStatus();
}

SigV4Verifier::SigV4Verifier(const CredentialsStore* credentials, Options options)
    : credentials_(credentials), options_(std::move(options)) {}

absl::StatusOr<SigV4Identity> SigV4Verifier::Verify(const HttpRequest& request) const {
  std::string authorization = request.Header("authorization");
  if (authorization.empty()) {
    return AwsError(400, "MissingAuthenticationTokenException",
                    "Request is missing Authentication Token");
  }
  absl::StatusOr<AuthorizationParts> parts = ParseAuthorization(authorization);
  if (!parts.ok()) return parts.status();
  const AuthorizationParts& p = *parts;

  std::string amz_date = request.Header("x-amz-date");
  absl::Time signed_at;
  if (amz_date.empty()) {
    return Incomplete(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=" +
        authorization);
  }
  if (!ParseAmzDate(amz_date, &signed_at)) {
    return Incomplete(
        absl::StrCat("X-Amz-Date must be in the ISO8601 basic format "
                     "YYYYMMDD'T'HHMMSS'Z', got '",
                     amz_date, "'"));
  }
  if (std::find(p.signed_headers.begin(), p.signed_headers.end(), "host") ==
      p.signed_headers.end()) {
    return Incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  for (const std::string& name : options_.signed_when_present) {
    if (request.headers.count(name) > 0 &&
        std::find(p.signed_headers.begin(), p.signed_headers.end(), name) ==
            p.signed_headers.end()) {
      return Incomplete(
          absl::StrCat("'", name, "' must be a 'SignedHeader' in the AWS Authorization."));
    }
  }

  std::optional<AwsCredentials> creds =
      credentials_ ? credentials_->Find(p.access_key_id) : std::nullopt;
  if (!creds) {
    return AwsError(400, "UnrecognizedClientException",
                    "The security token included in the request is invalid.");
  }
  std::string token = request.Header("x-amz-security-token");
  if (!ConstantTimeEquals(token, creds->session_token)) {
    return AwsError(400, "UnrecognizedClientException",
                    "The security token included in the request is invalid.");
  }

  if (p.date != amz_date.substr(0, 8)) {
    return AwsError(403, "InvalidSignatureException",
                    absl::StrCat("Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                                 "version of date from HTTP: '",
                                 p.date, "' != '", amz_date.substr(0, 8), "', from 'X-Amz-Date'."));
  }
  if (!options_.service.empty() && p.service != options_.service) {
    return AwsError(
        403, "InvalidSignatureException",
        absl::StrCat("Credential should be scoped to correct service: '", options_.service, "'. "));
  }
  if (!options_.region.empty() && p.region != options_.region) {
    return AwsError(
        403, "InvalidSignatureException",
        absl::StrCat("Credential should be scoped to a valid region, not '", p.region, "'. "));
  }

  absl::Time now = options_.clock ? options_.clock() : absl::Now();
  absl::Duration skew = options_.max_clock_skew;
  std::string skew_text = absl::StrCat(absl::ToInt64Minutes(skew), " min.");
  if (signed_at < now - skew) {
    return AwsError(
        400, "InvalidSignatureException",
        absl::StrCat("Signature expired: ", amz_date, " is now earlier than ",
                     FormatAmzDate(now - skew), " (", FormatAmzDate(now), " - ", skew_text, ")"));
  }
  if (signed_at > now + skew) {
    return AwsError(
        400, "InvalidSignatureException",
        absl::StrCat("Signature not yet current: ", amz_date, " is still later than ",
                     FormatAmzDate(now + skew), " (", FormatAmzDate(now), " + ", skew_text, ")"));
  }

  std::string payload_hash = Sha256Hex(request.body);
  if (std::string declared = request.Header("x-amz-content-sha256"); !declared.empty()) {
    if (declared == "UNSIGNED-PAYLOAD") {
      if (!options_.allow_unsigned_payload) {
        return AwsError(400, "InvalidSignatureException",
                        "x-amz-content-sha256: UNSIGNED-PAYLOAD is not accepted here; sign the "
                        "request body.");
      }
      payload_hash = declared;
    } else if (absl::AsciiStrToLower(declared) != payload_hash) {
      return AwsError(400, "InvalidSignatureException",
                      "The provided 'x-amz-content-sha256' header does not match what was "
                      "computed.");
    } else {
      payload_hash = declared;  // signed as sent (the SDKs send lower case)
    }
  }

  CanonicalRequestInput in;
  in.method = request.method;
  in.raw_path = request.path.empty() ? "/" : request.path;
  in.raw_query = request.query;
  in.headers = request.headers;
  in.signed_headers = p.signed_headers;
  in.payload_hash = payload_hash;
  std::string canonical = CanonicalRequest(in);
  std::string sts = StringToSign(amz_date, p.scope, canonical);
  std::string key = DeriveSigningKey(creds->secret_access_key, p.date, p.region, p.service);
  std::string expected = HexEncode(HmacSha256(key, sts));
  if (!ConstantTimeEquals(expected, absl::AsciiStrToLower(p.signature))) {
    return AwsError(
        403, "InvalidSignatureException",
        absl::StrCat("The request signature we calculated does not match the signature you "
                     "provided. Check your AWS Secret Access Key and signing method. Consult the "
                     "service documentation for details.\n\nThe Canonical String for this "
                     "request should have been\n'",
                     canonical, "'\n\nThe String-to-Sign should have been\n'", sts, "'\n"));
  }
  return SigV4Identity{p.access_key_id, p.region, p.service};
}

}  // namespace stratus::aws
