#include "services/ingest/source_policy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/path_root.h"

namespace stratus::ingest {
namespace {

namespace fs = std::filesystem;

struct DenyEntry {
  const char* cidr;
  const char* reason;
};

// Addresses a stream source may not name unless --allow-source covers them.
constexpr DenyEntry kDenied[] = {
    {"0.0.0.0/8", "'this network'"},
    {"10.0.0.0/8", "private (10/8)"},
    {"100.64.0.0/10", "shared address space (carrier NAT, cloud metadata 100.100.100.200)"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local (cloud metadata 169.254.169.254)"},
    {"168.63.129.16/32", "cloud metadata (Azure)"},
    {"172.16.0.0/12", "private (172.16/12)"},
    {"192.0.0.0/24", "IETF protocol assignments (cloud metadata 192.0.0.192)"},
    {"192.0.2.0/24", "documentation"},
    {"192.88.99.0/24", "6to4 relay"},
    {"192.168.0.0/16", "private (192.168/16)"},
    {"198.18.0.0/15", "benchmarking"},
    {"198.51.100.0/24", "documentation"},
    {"203.0.113.0/24", "documentation"},
    {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved or broadcast"},
    {"::/96", "unspecified, loopback or IPv4-compatible"},
    {"64:ff9b:1::/48", "local-use NAT64"},
    {"100::/64", "discard-only"},
    {"2001::/32", "Teredo"},
    {"2001:db8::/32", "documentation"},
    {"fc00::/7", "unique local (private; cloud metadata fd00:ec2::254)"},
    {"fe80::/10", "link-local"},
    {"fec0::/10", "site-local"},
    {"ff00::/8", "multicast"},
};

const std::vector<std::pair<Cidr, const char*>>& DenyList() {
  static const auto* list = [] {
    auto* out = new std::vector<std::pair<Cidr, const char*>>();
    for (const DenyEntry& e : kDenied) out->emplace_back(*Cidr::Parse(e.cidr), e.reason);
    return out;
  }();
  return *list;
}

IpAddress FromV4(const uint8_t* v4) {
  IpAddress a;
  a.bytes[10] = a.bytes[11] = 0xff;
  std::memcpy(&a.bytes[12], v4, 4);
  return a;
}

// The address itself and any IPv4 address its IPv6 form embeds.
std::vector<IpAddress> Views(const IpAddress& a) {
  std::vector<IpAddress> out{a};
  const auto& b = a.bytes;
  const bool zero12 = std::all_of(b.begin(), b.begin() + 12, [](uint8_t x) { return x == 0; });
  static const uint8_t kNat64[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (zero12 || std::memcmp(b.data(), kNat64, 12) == 0) {
    out.push_back(FromV4(&b[12]));  // IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d
  } else if (b[0] == 0x20 && b[1] == 0x02) {
    out.push_back(FromV4(&b[2]));  // 6to4 2002:AABB:CCDD::
  }
  return out;
}

bool HasControlOrSpace(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

absl::StatusOr<std::vector<IpAddress>> GetAddrInfo(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("host '", host, "' does not resolve: ", gai_strerror(rc)));
  }
  std::vector<IpAddress> out;
  for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
    if (p->ai_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(p->ai_addr);
      out.push_back(FromV4(reinterpret_cast<const uint8_t*>(&in->sin_addr)));
    } else if (p->ai_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(p->ai_addr);
      IpAddress a;
      std::memcpy(a.bytes.data(), &in6->sin6_addr, 16);
      out.push_back(a);
    }
  }
  freeaddrinfo(res);
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("host '", host, "' has no IP address"));
  }
  return out;
}

bool ValidHostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

}  // namespace

absl::StatusOr<IpAddress> IpAddress::Parse(std::string_view text) {
  const std::string s(text);
  uint8_t buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return FromV4(buf);
  IpAddress a;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
  return absl::InvalidArgumentError(absl::StrCat("'", s, "' is not an IP address"));
}

bool IpAddress::is_v4() const {
  return std::all_of(bytes.begin(), bytes.begin() + 10, [](uint8_t x) { return x == 0; }) &&
         bytes[10] == 0xff && bytes[11] == 0xff;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    inet_ntop(AF_INET, &bytes[12], buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
  }
  return buf;
}

absl::StatusOr<Cidr> Cidr::Parse(std::string_view text_view) {
  const std::string text(text_view);
  Cidr c;
  const size_t slash = text.find('/');
  auto base = IpAddress::Parse(text.substr(0, slash));
  if (!base.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a CIDR (such as 192.168.10.0/24 or fd00::/8)"));
  }
  c.base = *base;
  const int max = c.base.is_v4() ? 32 : 128;
  int bits = max;
  if (slash != std::string::npos &&
      (!absl::SimpleAtoi(text.substr(slash + 1), &bits) || bits < 0 || bits > max)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "': the prefix length must be 0..", max));
  }
  c.bits = c.base.is_v4() ? 96 + bits : bits;
  return c;
}

bool Cidr::Contains(const IpAddress& a) const {
  for (int i = 0; i < bits; ++i) {
    const int byte = i / 8, mask = 0x80 >> (i % 8);
    if ((a.bytes[byte] & mask) != (base.bytes[byte] & mask)) return false;
  }
  return true;
}

absl::StatusOr<SourceUri> ParseSourceUri(std::string_view uri_view) {
  const std::string uri(uri_view);
  if (uri.empty()) return absl::InvalidArgumentError("uri is empty");
  if (HasControlOrSpace(uri)) {
    return absl::InvalidArgumentError("uri holds whitespace or control characters");
  }
  SourceUri out;
  const size_t scheme_end = uri.find("://");
  if (scheme_end == std::string::npos) {
    if (uri.front() != '/') {
      return absl::InvalidArgumentError(absl::StrCat(
          "uri '", uri,
          "' is neither an absolute file path nor a URI with scheme rtsp, rtsps, rtmp, http or "
          "https"));
    }
    out.path = uri;
    return out;
  }
  out.scheme = std::string(uri.substr(0, scheme_end));
  const std::string rest = uri.substr(scheme_end + 3);
  if (out.scheme == "file") {
    if (rest.empty() || rest.front() != '/') {
      return absl::InvalidArgumentError("file URIs must be file:///absolute/path (no host)");
    }
    out.scheme.clear();
    out.path = std::string(rest);
    return out;
  }
  static const std::set<std::string> kSchemes = {"rtsp", "rtsps", "rtmp", "http", "https"};
  if (!kSchemes.count(out.scheme)) {
    return absl::InvalidArgumentError(
        absl::StrCat("uri scheme '", out.scheme,
                     "' is not supported (rtsp, rtsps, rtmp, http, https, or a local file)"));
  }
  // The host as FFmpeg's URL splitter finds it: the authority ends at the first '/', '?' or
  // '#', user information ends at its last '@', IPv6 literals are bracketed.
  std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string::npos) {
    authority = authority.substr(at + 1);
  }
  std::string port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) {
      return absl::InvalidArgumentError("uri host: '[' without ']'");
    }
    out.host = authority.substr(1, close - 1);
    uint8_t v6[16];
    if (inet_pton(AF_INET6, out.host.c_str(), v6) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("uri host '[", out.host, "]' is not an IPv6 address"));
    }
    const std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return absl::InvalidArgumentError("uri: unexpected text after ']'");
      }
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
    if (out.host.empty()) return absl::InvalidArgumentError("uri has no host");
    if (!std::all_of(out.host.begin(), out.host.end(), ValidHostChar)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "uri host '", out.host, "' may hold only letters, digits, '.', '-' and '_'"));
    }
  }
  int port_number = 0;
  if (!port.empty() &&
      (port.size() > 5 || !std::all_of(port.begin(), port.end(), absl::ascii_isdigit) ||
       !absl::SimpleAtoi(port, &port_number) || port_number < 1 || port_number > 65535)) {
    return absl::InvalidArgumentError(absl::StrCat("uri port '", port, "' is not 1..65535"));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<SourcePolicy>> SourcePolicy::Create(const Options& options) {
  auto policy = std::unique_ptr<SourcePolicy>(new SourcePolicy(options));
  for (const std::string& c : options.allowed_sources) {
    auto cidr = Cidr::Parse(c);
    if (!cidr.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--allow-source: ", cidr.status().message()));
    }
    policy->allowed_.push_back(*cidr);
  }
  for (const std::string& root : options.media_roots) {
    std::error_code ec;
    if (root.empty() || !fs::is_directory(root, ec)) {
      return absl::InvalidArgumentError(absl::StrCat("--media-root '", root, "' is not a folder"));
    }
  }
  if (!policy->options_.resolve) policy->options_.resolve = GetAddrInfo;
  return policy;
}

bool SourcePolicy::AddressAllowed(const IpAddress& a) const {
  const std::vector<IpAddress> views = Views(a);
  for (const IpAddress& v : views) {
    for (const Cidr& c : allowed_) {
      if (c.Contains(v)) return true;
    }
  }
  for (const IpAddress& v : views) {
    for (const auto& [cidr, reason] : DenyList()) {
      if (cidr.Contains(v)) return false;
    }
  }
  return true;
}

absl::StatusOr<std::string> SourcePolicy::Check(std::string_view uri) const {
  auto parsed = ParseSourceUri(uri);
  if (!parsed.ok()) return parsed.status();
  if (parsed->scheme.empty()) {
    if (options_.media_roots.empty()) {
      return absl::PermissionDeniedError(
          absl::StrCat("local file '", parsed->path,
                       "' refused: this ingest has no --media-root, so it opens no local files"));
    }
    auto path = ResolveUnderRoots(parsed->path, options_.media_roots);
    if (!path.ok()) {
      return absl::PermissionDeniedError(
          absl::StrCat("local file '", parsed->path, "' refused: it is outside the media roots (",
                       absl::StrJoin(options_.media_roots, ", "), ")"));
    }
    std::error_code ec;
    if (!fs::is_regular_file(*path, ec)) {
      return absl::InvalidArgumentError(absl::StrCat("no such file: ", parsed->path));
    }
    return path->string();
  }
  auto addresses = options_.resolve(parsed->host);
  if (!addresses.ok()) return addresses.status();
  for (const IpAddress& a : *addresses) {
    if (AddressAllowed(a)) continue;
    std::string reason = "denied";
    for (const IpAddress& v : Views(a)) {
      for (const auto& [cidr, why] : DenyList()) {
        if (cidr.Contains(v)) {
          reason = why;
          break;
        }
      }
      if (reason != "denied") break;
    }
    return absl::PermissionDeniedError(
        absl::StrCat("uri host '", parsed->host, "' resolves to ", a.ToString(), ", a ", reason,
                     " address that streams may not use; --allow-source <CIDR> allows it"));
  }
  return std::string(uri);
}

}  // namespace stratus::ingest
